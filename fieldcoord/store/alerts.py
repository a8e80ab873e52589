# SPDX-License-Identifier: GPL-3.0-or-later
"""What needs a liaison's attention, computed from the local data alone (store layer).

    for alert in alerts(store):            # most pressing first
        print(alert.level, alert.title, alert.detail)

Agreements expiring or due for review (within 90, 30 or 7 days, or past), 24/7 lines not
verified within the threshold (one alert per partner), lines whose last check call reached a
wrong number, open after-action items past due,
urgent resource requests not yet committed, open conflicts, changes refused in a sync, and
peers not reached for some days. Each alert names the record it is about (or, for conflicts,
refusals and peers, the page that shows them). The thresholds belong to the database (its
meta table), so the app and `fieldcoord alerts` agree; they are not shared with partners.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..core.errors import ValidationError

if TYPE_CHECKING:
    from .replica import Replica

# Levels, most pressing first: past a date; due within the nearest threshold; coming.
OVERDUE, SOON, NOTICE = "overdue", "soon", "notice"
LEVELS = (OVERDUE, SOON, NOTICE)
_META_KEY = "alert_thresholds"
# Requests in these states have no resources committed yet.
_UNCOMMITTED = ("requested", "acknowledged", "offered")


@dataclass(frozen=True)
class Thresholds:
    """When an alert fires. `agreement_days`: days before an agreement's review or expiry date
    (the smallest is `soon`, the others `notice`); `stale_days`: a 24/7 line not verified for
    longer is stale; `peer_days`: a peer not reached for longer is reported; `refused_days`: how
    far back refused changes are reported."""
    agreement_days: tuple[int, ...] = (90, 30, 7)
    stale_days: int = 180
    peer_days: int = 7
    refused_days: int = 30

    def __post_init__(self) -> None:
        days = [*self.agreement_days, self.stale_days, self.peer_days, self.refused_days]
        if not self.agreement_days or any(not isinstance(d, int) or isinstance(d, bool)
                                          or not 1 <= d <= 3650 for d in days):
            raise ValidationError("alert thresholds are whole numbers of days from 1 to 3650")

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> Thresholds:
        """The thresholds saved with this database (the defaults when none or unreadable)."""
        got = conn.execute("SELECT value FROM meta WHERE key = ?", (_META_KEY,)).fetchone()
        if not got:
            return cls()
        try:
            data = json.loads(got[0])
            known = {k: data[k] for k in ("stale_days", "peer_days", "refused_days")
                     if k in data}
            if "agreement_days" in data:
                known["agreement_days"] = tuple(sorted(set(data["agreement_days"]),
                                                       reverse=True))
            return cls(**known)
        except (ValueError, TypeError, ValidationError):
            return cls()

    def save(self, store: Replica) -> None:
        with store.transaction():
            store.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                               (_META_KEY, json.dumps(asdict(self))))

    def with_values(self, **values: Any) -> Thresholds:
        """A copy with some thresholds changed (checked)."""
        if "agreement_days" in values:
            values["agreement_days"] = tuple(sorted(set(values["agreement_days"]),
                                                    reverse=True))
        return replace(self, **values)


@dataclass(frozen=True)
class Alert:
    """One thing to look at: `kind` says what (agreement_review, agreement_expiry, stale_lines,
    action_overdue, urgent_request, conflicts, refused, peer); `record` the record it opens,
    or `page` the page that shows it; `due` the date it is about, `days` from today to it
    (negative: past)."""
    kind: str
    level: str
    title: str
    detail: str
    record: str | None = None
    page: str | None = None
    due: str | None = None
    days: int | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.update(out.pop("extra"))
        return out


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def _in(days: int) -> str:
    if days < 0:
        return f"{-days} day{'s' if days != -1 else ''} ago"
    if days == 0:
        return "today"
    return f"in {days} day{'s' if days != 1 else ''}"


def _agreements(conn: sqlite3.Connection, t: Thresholds, today: dt.date) -> list[Alert]:
    out = []
    horizon = max(t.agreement_days)
    for rid, title, review, expiry in conn.execute(
            "SELECT id, title, review_date, expiry_date FROM agreement WHERE _cl % 2 = 1"):
        expires = _date(expiry)
        for kind, word, day in (("agreement_expiry", "expires", expires),
                                ("agreement_review", "is due for review", _date(review))):
            if day is None or (kind == "agreement_review" and expires and expires < today):
                continue                # an expired agreement is reported as such only
            days = (day - today).days
            if days > horizon:
                continue
            past = {"agreement_expiry": "expired", "agreement_review": "is past its review date"}
            level = OVERDUE if days < 0 else SOON if days <= min(t.agreement_days) else NOTICE
            what = past[kind] if days < 0 else word
            out.append(Alert(kind, level, f"{title} {what}",
                             f"{'Expiry' if kind == 'agreement_expiry' else 'Review'} date "
                             f"{day.isoformat()}, {_in(days)}", rid, None, day.isoformat(),
                             days))
    return out


def _stale_lines(conn: sqlite3.Connection, t: Thresholds, today: dt.date) -> list[Alert]:
    """24/7 lines not verified for `stale_days`, counted per agency (a contact's line counts for
    the contact's agency)."""
    limit = (today - dt.timedelta(days=t.stale_days)).isoformat()
    rows = conn.execute(
        "SELECT a.id, a.code, a.name, count(*), "
        "sum(m.verified_on IS NULL OR m.verified_on < ?), min(m.verified_on) "
        "FROM contact_method m LEFT JOIN contact c ON c.id = m.contact "
        "JOIN agency a ON a.id = coalesce(c.agency, m.agency) "
        "WHERE m._cl % 2 = 1 AND m.duty = '24/7' AND (c.id IS NULL OR c._cl % 2 = 1) "
        "AND a._cl % 2 = 1 GROUP BY a.id", (limit,)).fetchall()
    out = []
    for aid, code, name, total, stale, oldest in rows:
        if not stale:
            continue
        level = SOON if stale == total else NOTICE
        out.append(Alert("stale_lines", level,
                         f"{code}: {stale} of {total} 24/7 line{'s' if total != 1 else ''} "
                         f"not verified in {t.stale_days} days",
                         f"{name}: call them to check the numbers still reach someone"
                         + (f" (oldest check {oldest})" if oldest else ""),
                         aid, None, None, None, {"stale": stale, "lines": total}))
    return out


def _wrong_numbers(conn: sqlite3.Connection) -> list[Alert]:
    """Lines whose last check call reached a wrong number (as their record says)."""
    return [Alert("wrong_number", SOON, f"{code or '?'}: wrong number on a 24/7 line",
                  f"{holder}: {label + ' ' if label else ''}{value} reached a wrong number on "
                  f"{checked}", rid, None, checked)
            for rid, value, label, checked, holder, code in conn.execute(
                "SELECT m.id, m.value, m.label, m.checked_on, coalesce(c.name, a.name), a.code "
                "FROM contact_method m LEFT JOIN contact c ON c.id = m.contact "
                "LEFT JOIN agency a ON a.id = coalesce(c.agency, m.agency) "
                "WHERE m._cl % 2 = 1 AND m.check_flag = 'wrong_number'")]


def _actions(conn: sqlite3.Connection, today: dt.date) -> list[Alert]:
    out = []
    for rid, text, due, who, event in conn.execute(
            "SELECT a.id, a.text, a.due_date, a.assigned_to, e.title FROM action_item a "
            "LEFT JOIN event e ON e.id = a.event WHERE a._cl % 2 = 1 AND a.status = 'open' "
            "AND a.due_date IS NOT NULL AND a.due_date < ?", (today.isoformat(),)):
        days = (_date(due) or today) - today
        short = text if len(text) <= 70 else text[:68].rsplit(" ", 1)[0] + " …"
        out.append(Alert("action_overdue", OVERDUE, f"After-action item overdue: {short}",
                         f"Due {due} ({_in(days.days)})" + (f", assigned to {who}" if who else "")
                         + (f"; from {event}" if event else ""), rid, None, due, days.days))
    return out


def _requests(conn: sqlite3.Connection) -> list[Alert]:
    out = []
    marks = ",".join("?" * len(_UNCOMMITTED))
    for rid, number, desc, status, needed, code in conn.execute(
            "SELECT r.id, r.number, r.description, r.status, r.needed_by, a.code "
            "FROM resource_request r LEFT JOIN agency a ON a.id = r.requesting_agency "
            f"WHERE r._cl % 2 = 1 AND r.priority = 'urgent' AND r.status IN ({marks}) "
            "ORDER BY r.needed_by", _UNCOMMITTED):
        label = f"{number} " if number else ""
        out.append(Alert("urgent_request", SOON, f"Urgent request {label}not yet committed",
                         f"{desc} ({code or 'no requesting agency'}, {status}"
                         + (f", needed by {needed}" if needed else "") + ")", rid))
    return out


def _sharing(conn: sqlite3.Connection, t: Thresholds, today: dt.date) -> list[Alert]:
    out = []
    open_conflicts = conn.execute("SELECT count(*) FROM (SELECT DISTINCT tbl, rid, col FROM "
                                  "conflict WHERE state = 'open')").fetchone()[0]
    if open_conflicts:
        out.append(Alert("conflicts", SOON, f"{open_conflicts} open conflict"
                         f"{'s' if open_conflicts != 1 else ''}",
                         "Edits made at the same time on different devices: choose the value "
                         "to keep", None, "conflicts", None, None, {"count": open_conflicts}))
    since = (today - dt.timedelta(days=t.refused_days)).isoformat()
    refused, last = conn.execute(
        "SELECT count(*), max(at) FROM sync_event WHERE kind IN ('refused', 'tampered') "
        "AND at >= ?", (since,)).fetchone()
    if refused:
        out.append(Alert("refused", SOON, f"Changes refused in {refused} sync"
                         f"{'s' if refused != 1 else ''} in the last {t.refused_days} days",
                         f"Last on {str(last)[:10]}: see the sync log for what and from whom",
                         None, "sync", str(last)[:10], None, {"count": refused}))
    for name, last_sync, error in conn.execute(
            "SELECT name, last_sync, last_error FROM peer ORDER BY name"):
        day = _date(last_sync)
        days = (today - day).days if day else None
        if days is not None and days <= t.peer_days:
            continue
        when = f"last reached {day.isoformat()}, {days} days ago" if day else "never reached"
        out.append(Alert("peer", NOTICE, f"Peer {name} not reached for over {t.peer_days} days"
                         if day else f"Peer {name} never reached",
                         when + (f" ({error})" if error else ""), None, "sync",
                         day.isoformat() if day else None, -days if days is not None else None,
                         {"peer": name}))
    return out


def alerts(store: Replica, thresholds: Thresholds | None = None,
           today: dt.date | None = None) -> list[Alert]:
    """Every alert, most pressing first (by level, then by date)."""
    conn = store.conn
    t = thresholds or Thresholds.load(conn)
    day = today or dt.date.today()
    found = [*_agreements(conn, t, day), *_stale_lines(conn, t, day), *_wrong_numbers(conn),
             *_actions(conn, day),
             *_requests(conn), *_sharing(conn, t, day)]
    return sorted(found, key=lambda a: (LEVELS.index(a.level),
                                        a.days if a.days is not None else 0, a.title))
