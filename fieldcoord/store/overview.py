# SPDX-License-Identifier: GPL-3.0-or-later
"""The numbers behind the Overview page: resources by status per partner, requests over time,
agreements on a timeline, how fresh each partner's 24/7 lines are, sync activity per peer, and
readiness per partner (store layer; the UI only draws them).

Each function reads the live records with a few grouped queries and returns plain data, so a
test can check exactly what a plot shows.
"""
from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass, field

from ..core import kinds as K

RESOURCE_STATUSES = K.RESOURCE_STATUSES
REQUEST_STATUSES = K.REQUEST_STATUSES
LAPSING_DAYS = 90           # agreements lapsing within this many days are highlighted
ACTIVITY_DAYS = 30          # sync activity counted over this many days


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text)[:10]) if text else None
    except ValueError:
        return None


@dataclass(frozen=True)
class StatusBars:
    """Counts per agency (in `agencies` order: (id, code)) for each status."""
    agencies: list[tuple[str, str]]
    counts: dict[str, list[int]]

    def total(self, index: int) -> int:
        return sum(c[index] for c in self.counts.values())


def resource_types(conn: sqlite3.Connection) -> list[str]:
    """The NIMS kinds (Team, Vehicle, ...) of live resources, for the plot's filter."""
    return [r[0] for r in conn.execute(
        "SELECT DISTINCT type_kind FROM resource WHERE _cl % 2 = 1 AND type_kind IS NOT NULL "
        "ORDER BY type_kind")]


def resources_by_status(conn: sqlite3.Connection, type_kind: str | None = None) -> StatusBars:
    """Live resources of each agency by status (agencies that have some, by code)."""
    where, args = "r._cl % 2 = 1 AND a._cl % 2 = 1", []
    if type_kind:
        where += " AND r.type_kind = ?"
        args.append(type_kind)
    rows = conn.execute(
        "SELECT a.id, a.code, r.status, sum(coalesce(r.quantity, 1)) FROM resource r "
        f"JOIN agency a ON a.id = r.agency WHERE {where} GROUP BY a.id, r.status "
        "ORDER BY a.code", args).fetchall()
    agencies = list(dict.fromkeys((aid, code) for aid, code, _, _ in rows))
    index = {aid: i for i, (aid, _) in enumerate(agencies)}
    counts = {s: [0] * len(agencies) for s in RESOURCE_STATUSES}
    for aid, _, status, n in rows:
        counts.setdefault(status or "available", [0] * len(agencies))[index[aid]] += n
    return StatusBars(agencies, counts)


@dataclass(frozen=True)
class RequestDay:
    day: dt.date
    counts: dict[str, int]          # status -> requests
    urgent: int                     # of which urgent


def requests_over_time(conn: sqlite3.Connection) -> list[RequestDay]:
    """Live requests per day they are needed by (else the day they were made), by status."""
    counts: dict[dt.date, dict[str, int]] = {}
    urgent: dict[dt.date, int] = {}
    for needed, created, status, priority in conn.execute(
            "SELECT needed_by, created_at, status, priority FROM resource_request "
            "WHERE _cl % 2 = 1"):
        day = _date(needed) or _date(created)
        if day is None:
            continue
        of_day = counts.setdefault(day, {})
        of_day[status or "requested"] = of_day.get(status or "requested", 0) + 1
        urgent[day] = urgent.get(day, 0) + (priority == "urgent")
    return [RequestDay(d, counts[d], urgent[d]) for d in sorted(counts)]


@dataclass(frozen=True)
class AgreementSpan:
    id: str
    title: str
    start: dt.date | None
    end: dt.date | None
    review: dt.date | None
    lapsing: bool                   # expires or is due for review within LAPSING_DAYS, or past


def agreement_timeline(conn: sqlite3.Connection, today: dt.date) -> list[AgreementSpan]:
    out = []
    soon = today + dt.timedelta(days=LAPSING_DAYS)
    for rid, title, start, end, review in conn.execute(
            "SELECT id, title, effective_date, expiry_date, review_date FROM agreement "
            "WHERE _cl % 2 = 1 ORDER BY coalesce(effective_date, ''), title"):
        s, e, r = _date(start), _date(end), _date(review)
        lapsing = any(d is not None and d <= soon for d in (e, r))
        out.append(AgreementSpan(rid, title, s, e, r, lapsing))
    return out


@dataclass(frozen=True)
class Freshness:
    agency: str
    code: str
    lines: int                      # 24/7 lines
    fresh: int                      # of which verified within the threshold

    @property
    def share(self) -> float:
        return self.fresh / self.lines if self.lines else 0.0


