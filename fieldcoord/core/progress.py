# SPDX-License-Identifier: GPL-3.0-or-later
"""How long work reports how far it got (core layer)."""
from __future__ import annotations

from collections.abc import Callable

# progress(label, value, maximum): `maximum` 0 when the amount of work is not known yet
Progress = Callable[[str, int, int], None]
