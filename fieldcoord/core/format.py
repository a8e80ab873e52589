# SPDX-License-Identifier: GPL-3.0-or-later
"""Formatting stored values for people (core layer)."""
from __future__ import annotations

import datetime as dt

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


def local_time(stamp: str | None) -> str:
    """A stored UTC time ('2026-11-25T14:36:02Z') as local time, '2026-11-25 15:36' ('' for
    None; the text itself when it is not a time). A time without a zone is shown as it is."""
    if not stamp:
        return ""
    try:
        moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return moment.strftime("%Y-%m-%d %H:%M")
