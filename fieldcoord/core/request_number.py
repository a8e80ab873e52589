# SPDX-License-Identifier: GPL-3.0-or-later
"""Resource request numbers proposed as AGENCY-YEAR-SEQUENCE, e.g. HCEM-2026-004 (core layer).

A new request (ICS 213 RR block 3) is offered the requesting agency's next number of the year:
its code, the year, and one more than the highest sequence that agency already used that year
(in live and deleted requests, so a number is not handed out twice). The user may change it;
numbers in any other form (TRF-001, a state mission number) are left alone and skipped.
Pure Python: the caller passes the numbers already in use.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

DIGITS = 3            # HCEM-2026-001; the sequence grows past 999 (HCEM-2026-1000)


def request_number(code: str, year: int, sequence: int) -> str:
    """The number of the `sequence`th request of agency `code` in `year`."""
    return f"{code.strip().upper()}-{year:04d}-{sequence:0{DIGITS}d}"


def sequence_of(number: str | None, code: str, year: int) -> int | None:
    """The sequence of `number` when it has the form CODE-YEAR-N for this agency and year."""
    if not number:
        return None
    pattern = rf"{re.escape(code.strip().upper())}-{year:04d}-(\d+)"
    m = re.fullmatch(pattern, str(number).strip().upper())
    return int(m.group(1)) if m else None


def next_request_number(code: str, existing: Iterable[str | None],
                        today: dt.date | None = None) -> str:
    """The number to propose for agency `code`'s next request: CODE-YEAR-(highest used + 1).

    `existing` holds the request numbers already given (any form; None for none). The year is
    that of `today` (the local date when not given).
    """
    code = code.strip().upper()
    if not code:
        raise ValueError("a request number needs the agency's code")
    year = (today or dt.date.today()).year
    used = [n for n in (sequence_of(x, code, year) for x in existing) if n is not None]
    return request_number(code, year, max(used, default=0) + 1)
