# SPDX-License-Identifier: GPL-3.0-or-later
"""What falls on which day: events and exercises, agreement review and expiry dates, and
after-action items due (store layer; the Agenda page draws a month and a week of it)."""
from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

EVENT, REVIEW, EXPIRY, DUE = "event", "review", "expiry", "due"


@dataclass(frozen=True)
class Dated:
    day: dt.date
    what: str                   # event, review, expiry, due
    title: str
    detail: str
    record: str


def _day(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text)[:10]) if text else None
    except ValueError:
        return None


def agenda(conn: sqlite3.Connection, first: dt.date, last: dt.date) -> list[Dated]:
    """Everything dated from `first` to `last` (inclusive), by day, events first. An event of
    several days is listed on each of them."""
    lo, hi = first.isoformat(), last.isoformat() + "T99"
    out: list[Dated] = []
    for rid, title, kind, start, end, location in conn.execute(
            "SELECT id, title, kind, start, end, location FROM event WHERE _cl % 2 = 1 "
            "AND start <= ? AND coalesce(end, start) >= ?", (hi, lo)):
        s, e = _day(start), _day(end) or _day(start)
        if s is None or e is None:
            continue
        time = str(start)[11:16]
        day = max(s, first)
        while day <= min(e, last):
            out.append(Dated(day, EVENT, title, ", ".join(
                x for x in ((kind or "").replace("_", " "), time if day == s else "",
                            location or "") if x), rid))
            day += dt.timedelta(days=1)
    for rid, title, review, expiry in conn.execute(
            "SELECT id, title, review_date, expiry_date FROM agreement WHERE _cl % 2 = 1 "
            "AND (review_date BETWEEN ? AND ? OR expiry_date BETWEEN ? AND ?)",
            (lo, hi, lo, hi)):
        for what, date, text in ((REVIEW, review, "review due"), (EXPIRY, expiry, "expires")):
            when = _day(date)
            if when is not None and first <= when <= last:
                out.append(Dated(when, what, title, f"agreement {text}", rid))
    for rid, text, due, who, status in conn.execute(
            "SELECT id, text, due_date, assigned_to, status FROM action_item WHERE _cl % 2 = 1 "
            "AND due_date BETWEEN ? AND ?", (lo, hi)):
        when = _day(due)
        if when is not None:
            out.append(Dated(when, DUE, text, f"after-action item {status}"
                             + (f", {who}" if who else ""), rid))
    order = {EVENT: 0, REVIEW: 1, EXPIRY: 2, DUE: 3}
    return sorted(out, key=lambda d: (d.day, order[d.what], d.title))
