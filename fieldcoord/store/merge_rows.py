# SPDX-License-Identifier: GPL-3.0-or-later
"""The rows of the records a batch of changes names, read and written in bulk, and records
created by a change (store layer; the first layer of the Merger, see merge.py)."""
from __future__ import annotations

import time
from collections.abc import Iterable
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from ..core import hlc as clock
from ..core import kinds as K
from ..core.validate import audience as audience_of
from ..core.validate import may_see
from . import byref, ddl
from .incoming import (
    BOOKKEEPING,
    MS_SHIFT,
    PSEUDO,
    ChangeRow,
    Entry,
    HeldRow,
    Layout,
    Report,
    dumps,
    first,
    quoted,
)
from .records import Cells, RowDict, Versions

if TYPE_CHECKING:
    from .store import Store


class BatchRows:
    """A batch's view of the store: rows are read for a whole batch at once (`prefetch`) and
    kept here while it is merged; change-log entries and row writes are written in bulk by
    `flush`, which runs before anything reads them back from the database (a field's history,
    a re-sent history, commit)."""

    def __init__(self, store: Store, now_ms: int | None, skew_ms: int,
                 report: Report | None):
        self.store = store
        self.conn = store.conn
        self.now_ms = clock.wall_ms() if now_ms is None else now_ms
        self.skew_ms = skew_ms
        self.ord_of: dict[str, int] = {}
        self.uuid_of: dict[int, str] = {}
        self.agency_of: dict[int, str | None] = {}
        self.device_of: dict[int, str | None] = {}
        # a site's agency counts only once its certificate is verified (see store.identity)
        for o, u, a, d in self.conn.execute(
                "SELECT ord, uuid, CASE WHEN verified = 1 AND revoked_at IS NULL AND NOT EXISTS "
                "(SELECT 1 FROM revocation r WHERE r.site = site.uuid AND r.agency = "
                "site.agency) THEN agency END, device FROM site"):
            self.ord_of[u], self.uuid_of[o], self.agency_of[o], self.device_of[o] = o, u, a, d
        # (origin site number, audience) -> [stream id, seq]
        self.streams: dict[tuple[int, str], list[int]] = {}
        self.report = report if report is not None else Report()
        self.max_hlc = 0
        # records seen without a sharing scope yet
        self.unknown_scope: dict[str, K.Kind] = {}
        # own values to keep against skewed clocks: (tbl, rid, col, value, [hlc, own site
        # number] of the version replaced, hlc of the skewed version)
        self.overrides: list[tuple[str, str, str, Any, list[int], int]] = []
        self._names: dict[str, list[str]] = {}      # table -> its columns
        # (table, rid) -> HeldRow, or None when absent
        self._rows: dict[tuple[str, str], HeldRow | None] = {}
        self._pending: list[ChangeRow] = []         # change-log rows not yet written
        self._logged: set[str] = set()      # rids with change-log entries (of those asked)
        self._conflicted: set[tuple[str, str]] = set()  # (table, rid) that may have conflict rows
        self._known: set[str] = set()       # rids whose _logged/_conflicted state is known
        self._layouts: dict[str, Layout] = {}      # table -> see _layout
        # (owner, scope) -> whether this agency may see
        self._visible: dict[tuple[str, str], bool] = {}
        # (table, cells' columns, no extra) -> see _shape
        self._shapes: dict[tuple[str, tuple[str, ...], bool], tuple[str, ...]] = {}
        # (table, the cells' columns) -> those not written as they come (see _create)
        self._odd: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}
        self._iso: dict[int, str] = {}      # second -> its ISO 8601 text
        # Creations received and logged by reference to their row, as this replica logs its
        # own (store.byref), whose entries wait in _pending: (table, rid) -> (the entry's
        # index there, its cells text). A write of such a row in this batch writes the text
        # out first (_row), as byref.materialize does once the entry is written.
        self._by_ref: dict[tuple[str, str], tuple[int, str]] = {}
        self._log_by_ref = store.log_by_reference
        # (table, a creation's cells' columns) -> see _by_row_types
        self._by_row: dict[tuple[str, tuple[str, ...]], tuple[tuple[type, ...], ...] | None] = {}
        self._any_conflicts: bool | None = None     # whether the conflict table has rows
        self._rejudge_after: list[tuple[K.Kind, str, str]] = []  # (kind, rid, owner): _rejudge
        self._requests: set[str] = set()    # resource requests touched: workflow judged at finish

    # ------------------------------------------------------------------ batch I/O
    def columns(self, table: str) -> list[str]:
        names = self._names.get(table)
        if names is None:
            cur = self.conn.execute(f'SELECT * FROM "{table}" LIMIT 0')
            names = self._names[table] = [d[0] for d in cur.description]
        return names

    def prefetch(self, entries: Iterable[Entry]) -> None:
        """Read the rows, log presence and conflicts of every record a batch names."""
        by_table: dict[str, set[str]] = {}
        for e in entries:
            if e.tbl in K.KIND_BY_TABLE and (e.tbl, e.rid) not in self._rows:
                by_table.setdefault(e.tbl, set()).add(e.rid)
        conn = self.conn
        if self._any_conflicts is None:
            self._any_conflicts = bool(conn.execute("SELECT 1 FROM conflict LIMIT 1").fetchone())
        for table, wanted in by_table.items():
            rids = list(wanted)
            for i in range(0, len(rids), 500):
                chunk = rids[i:i + 500]
                marks = ",".join("?" * len(chunk))
                found = {}
                for got in conn.execute(f'SELECT * FROM "{table}" WHERE id IN ({marks})', chunk):
                    found[got[0]] = got
                for rid in chunk:
                    got = found.get(rid)
                    self._rows[(table, rid)] = self._held(table, got)
                new = [r for r in chunk if r not in self._known]
                if new:
                    marks = ",".join("?" * len(new))
                    self._logged.update(r for (r,) in conn.execute(
                        # (the rows were read first: a creation by reference is written out)
                        f"SELECT DISTINCT rid FROM change WHERE rid IN ({marks}) AND "
                        f"{byref.NOT_BYREF}", new))
                    if self._any_conflicts:
                        self._conflicted.update(conn.execute(
                            f"SELECT DISTINCT tbl, rid FROM conflict WHERE rid IN ({marks})",
                            new))
                    self._known.update(new)

    def _row(self, table: str, rid: str) -> HeldRow | None:
        key = (table, rid)
        if key not in self._rows:
            got = self.conn.execute(f'SELECT * FROM "{table}" WHERE id = ?', (rid,)).fetchone()
            self._rows[key] = self._held(table, got)
        held = self._rows[key]
        if held is None or held.gone:
            return None
        if '"@":1' in held.row["_ver"]:
            self._write_out(key, held)
        return held

    def _write_out(self, key: tuple[str, str], held: HeldRow) -> None:
        """Write out in full the creation entry of a row created in this Merger and logged by
        reference, before anything changes the row: in the entries waiting to be written, or
        in the log once they are (store.byref)."""
        waiting = self._by_ref.pop(key, None)
        if waiting is None:
            held.row["_ver"] = byref.materialize(self.conn, *key) or held.row["_ver"]
            return
        i, text = waiting
        entry = self._pending[i]
        self._pending[i] = (*entry[:7], text, entry[8])
        ver = Versions.load(held.row["_ver"])
        ver.byref = False
        held.row["_ver"] = ver.dump()

    def _by_row_types(self, table: str, names: tuple[str, ...], odd: tuple[str, ...]
                      ) -> tuple[tuple[type, ...], ...] | None:
        """For a creation of the table whose cells are `names`, in that order: the Python
        types each cell's value (but `_cl`'s) must have for the row it makes to give the
        cells back byte for byte as byref reads a creation from its row (the owner, the scope
        and the fields, in the row's order, none empty, each as written: a column's affinity
        would turn another type into its own, a number sent for a text field kept as text), or
        None when such cells never can (lists of ids kept as JSON, columns out of order or
        unknown here, no owner or scope)."""
        cols = byref.columns(table)
        given = names[:-1]
        out: tuple[tuple[type, ...], ...] | None = None
        if byref.by_row(table) and names[-1:] == ("_cl",) and not odd \
                and {"owner", "scope"} <= set(given) \
                and list(given) == [c for c in cols if c in set(given)]:
            declared = {c.name: c.type.upper() for c in ddl.columns(K.KIND_BY_TABLE[table])}
            out = tuple((int,) if "INT" in t else
                        (str,) if any(a in t for a in ("CHAR", "CLOB", "TEXT")) else
                        (float,) if any(a in t for a in ("REAL", "FLOA", "DOUB")) else ()
                        for t in (declared.get(c, "") for c in given))
        self._by_row[(table, names)] = out
        return out

    def _held(self, table: str, got: tuple[Any, ...] | None) -> HeldRow | None:
        if got is None:
            return None
        row = dict(zip(self.columns(table), got))
        if '"@":1' in row["_ver"]:
            # a record whose creation refers to its row: written out in full before a merge
            # changes the row (store.byref)
            row["_ver"] = byref.materialize(self.conn, table, row["id"]) or row["_ver"]
        return HeldRow(row, True)

    def _facts(self, rid: str, table: str) -> None:
        if rid not in self._known:
            if self.conn.execute(f"SELECT 1 FROM change WHERE {byref.of_record()} LIMIT 1",
                                 byref.record_args(rid, table)).fetchone():
                self._logged.add(rid)
            self._conflicted.update(self.conn.execute(
                "SELECT DISTINCT tbl, rid FROM conflict WHERE rid = ?", (rid,)))
            self._known.add(rid)

    def flush(self) -> None:
        """Write the pending change-log entries and rows."""
        conn = self.conn
        if self._pending:
            conn.executemany(
                "INSERT INTO change (stream, seq, tx, tbl, rid, hlc, site, cells, status) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", self._pending)
            self._pending = []
            self._by_ref.clear()            # (written: byref.materialize finds them now)
        inserts: dict[tuple[str, tuple[str, ...] | None], list[RowDict]] = {}
        updates: dict[str, list[RowDict]] = {}
        deletes: dict[str, list[tuple[str]]] = {}
        for key, r in self._rows.items():
            if r is None or not r.dirty:
                continue
            table = key[0]
            if r.gone:
                if r.in_db:
                    deletes.setdefault(table, []).append((key[1],))
            elif r.in_db:
                updates.setdefault(table, []).append(r.row)
            else:
                inserts.setdefault((table, r.shape), []).append(r.row)
        for (table, shape), rows in inserts.items():
            # only the columns that hold something: binding empty ones costs as much as full
            names = shape or self.columns(table)
            conn.executemany(f'INSERT INTO "{table}" ({", ".join(quoted(c) for c in names)}) '
                             f'VALUES ({", ".join("?" * len(names))})',
                             map(itemgetter(*names), rows))
        for table, rows in updates.items():
            # (an upsert: a row dropped and made again within one batch may have been deleted
            # by a flush in between, while the row object made again still says it is there)
            names = self.columns(table)
            sets = [c for c in names if c != "id"]
            conn.executemany(
                f'INSERT INTO "{table}" ({", ".join(quoted(c) for c in names)}) '
                f'VALUES ({", ".join("?" * len(names))}) ON CONFLICT (id) DO UPDATE SET '
                + ", ".join(f"{quoted(c)} = excluded.{quoted(c)}" for c in sets),
                [[row[c] for c in names] for row in rows])
        for table, rids in deletes.items():
            conn.executemany(f'DELETE FROM "{table}" WHERE id = ?', rids)
        for key, r in list(self._rows.items()):
            if r is not None and r.dirty:
                if r.gone:
                    self._rows[key] = None
                else:
                    r.in_db, r.dirty = True, False

    # ------------------------------------------------------------------ sites, streams
    def site(self, uuid: str, agency: str | None = None, device: str | None = None) -> int:
        """This replica's number for a site. What a sender claims of a site's agency is never
        taken: only a verified certificate says it (store.identity)."""
        o = self.ord_of.get(uuid)
        if o is None:
            o = self.conn.execute("INSERT INTO site (uuid, device) VALUES (?, ?)",
                                  (uuid, device)).lastrowid
            assert o is not None                # the id of the row just inserted
            self.ord_of[uuid], self.uuid_of[o], self.agency_of[o] = o, uuid, None
            self.device_of[o] = device
        return o

    def _stream(self, origin: int, audience: str) -> list[int]:
        key = (origin, audience)
        got = self.streams.get(key)
        if got is None:
            row = self.conn.execute("SELECT id, seq FROM stream WHERE origin = ? AND audience = ?",
                                    key).fetchone()
            if row is None:
                sid = self.conn.execute("INSERT INTO stream (origin, audience) VALUES (?, ?)",
                                        key).lastrowid
                row = (sid, 0)
            got = self.streams[key] = list(row)
        return got

    # ------------------------------------------------------------------ creations
    def _layout(self, kind: K.Kind) -> Layout:
        """(a new row of the kind's table, the columns a creation writes as they come, the
        columns holding a list of references, which a row keeps as JSON text)."""
        got = self._layouts.get(kind.table)
        if got is None:
            names = self.columns(kind.table)
            blank: RowDict = dict.fromkeys(names)
            blank.update(owner="", scope="", _cl=1, _extra=None)
            written = [c for c in names if c not in BOOKKEEPING and c not in PSEUDO]
            refs = frozenset(c for c in written if (f := kind.field_map.get(c)) is not None
                             and f.type == K.REFS)
            # "_cl" too: a creation's is 1, as the blank row has it
            got = self._layouts[kind.table] = (blank, frozenset(written) - refs | {"_cl"}, refs)
        return got

    def _shape(self, kind: K.Kind, cells: Cells, extra: RowDict | None) -> tuple[str, ...]:
        """The columns `_create` may fill for a creation with these cells, in table order."""
        blank = self._layout(kind)[0]
        filled = {"id", "owner", "scope", "_cl", "_ver", "created_at", "updated_at", "device",
                  "received_at", *(("_extra",) if extra else ())}
        filled.update(c for c in cells if c in blank)
        return tuple(c for c in self.columns(kind.table) if c in filled)

    def _check_visible(self, owner: str, scope: str) -> bool:
        """Whether this agency may see a record of this owner and scope (remembered)."""
        seen = self._visible[(owner, scope)] = may_see(self.store.home, audience_of(owner, scope))
        return seen

    def _create(self, kind: K.Kind, e: Entry, writer: int, stream: int) -> None:
        """A record's creation (its "_cl" cell is [1], no cell naming other versions), new to
        this replica: what `_merge` does, without the merging, and its entry in the log of
        `stream`. The entry refers to the row (store.byref) when the row gives back the cells
        as they came, byte for byte."""
        rid = e.rid
        key = (kind.table, rid)
        blank, plain, refs = self._layouts.get(kind.table) or self._layout(kind)
        cells = e.cells
        row = blank.copy()
        # the cells' values, placed in one step; what is not a plain column is sorted out after
        row.update(zip(cells, map(first, cells.values())))
        extra: RowDict | None = None
        names = tuple(cells)
        odd = self._odd.get((kind.table, names))
        if odd is None:
            odd = self._odd[(kind.table, names)] = tuple(c for c in names if c not in plain)
        for col in odd:
            value = cells[col][0]
            if col in refs:
                row[col] = None if value is None else dumps(value)
                continue
            row[col] = blank.get(col)
            if col not in blank and col not in PSEUDO or col in BOOKKEEPING and col != "_cl":
                if extra is None:
                    extra = {}
                extra[col] = value
            if col not in blank:
                del row[col]
        if row["owner"] is None:
            row["owner"] = ""           # a withheld value: the owner arrives later
        if row["scope"] is None:
            row["scope"] = ""
        row["id"] = rid
        self.report.fields += len(e.cells)
        # every field carries the creation's version: the "" entry says so for all of them,
        # as a local creation writes it
        site = self.ord_of.get(e.site) or self.site(e.site)
        row["_ver"] = f'{{"":[{e.hlc},{site}],"_cl":[{e.hlc},{site}]}}'
        if extra:
            row["_extra"] = dumps(extra)
        second = (e.hlc >> MS_SHIFT) // 1000
        when = self._iso.get(second)
        if when is None:
            when = self._iso[second] = clock.to_iso(e.hlc)
        row["created_at"] = row["updated_at"] = when
        row["device"] = self.device_of.get(writer)
        if kind.name == "log":
            row["received_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        shape_key = (kind.table, names, extra is None)
        shape = self._shapes.get(shape_key)
        if shape is None:
            shape = self._shapes[shape_key] = self._shape(kind, cells, extra)
        before = self._rows.get(key)
        held = HeldRow(row, before is not None and before.in_db, shape)
        held.dirty = True
        self._rows[key] = held
        owner, scope = row["owner"], row["scope"]
        if owner and scope:
            if not self._visible.get((owner, scope)) \
                    and not self._check_visible(owner, scope):
                held.gone = True
        else:
            self.unknown_scope[rid] = kind
        # no search document yet; its lines may have come before it, so look for them
        new = not held.in_db and not held.gone
        self.store.touch(kind, rid, row, live_row=not held.gone, created=new,
                         lines_first=new and kind.name in ("contact", "agency"), foreign=True)
        text = e.text or dumps(cells)
        # (a row without its owner or scope is dropped when the batch ends: unknown_scope)
        if self._log_by_ref and not held.gone and owner and scope:
            types = self._by_row[(kind.table, names)] if (kind.table, names) in self._by_row \
                else self._by_row_types(kind.table, names, odd)
            if types is not None and type(cells["_cl"][0]) is int:
                for col, allowed in zip(names, types):      # (all but "_cl", the last)
                    cell = cells[col]
                    if len(cell) != 1 or type(cell[0]) not in allowed:
                        break
                else:
                    # the row gives these cells back as they came (see _by_row_types)
                    row["_ver"] = f'{{"":[{e.hlc},{site}],"@":1}}'
                    self._by_ref[key] = (len(self._pending), text)
                    text = byref.BYREF
        self._pending.append((stream, e.seq, e.tx, e.tbl, rid, e.hlc, writer, text, 0))
