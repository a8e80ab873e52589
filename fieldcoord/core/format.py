# SPDX-License-Identifier: GPL-3.0-or-later
"""Formatting stored values for people (core layer)."""
from __future__ import annotations

import phonenumbers


def display_phone(value: str | None) -> str:
    """A stored phone (E.164, maybe ';ext=N') in its international format; other text unchanged."""
    if not value:
        return ""
    if not value.startswith("+"):
        return value
    number, _, ext = value.partition(";ext=")
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return value
    text = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return f"{text} ext. {ext}" if ext else text


def display_number(value: float) -> str:
    """A number without float noise or trailing zeros: 151.1375, 47.1, 3."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"