def freshness(conn: sqlite3.Connection, stale_days: int, today: dt.date) -> list[Freshness]:
    """Per agency with 24/7 lines (its own and its people's): how many were verified within
    `stale_days`."""
    limit = (today - dt.timedelta(days=stale_days)).isoformat()
    return [Freshness(aid, code, n, fresh or 0) for aid, code, n, fresh in conn.execute(
        "SELECT a.id, a.code, count(*), sum(m.verified_on >= ?) FROM contact_method m "
        "LEFT JOIN contact c ON c.id = m.contact "
        "JOIN agency a ON a.id = coalesce(c.agency, m.agency) "
        "WHERE m._cl % 2 = 1 AND m.duty = '24/7' AND (c.id IS NULL OR c._cl % 2 = 1) "
        "AND a._cl % 2 = 1 GROUP BY a.id ORDER BY a.code", (limit,))]


@dataclass(frozen=True)
class PeerActivity:
    name: str
    days_since: int | None          # since the last sync that reached it (None: never)
    syncs: int                      # syncs in the last ACTIVITY_DAYS days
    failures: int                   # failed attempts in those days


def peer_activity(conn: sqlite3.Connection, today: dt.date) -> list[PeerActivity]:
    since = (today - dt.timedelta(days=ACTIVITY_DAYS)).isoformat()
    counts = {(peer, kind): n for peer, kind, n in conn.execute(
        "SELECT peer, kind, count(*) FROM sync_event WHERE at >= ? GROUP BY peer, kind",
        (since,))}
    out = []
    for name, last in conn.execute("SELECT name, last_sync FROM peer ORDER BY name"):
        day = _date(last)
        out.append(PeerActivity(name, (today - day).days if day else None,
                                counts.get((name, "synced"), 0), counts.get((name, "error"), 0)))
    return out


@dataclass(frozen=True)
class Readiness:
    """What working with one partner rests on."""
    agency: str
    code: str
    name: str
    agreements: int                 # in force, with this agency among the parties
    channels: int                   # radio channels of the agency
    available: dict[str, int] = field(default_factory=dict)   # NIMS kind -> units available
    last_exercise: str | None = None    # the last event it took part in or hosted, done
    freshness: float | None = None      # share of its 24/7 lines verified (None: no lines)

    def row(self) -> list[str]:
        """As text, in COLUMNS order."""
        avail = ", ".join(f"{n} {k}" for k, n in sorted(self.available.items())) or "none"
        fresh = "—" if self.freshness is None else f"{round(self.freshness * 100)} %"
        return [self.code, self.name, str(self.agreements), str(self.channels), avail,
                self.last_exercise or "never", fresh]


READINESS_COLUMNS = ("Code", "Agency", "Agreements in force", "Radio channels",
                     "Available resources", "Last exercise together", "24/7 lines verified")


def readiness(conn: sqlite3.Connection, stale_days: int, today: dt.date) -> list[Readiness]:
    """One row per live agency, by code."""
    iso = today.isoformat()
    agreements = dict(conn.execute(
        "SELECT p.agency, count(DISTINCT g.id) FROM agreement_party p JOIN agreement g "
        "ON g.id = p.agreement WHERE p._cl % 2 = 1 AND g._cl % 2 = 1 "
        "AND coalesce(g.effective_date, '') <= ? AND coalesce(g.expiry_date, '9999') >= ? "
        "GROUP BY p.agency", (iso, iso)).fetchall())
    channels = dict(conn.execute("SELECT agency, count(*) FROM channel WHERE _cl % 2 = 1 "
                                 "AND agency IS NOT NULL GROUP BY agency").fetchall())
    available: dict[str, dict[str, int]] = {}
    for aid, kind, n in conn.execute(
            "SELECT agency, coalesce(type_kind, 'other'), sum(coalesce(quantity, 1)) "
            "FROM resource WHERE _cl % 2 = 1 AND status = 'available' "
            "GROUP BY agency, type_kind"):
        available.setdefault(aid, {})[kind] = n
    exercised = dict(conn.execute(
        "SELECT agency, max(day) FROM (SELECT p.agency, substr(e.start, 1, 10) AS day "
        "FROM event_participant p JOIN event e ON e.id = p.event WHERE p._cl % 2 = 1 "
        "AND e._cl % 2 = 1 AND e.start <= ? UNION ALL SELECT host_agency, substr(start, 1, 10) "
        "FROM event WHERE _cl % 2 = 1 AND start <= ? AND host_agency IS NOT NULL) "
        "GROUP BY agency", (iso + "T99", iso + "T99")).fetchall())
    fresh = {f.agency: f.share for f in freshness(conn, stale_days, today)}
    return [Readiness(aid, code, name, agreements.get(aid, 0), channels.get(aid, 0),
                      available.get(aid, {}), exercised.get(aid), fresh.get(aid))
            for aid, code, name in conn.execute(
                "SELECT id, code, name FROM agency WHERE _cl % 2 = 1 ORDER BY code")]
