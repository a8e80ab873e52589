# SPDX-License-Identifier: GPL-3.0-or-later
"""Partner formats in and out (interop layer)."""
