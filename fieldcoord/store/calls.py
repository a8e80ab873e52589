# SPDX-License-Identifier: GPL-3.0-or-later
"""The duty-line check: which 24/7 lines to call to verify, in priority order, and what a call
found (store layer).

    for line in due_lines(store.conn, stale_days=180):
        ...                                       # call it
    record_outcome(store, line.id, "reached")     # or "wrong_number", "no_answer"

An agency's own duty lines come first (a dispatch centre or an EOC is what a partner calls in
the night), then the lines never verified, then the longest unverified. A line reached gets
today's verification date and loses any flag; a wrong number or no answer is flagged with the
day of the call and stays on the list.

The outcome goes on the line's record when this agency may change it (its own lines, lines
shared for editing), and so reaches its partners. A call to a partner's line is kept on this
replica alone (line_check): it takes the line off this replica's call list; the partner's
record, and what its partners see, stay the partner's.
"""
from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.errors import ValidationError

if TYPE_CHECKING:
    from .store import Store

REACHED, WRONG_NUMBER, NO_ANSWER = "reached", "wrong_number", "no_answer"
OUTCOMES = (REACHED, WRONG_NUMBER, NO_ANSWER)


@dataclass(frozen=True)
class DueLine:
    id: str
    kind: str                   # phone, mobile, satellite_phone, ...
    value: str
    label: str | None
    holder: str                 # the contact's name, or the agency's when the line is its own
    agency: str | None          # agency code
    own_line: bool              # the agency's own line (not a person's)
    verified_on: str | None
    flag: str | None            # wrong_number or no_answer, from the last call
    checked_on: str | None
    may_mark: bool              # this agency may record the outcome (owner or shared to edit)

    def to_dict(self) -> dict[str, object]:
        return self.__dict__.copy()


def due_lines(conn: sqlite3.Connection, stale_days: int, today: dt.date | None = None,
              home: str | None = None) -> list[DueLine]:
    """The live 24/7 lines not verified within `stale_days`, or flagged by the last call, in
    the order to call them."""
    limit = ((today or dt.date.today()) - dt.timedelta(days=stale_days)).isoformat()
    # the line's own verification and flag, or this replica's call when it is later
    rows = conn.execute(
        "SELECT id, kind, value, label, holder, code, own, verified, flag, checked, owner, scope "
        "FROM (SELECT m.id, m.kind, m.value, m.label, coalesce(c.name, a.name) AS holder, "
        "a.code, m.contact IS NULL AS own, m.owner, m.scope, "
        "CASE WHEN l.outcome = 'reached' AND l.checked_on > coalesce(m.verified_on, '') "
        "THEN l.checked_on ELSE m.verified_on END AS verified, "
        "CASE WHEN l.checked_on >= coalesce(m.checked_on, '') THEN nullif(l.outcome, "
        "'reached') ELSE m.check_flag END AS flag, "
        "max(coalesce(l.checked_on, ''), coalesce(m.checked_on, '')) AS checked "
        "FROM contact_method m LEFT JOIN contact c ON c.id = m.contact "
        "LEFT JOIN agency a ON a.id = coalesce(c.agency, m.agency) "
        "LEFT JOIN line_check l ON l.method = m.id "
        "WHERE m._cl % 2 = 1 AND m.duty = '24/7' AND (c.id IS NULL OR c._cl % 2 = 1)) "
        "WHERE verified IS NULL OR verified < ? OR flag IS NOT NULL "
        "ORDER BY flag = 'wrong_number' DESC, own DESC, verified IS NOT NULL, verified, code, "
        "holder, id", (limit,)).fetchall()
    from ..core.validate import audience, may_see, partners_may_edit
    out = []
    for (rid, kind, value, label, holder, code, own, verified, flag, checked, owner,
         scope) in rows:
        may = home is None or owner == home or (
            partners_may_edit(scope) and may_see(home, audience(owner, scope)))
        out.append(DueLine(rid, kind, value, label, holder or "", code, bool(own), verified,
                           flag, checked or None, may))
    return out


def record_outcome(store: Store, line_id: str, outcome: str,
                   today: dt.date | None = None) -> None:
    """What a call to a line found (one write; run it as an operation)."""
    if outcome not in OUTCOMES:
        raise ValidationError(f"outcome '{outcome}': say reached, wrong_number or no_answer")
    rec = store.get(line_id, "method")
    if rec.deleted:
        raise ValidationError("this line is deleted")
    day = (today or dt.date.today()).isoformat()
    if not store.may_change(rec.owner, rec.scope, "method"):
        with store.transaction():
            store.conn.execute("INSERT OR REPLACE INTO line_check (method, outcome, checked_on, "
                               "checked_by) VALUES (?, ?, ?, ?)",
                               (rec.id, outcome, day, store.home))
        return
    if outcome == REACHED:
        store.edit(line_id, {"verified_on": day, "verified_by": store.home, "check_flag": None,
                             "checked_on": day})
    else:
        store.edit(line_id, {"check_flag": outcome, "checked_on": day})
