# SPDX-License-Identifier: GPL-3.0-or-later
"""Open conflicts and their resolution: resolving is an ordinary write that replicates and closes
the conflict on every replica (store layer)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..core import hlc as clock
from ..core import kinds as K
from ..core.errors import NotFound, ValidationError
from . import byref
from .records import Cells, RowDict, Versions, field_value

if TYPE_CHECKING:
    from .store import Store


@dataclass
class Conflict:
    """A field's losing concurrent value (or an edit made while its record was deleted)."""
    id: str
    kind: str
    record: str
    title: str
    field: str
    reason: str
    value: object
    version: tuple[int, str]
    device: str | None
    current: object
    current_version: tuple[int, str] | None

    @property
    def when(self) -> str:
        return clock.to_iso(self.version[0])

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "record": self.record, "title": self.title,
                "field": self.field, "reason": self.reason, "value": self.value,
                "by": self.device, "when": self.when, "current": self.current}


def conflict_id(tbl: str, rid: str, col: str, hlc: int, site: str) -> str:
    return hashlib.sha1(f"{tbl}|{rid}|{col}|{hlc}|{site}".encode()).hexdigest()[:10]


def open_conflicts(store: Store, rid: str | None = None) -> list[Conflict]:
    conn = store.conn
    sql = ("SELECT c.tbl, c.rid, c.col, c.hlc, s.uuid, s.device, c.value, c.reason "
           "FROM conflict c JOIN site s ON s.ord = c.site WHERE c.state = 'open'")
    rows = conn.execute(sql + (" AND c.rid = ?" if rid else "") + " ORDER BY c.tbl, c.rid, c.col",
                        (rid,) if rid else ()).fetchall()
    out: list[Conflict] = []
    for tbl, r, col, h, site, device, value, reason in rows:
        kind = K.KIND_BY_TABLE.get(tbl)
        if kind is None:
            continue
        rec = conn.execute(f'SELECT * FROM "{tbl}" WHERE id = ?', (r,))
        names = [d[0] for d in rec.description]
        got = rec.fetchone()
        row = dict(zip(names, got)) if got else {}
        cur_v = Versions.load(row.get("_ver")).of(col)
        current_version: tuple[int, str] | None = None
        if cur_v and col in row:
            u = conn.execute("SELECT uuid FROM site WHERE ord = ?", (cur_v[1],)).fetchone()
            current_version = (cur_v[0], u[0] if u else "")
        fld = kind.field_map.get(col)
        current = field_value(fld, row.get(col)) if fld else row.get(col)
        out.append(Conflict(conflict_id(tbl, r, col, h, site), kind.name, r,
                            str(row.get(kind.title_field) or r), col, reason,
                            json.loads(value) if value is not None else None, (h, site), device,
                            current, current_version))
    return out


