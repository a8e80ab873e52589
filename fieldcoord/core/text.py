# SPDX-License-Identifier: GPL-3.0-or-later
"""Text as people compare it (core layer)."""
from __future__ import annotations

import unicodedata

# letters that Unicode does not decompose into a base letter and an accent
_LETTERS = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "Ae",
                          "ß": "ss", "đ": "d", "Đ": "D"})


def strip_accents(text: str) -> str:
    """The text without accents: 'Łukasz Núñez' -> 'Lukasz Nunez'."""
    text = unicodedata.normalize("NFKD", str(text).translate(_LETTERS))
    return "".join(c for c in text if not unicodedata.combining(c))
