# SPDX-License-Identifier: GPL-3.0-or-later
"""A record's creation logged by reference to its row (store layer).

When this replica creates a record (Store.add), its change-log entry does not copy the values:
its cells are stored as BYREF, and the row's `_ver` says so (Versions.byref). A creation
received from a partner is logged so too when the row it made gives its cells back byte for
byte (the Merger checks each: the same columns in the same order, no value that a column's
affinity would turn into another type); the others are kept as they came. The entry's cells
are the row's values for every field still at the creation's version, plus `_cl` [1].
Whatever moves a field of such a row off that version keeps its creation value first
(a merge in the batch that created the row writes the waiting entry out, merge_rows):

- Store.edit puts the values it replaces in its own entry, in the local pseudo-cell `_was`
  (never sent, never in a digest: `fc_cells` leaves it out);
- every other writer (a merge, an override, a conflict resolved, a sharing change, the move to
  PostgreSQL, a snapshot leaving a record out) calls `materialize` first, which writes the
  entry out in full and clears the row's mark.

Every reader of the log's cells reads them through the SQL function `fc_cells(site, hlc, tbl,
rid, cells)`, registered on each connection (db.connect): the cells text as it would have been
stored in full. An entry is read as a reference only when it is the creation of a row that
says so (the row marked, its creation's version the entry's): never a change a partner sent as
such, as a change that names `@` or `_was` is refused on receipt (incoming.malformed). A
snapshot keeps the references (the copy holds the rows and their marks), so the new replica
reads them alike.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any, cast

from ..core import compact
from ..core import kinds as K
from .records import Cells, Versions

BYREF = '{"@":1}'
WAS = "_was"
# (the mark in a row's _ver JSON: Versions.load takes it)
MARK_LIKE = '%"@":1%'
# The change log's index by record (change_record) leaves the creations logged by reference
# out, and change_made indexes them by their version alone (schema version 22): a whole record
# id is 52 bytes an entry in an index, a version 17. A query of one record's entries names both
# parts (of_record), each with its index's condition written out, as SQLite uses a partial
# index only for a query that repeats its condition; the creation is found from the row, whose
# versions say whether it refers to it and give its version (fc_made).
NOT_BYREF = f"cells <> '{BYREF}'"


def of_record(alias: str = "") -> str:
    """SQL: the condition of the entries of one record of one table, whose parameters are
    record_args(rid, table)."""
    a = f"{alias}." if alias else ""
    return (f"({a}rid = ? AND {a}cells <> '{BYREF}' OR {a}hlc = fc_made(?, ?) AND "
            f"{a}cells = '{BYREF}' AND {a}rid = ?)")


def record_args(rid: str, table: str) -> tuple[str, str, str, str]:
    """The parameters of of_record()."""
    return (rid, table, rid, rid)


_REFS = {k.table: frozenset(f.name for f in k.fields if f.type == K.REFS)
         for k in K.KINDS.values()}
_COLUMNS = {k.table: ("owner", "scope", *(f.name for f in k.fields)) for k in K.KINDS.values()}


def columns(tbl: str) -> tuple[str, ...]:
    """The columns a creation of the table logged by reference is read from, in order."""
    return _COLUMNS[tbl]


def by_row(tbl: str) -> bool:
    """Whether a creation received for the table may be logged by reference when its row
    gives it back as it came: not for rows holding lists of ids as JSON text."""
    return tbl in _COLUMNS and not _REFS[tbl]


class Unresolved(Exception):
    """A creation entry by reference whose values cannot be found (its row is gone, or a
    writer changed a field without keeping its creation value): the log is damaged."""


def _captured(conn: Any, tbl: str, rid: str, since: int) -> dict[str, Any]:
    """{field: creation value} kept by the edits of the record after its creation (`_was`:
    only Store.edit writes it, and no change received with it is applied)."""
    out: dict[str, Any] = {}
    for (text,) in conn.execute(
            "SELECT cells FROM (SELECT hlc, cells FROM change WHERE rid = ?1 AND tbl = ?2 AND "
            f"hlc > ?3 AND status = 0 AND {NOT_BYREF} AND instr(cells, '\"_was\"') "
            "UNION ALL SELECT hlc, cells "
            "FROM change_recent WHERE rid = ?1 AND tbl = ?2 AND hlc > ?3 AND "
            "instr(cells, '\"_was\"')) ORDER BY hlc", (rid, tbl, since)):
        was = compact.loads(text).get(WAS)
        if was:
            for col, value in was[0].items():
                out.setdefault(col, value)
    return out


_LIST = {t: ", ".join(f'"{c}"' for c in cols) for t, cols in _COLUMNS.items()}
_KEYS = {t: tuple(f"{compact.string(c)}:[" for c in cols) for t, cols in _COLUMNS.items()}
_ONE = {t: f'SELECT _ver, {cols} FROM "{t}" WHERE id = ?' for t, cols in _LIST.items()}
_MANY = {t: f'SELECT id, _ver, {cols} FROM "{t}" WHERE id IN ' for t, cols in _LIST.items()}
_MADE = {t: f'SELECT _ver FROM "{t}" WHERE id = ?' for t in _LIST}
# about what a field's name adds to the length of a creation's text (`"title":[`, `],`)
_KEY_CHARS = 10


def resolve(conn: Any, tbl: str, rid: str, hlc: int, site: int) -> str | None:
    """The cells text of the creation (version `hlc`, `site`) of record `rid` logged by
    reference, or None when the row does not say its creation is that one."""
    sql = _ONE.get(tbl)
    got = conn.execute(sql, (rid,)).fetchone() if sql is not None else None
    if got is None:
        return None
    return cast("str | None", _from_row(conn, tbl, rid, hlc, site, got[0], got[1:]))


def _from_row(conn: Any, tbl: str, rid: str, hlc: int, site: int, versions: str,
              values: Sequence[Any], parsed: bool = False) -> str | Cells | None:
    """resolve() from the row's `_ver` text and values (in _COLUMNS order); with `parsed` the
    cells themselves rather than their text."""
    if not _REFS[tbl] and versions == f'{{"":[{hlc},{site}],"@":1}}':
        # (a record not edited since, the usual case)
        return _as_cells(tbl, values) if parsed else _as_made(tbl, values)
    ver = Versions.load(versions)
    if not ver.byref or ver.fields.get("") != [hlc, site]:
        return None
    return _cells(conn, tbl, rid, values, ver, parsed)


def texts(conn: Any, entries: Sequence[tuple[int, int, str, str, str]]) -> list[str]:
    """The cells texts of entries (site, hlc, tbl, rid, cells as stored), as fc_cells reads
    them, the rows of those logged by reference read a table at a time: for the readers of
    whole streams (chain hashes)."""
    return cast("list[str]", _read(conn, entries, None, False))     # (texts, not parsed)


def to_send(conn: Any, entries: Sequence[tuple[int, int, str, str, str]],
            held: dict[int, tuple[str, str, int]]) -> list[str | Cells]:
    """texts(), but the entries made from a row (the creation of a record held here, as it
    now stands) given as their cells, not as text (a sender needs the values: writing the text
    to read it back cost more than both), and noted in `held` as {index: (owner, scope, about
    the length of their text)}."""
    return _read(conn, entries, held, True)


def _read(conn: Any, entries: Sequence[tuple[int, int, str, str, str]],
          held: dict[int, tuple[str, str, int]] | None, parsed: bool) -> list[str | Cells]:
    out: list[str | Cells] = [e[4] for e in entries]
    wanted: dict[str, list[int]] = {}
    for i, (_site, _hlc, tbl, _rid, cells) in enumerate(entries):
        if cells == BYREF:
            if tbl in _MANY:
                wanted.setdefault(tbl, []).append(i)
        elif '"_was"' in cells:
            out[i] = without_was(cells)
    for tbl, at in wanted.items():
        for n in range(0, len(at), 500):
            chunk = at[n:n + 500]
            rows = {r[0]: r for r in conn.execute(
                f"{_MANY[tbl]}({','.join('?' * len(chunk))})", [entries[i][3] for i in chunk])}
            for i in chunk:
                site, hlc, _, rid, _ = entries[i]
                got = rows.get(rid)
                if got is None:
                    continue
                made = _from_row(conn, tbl, rid, hlc, site, got[1], got[2:], parsed)
                if made is not None:
                    out[i] = made
                    if held is not None:
                        # (_COLUMNS: owner, scope first; the values' length, empty ones
                        # apart, stands for the text's, with its field names)
                        values = got[2:]
                        held[i] = (got[2], got[3], len(repr(values))
                                   - 6 * values.count(None) + _KEY_CHARS * len(made))
    return out


def _cells(conn: Any, tbl: str, rid: str, values: Sequence[Any], ver: Versions,
           parsed: bool = False) -> str | Cells:
    """The creation's cells from the row's values (in _COLUMNS order) and versions: their
    text, or with `parsed` the cells."""
    fields = ver.fields
    refs = _REFS[tbl]
    if not refs and all(c in ("", "_cl") for c in fields):
        # (a record not edited since, the usual case)
        return _as_cells(tbl, values) if parsed else _as_made(tbl, values)
    was: dict[str, Any] | None = None
    out: dict[str, list[Any]] = {}
    for col, value in zip(_COLUMNS[tbl], values):
        if col in fields:               # written since: its creation value was kept then
            if was is None:
                was = _captured(conn, tbl, rid, fields[""][0])
            if col not in was:
                raise Unresolved(f"the creation value of {tbl} {rid} {col} was not kept")
            value = was[col]
        elif value is not None and col in refs:
            value = json.loads(value)
        if value is not None:
            out[col] = [value]
    out["_cl"] = [1]
    return out if parsed else compact.dumps(out)


def _as_cells(tbl: str, values: Sequence[Any]) -> Cells:
    """The creation's cells of a row none of whose fields was written since (what _as_made
    writes as text)."""
    out: Cells = {c: [v] for c, v in zip(_COLUMNS[tbl], values) if v is not None}
    out["_cl"] = [1]
    return out


def _as_made(tbl: str, values: Sequence[Any]) -> str:
    """The creation's cells of a row of a kind without lists of ids, none of its fields
    written since: the text compact.dumps gives for them, written directly when every value
    is a text or an integer (a reference read costs about a third less)."""
    parts = []
    for key, value in zip(_KEYS[tbl], values):
        kind = type(value)
        if kind is str:
            parts.append(key + compact.string(value))
        elif kind is int:
            parts.append(key + str(value))
        elif value is not None:
            out = {c: [v] for c, v in zip(_COLUMNS[tbl], values) if v is not None}
            out["_cl"] = [1]
            return compact.dumps(out)
    parts.append('"_cl":[1')
    return "{" + "],".join(parts) + "]}"


def without_was(text: str) -> str:
    cells = compact.loads(text)
    cells.pop(WAS, None)
    return compact.dumps(cells)


def register(conn: sqlite3.Connection) -> None:
    """Give `conn` the SQL function fc_cells(site, hlc, tbl, rid, cells): an entry's cells as
    every reader of the log takes them (see the module's text)."""
    def fc_cells(site: int, hlc: int, tbl: str, rid: str, cells: str | None) -> str | None:
        if cells == BYREF:
            return resolve(conn, tbl, rid, hlc, site) or cells
        if cells is not None and '"_was"' in cells:
            return without_was(cells)
        return cells
    conn.create_function("fc_cells", 5, fc_cells)

    def fc_made(tbl: str, rid: str) -> int | None:
        sql = _MADE.get(tbl)
        got = conn.execute(sql, (rid,)).fetchone() if sql is not None else None
        return None if got is None else _made(got[0])
    conn.create_function("fc_made", 2, fc_made)


def _made(versions: str | None) -> int | None:
    """The version of the creation a row's `_ver` says its entry refers to, or None."""
    if not versions or '"@":1' not in versions:
        return None
    ver = Versions.load(versions)
    return int(ver.fields[""][0]) if ver.byref else None


def materialize(conn: Any, tbl: str, rid: str) -> str | None:
    """Write out in full the creation entry of record `rid` if it is logged by reference, and
    clear its row's mark: before a writer other than Store.edit changes the row. Returns the
    row's versions as they are now, or None when there was nothing to write out."""
    sql = _ONE.get(tbl)
    got = conn.execute(sql, (rid,)).fetchone() if sql is not None else None
    if got is None:
        return None
    ver = Versions.load(got[0])
    if not ver.byref:
        return None
    hlc, site = ver.fields[""]
    text = _cells(conn, tbl, rid, got[1:], ver)
    for table in ("change", "change_recent"):
        conn.execute(f"UPDATE {table} SET cells = ? WHERE hlc = ? AND cells = '{BYREF}' "
                     "AND rid = ? AND tbl = ? AND site = ?", (text, hlc, rid, tbl, site))
    ver.byref = False
    now = ver.dump()
    conn.execute(f'UPDATE "{tbl}" SET _ver = ? WHERE id = ?', (now, rid))
    return now


def materialize_where(conn: Any, condition: str = "1") -> int:
    """materialize() every record logged by reference whose row meets the SQL `condition`
    (every one by default). Returns how many."""
    n = 0
    for kind in K.KINDS.values():
        rids = [r for (r,) in conn.execute(
            f'SELECT id FROM "{kind.table}" WHERE _ver LIKE ? AND ({condition})', (MARK_LIKE,))]
        for rid in rids:
            n += materialize(conn, kind.table, rid) is not None
    return n


def write_out(conn: Any) -> int:
    """Leave nothing logged by reference: every creation written out, every `_was` dropped
    (a hub's database moved to PostgreSQL, where readers take the cells as stored). Returns
    how many creations were written out."""
    n = materialize_where(conn)
    for table, key in (("change", "stream = ? AND seq = ?"), ("change_recent", "id = ?")):
        cols = "stream, seq" if table == "change" else "id"
        for *where, text in conn.execute(f"SELECT {cols}, cells FROM {table} WHERE "
                                         "instr(cells, '\"_was\"')").fetchall():
            conn.execute(f"UPDATE {table} SET cells = ? WHERE {key}",
                         (without_was(text), *where))
    return n