def resolve(store: Store, cid: str, keep: str) -> Conflict:
    """Close conflict `cid`, keeping the current value (`keep="current"`) or the conflict's
    value (`keep=cid`). For an edit made while its record was deleted, keeping it restores the
    record; keeping the current state confirms the delete."""
    found = [c for c in open_conflicts(store) if c.id == cid]
    if not found:
        raise NotFound(f"no open conflict with id {cid} (fieldcoord conflicts lists them)")
    c = found[0]
    if keep not in ("current", cid):
        raise ValidationError(f"--keep takes 'current' or the conflict's id {cid}")
    kind = K.KINDS[c.kind]
    with store.transaction():
        cur = store.conn.execute(f'SELECT * FROM "{kind.table}" WHERE id = ?', (c.record,))
        names = [d[0] for d in cur.description]
        row = dict(zip(names, cur.fetchone()))
        store.check_may_change(kind, row)
        if c.reason == "deleted":
            if keep == cid:
                store.restore(c.record)
            else:
                _confirm_delete(store, kind, row)
            return c
        heads = [x for x in open_conflicts(store, c.record) if x.field == c.field]
        value = c.current if keep == "current" else c.value
        ver = Versions.load(row["_ver"])
        if ver.byref:
            byref.materialize(store.conn, kind.table, c.record)
            ver.byref = False
        winner = ver.of(c.field)
        others = [[x.version[0], _site(store, x.version[1])] for x in heads]
        version = store.log.tick()
        cells: Cells = {c.field: [value, *(winner or [None, None]), None, None, others]}
        store.claim(kind, row, ver, cells)
        fld = kind.field_map.get(c.field)
        stored = json.dumps(value) if fld and fld.type == K.REFS and value is not None else value
        ver.fields[c.field] = [version, store.self_ord]
        store.conn.execute(f'UPDATE "{kind.table}" SET "{c.field}" = ?, _ver = ?, updated_at = ?, '
                           "device = ? WHERE id = ?",
                           (stored, ver.dump(),
                            clock.to_iso(version), store.device, c.record))
        store.conn.execute("DELETE FROM conflict WHERE tbl = ? AND rid = ? AND col = ? AND "
                           "reason = 'concurrent'", (kind.table, c.record, c.field))
        store.log.emit(store.checker.audience(row), kind.table, c.record, version, cells)
        store.touch(kind, c.record, row, live_row=False)
    return c


def _site(store: Store, uuid: str) -> int:
    ord_: int = store.conn.execute("SELECT ord FROM site WHERE uuid = ?", (uuid,)).fetchone()[0]
    return ord_


def _confirm_delete(store: Store, kind: K.Kind, row: RowDict) -> None:
    """Record that the deleting side has now seen the concurrent edits: the delete stands."""
    ver = Versions.load(row["_ver"])
    seen = ver.written()
    ver.seen = seen
    version = store.log.tick()
    store.conn.execute(f'UPDATE "{kind.table}" SET _ver = ? WHERE id = ?',
                       (ver.dump(), row["id"]))
    store.conn.execute("DELETE FROM conflict WHERE tbl = ? AND rid = ? AND reason = 'deleted'",
                       (kind.table, row["id"]))
    store.log.emit(store.checker.audience(row), kind.table, row["id"], version, {"_seen": [seen]})


def open_count(store: Store) -> int:
    """Open conflicts as the Conflicts page shows them: one per record field (one per record
    for edits made while it was deleted)."""
    n: int = store.conn.execute("SELECT count(*) FROM (SELECT DISTINCT tbl, rid, col FROM conflict "
                              "WHERE state = 'open')").fetchone()[0]
    return n


def recount(store: Store, tbl: str, rid: str, cols: list[str]) -> None:
    """After this replica wrote fields of a record whose fields have had several heads: its
    open concurrent conflicts on those fields as a merge of the same history counts them (inside
    the write's transaction). The heads are the versions no later write names as replaced; each
    head other than the newest, holding another value, is a conflict. (Two heads of one value
    are no conflict, until a write replaces one of them: the other then is.)"""
    from .incoming import field_history
    conn = store.conn
    store.log.take_recent()             # (the history is read from change)
    uuid_of: dict[int, str] = dict(conn.execute("SELECT ord, uuid FROM site"))
    ord_of = {u: o for o, u in uuid_of.items()}
    for col in cols:
        versions, superseded = field_history(conn, tbl, rid, col, uuid_of)
        heads = {v: val for v, val in versions.items() if v not in superseded}
        conn.execute("DELETE FROM conflict WHERE tbl = ? AND rid = ? AND col = ? AND "
                     "reason = 'concurrent'", (tbl, rid, col))
        if not heads:
            continue
        best = max(heads)
        for (h, site), val in heads.items():
            if (h, site) != best and val != heads[best]:
                conn.execute("INSERT INTO conflict (tbl, rid, col, hlc, site, value, state) "
                             "VALUES (?, ?, ?, ?, ?, ?, 'open')",
                             (tbl, rid, col, h, ord_of.get(str(site), site),
                              json.dumps(val, ensure_ascii=False)))
