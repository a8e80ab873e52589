# SPDX-License-Identifier: GPL-3.0-or-later
"""Everything Qt: windows, models, views and dialogs (UI layer)."""
