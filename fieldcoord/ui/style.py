# SPDX-License-Identifier: GPL-3.0-or-later
"""Colours the window uses to say something, in one place (UI layer)."""

ERROR_COLOR = "#b03a2e"          # refusals, errors, what failed
OK_COLOR = "#1e8449"             # online, verified
ERROR_STYLE = f"color: {ERROR_COLOR}; font-weight: 600;"    # an error label under a field
