# SPDX-License-Identifier: GPL-3.0-or-later
"""fieldcoord's shipped data, installed as the package fieldcoord.resources: NIMS resource
types, NIFOG channels and the demo region (read through importlib.resources)."""
