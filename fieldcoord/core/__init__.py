# SPDX-License-Identifier: GPL-3.0-or-later
"""Records, validation, ids and clocks: the pure-Python core (no I/O, no Qt)."""
