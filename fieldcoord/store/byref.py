# SPDX-License-Identifier: GPL-3.0-or-later
"""A record's creation logged by reference to its row (store layer).

When this replica creates a record (Store.add), its change-log entry does not copy the values:
its cells are stored as BYREF, and the row's `_ver` says so (Versions.byref). The entry's cells
are the row's values for every field still at the creation's version, plus `_cl` [1]. Whatever
moves a field of such a row off that version keeps its creation value first:

- Store.edit puts the values it replaces in its own entry, in the local pseudo-cell `_was`
  (never sent, never in a digest: `fc_cells` leaves it out);
- every other writer (a merge, an override, a conflict resolved, a snapshot) calls
  `materialize` first, which writes the entry's cells out in full and clears the row's mark.

Every reader of the log's cells reads them through the SQL function `fc_cells(site, tbl, rid,
cells)`, registered on each connection (db.connect): the cells text as it would have been
stored in full. Only this replica's own entries are resolved so: a partner's entry is what it
sent, and a change that names `@` or `_was` is refused on receipt (incoming.malformed).
"""
from __future__ import annotations

import json
import sqlite3
from typing import Any

from ..core import compact
from ..core import kinds as K
from .records import Versions

BYREF = '{"@":1}'
WAS = "_was"
# (the mark in a row's _ver JSON: Versions.load takes it)
MARK_LIKE = '%"@":1%'

_REFS = {k.table: frozenset(f.name for f in k.fields if f.type == K.REFS)
         for k in K.KINDS.values()}
_COLUMNS = {k.table: ("owner", "scope", *(f.name for f in k.fields)) for k in K.KINDS.values()}


class Unresolved(Exception):
    """A creation entry by reference whose values cannot be found (its row is gone, or a
    writer changed a field without keeping its creation value): the log is damaged."""


def self_ord(conn: Any) -> int:
    got = conn.execute("SELECT value FROM meta WHERE key = 'self_ord'").fetchone()
    return int(got[0]) if got else 1


def _captured(conn: Any, tbl: str, rid: str, site: int) -> dict[str, Any]:
    """{field: creation value} kept by this replica's edits of the record (`_was`)."""
    out: dict[str, Any] = {}
    for (text,) in conn.execute(
            "SELECT cells FROM (SELECT hlc, cells FROM change WHERE rid = ? AND tbl = ? AND "
            "site = ? AND instr(cells, '\"_was\"') UNION ALL SELECT hlc, cells FROM change_recent "
            "WHERE rid = ? AND tbl = ? AND site = ? AND instr(cells, '\"_was\"')) ORDER BY hlc",
            (rid, tbl, site) * 2):
        was = compact.loads(text).get(WAS)
        if was:
            for col, value in was[0].items():
                out.setdefault(col, value)
    return out


def resolve(conn: Any, tbl: str, rid: str, site: int) -> str:
    """The cells text of this replica's creation entry of record `rid`, logged by reference."""
    kind = K.KIND_BY_TABLE.get(tbl)
    cur = conn.execute(f'SELECT * FROM "{tbl}" WHERE id = ?', (rid,)) if kind else None
    got = cur.fetchone() if cur is not None else None
    if cur is None or got is None:
        raise Unresolved(f"the creation of {tbl} {rid} refers to a row that is gone")
    row = dict(zip((d[0] for d in cur.description), got))
    fields = Versions.load(row["_ver"]).fields
    refs = _REFS[tbl]
    was: dict[str, Any] | None = None
    out: dict[str, list[Any]] = {}
    for col in _COLUMNS[tbl]:
        if col in fields:               # written since: its creation value was kept then
            if was is None:
                was = _captured(conn, tbl, rid, site)
            if col not in was:
                raise Unresolved(f"the creation value of {tbl} {rid} {col} was not kept")
            value = was[col]
        else:
            value = row[col]
            if value is not None and col in refs:
                value = json.loads(value)
        if value is not None:
            out[col] = [value]
    out["_cl"] = [1]
    return compact.dumps(out)


def without_was(text: str) -> str:
    cells = compact.loads(text)
    cells.pop(WAS, None)
    return compact.dumps(cells)


def register(conn: sqlite3.Connection) -> None:
    """Give `conn` the SQL function fc_cells(site, tbl, rid, cells): an entry's cells as
    every reader of the log takes them (see the module's text)."""
    def fc_cells(site: object, tbl: str, rid: str, cells: str | None) -> str | None:
        if cells == BYREF:
            if site == self_ord(conn):
                return resolve(conn, tbl, rid, site)
            return cells                # a partner's entry: as it came (malformed, refused)
        if cells is not None and '"_was"' in cells:
            return without_was(cells)
        return cells
    conn.create_function("fc_cells", 4, fc_cells)


def materialize(conn: Any, tbl: str, rid: str, site: int | None = None) -> bool:
    """Write out in full the creation entry of record `rid` if it is logged by reference, and
    clear its row's mark: before a writer other than Store.edit changes the row. Returns
    whether there was one."""
    got = conn.execute(f'SELECT _ver FROM "{tbl}" WHERE id = ?', (rid,)).fetchone()
    if got is None:
        return False
    ver = Versions.load(got[0])
    if not ver.byref:
        return False
    site = self_ord(conn) if site is None else site
    text = resolve(conn, tbl, rid, site)
    for table in ("change", "change_recent"):
        conn.execute(f"UPDATE {table} SET cells = ? WHERE rid = ? AND tbl = ? AND site = ? "
                     "AND cells = ?", (text, rid, tbl, site, BYREF))
    ver.byref = False
    conn.execute(f'UPDATE "{tbl}" SET _ver = ? WHERE id = ?', (ver.dump(), rid))
    return True


def left_in(conn: Any) -> bool:
    """Whether a database holds anything logged by reference (a snapshot made for another
    replica holds nothing of the kind: materialize_all)."""
    if conn.execute("SELECT 1 FROM change WHERE cells = ? OR instr(cells, '\"_was\"') "
                    "LIMIT 1", (BYREF,)).fetchone():
        return True
    return any(conn.execute(f'SELECT 1 FROM "{k.table}" WHERE _ver LIKE ? LIMIT 1',
                            (MARK_LIKE,)).fetchone() for k in K.KINDS.values())


def materialize_all(conn: Any) -> int:
    """Write out every creation entry logged by reference, and drop every `_was`: before the
    database is copied for another replica (whose site number differs). Returns how many."""
    site = self_ord(conn)
    n = 0
    for kind in K.KINDS.values():
        rids = [r for (r,) in conn.execute(
            f'SELECT id FROM "{kind.table}" WHERE _ver LIKE ?', (MARK_LIKE,))]
        for rid in rids:
            n += materialize(conn, kind.table, rid, site)
    for table in ("change", "change_recent"):
        key = "stream, seq" if table == "change" else "id"
        rows = conn.execute(f"SELECT {key}, cells FROM {table} WHERE "
                            "instr(cells, '\"_was\"')").fetchall()
        for *where, text in rows:
            cond = "stream = ? AND seq = ?" if table == "change" else "id = ?"
            conn.execute(f"UPDATE {table} SET cells = ? WHERE {cond}",
                         (without_was(text), *where))
    return n
