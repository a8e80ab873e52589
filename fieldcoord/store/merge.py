# SPDX-License-Identifier: GPL-3.0-or-later
"""Applying changes from other replicas: per-field merge with conflicts, causal-length deletes and
version vectors, all in one transaction of the store (store layer).

Each field is a set of *heads*: versions no later write has superseded (a write supersedes the
version it overwrote, its predecessor). The field shows the highest head; the other heads are
open conflicts. Replicas that received the same changes hold the same heads, whatever the order.
"""
from __future__ import annotations

import enum
import json
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Final

from ..core import compact, ids
from ..core import hlc as clock
from ..core import kinds as K
from ..core.validate import audience as audience_of
from ..core.validate import may_see, partners_may_edit
from .records import Cell, Cells, RowDict

if TYPE_CHECKING:
    from .store import Store

_dumps = compact.dumps
_first = itemgetter(0)


class _Unread(enum.Enum):
    UNREAD = 0


_UNREAD: Final = _Unread.UNREAD     # a record whose row this batch has not read yet
# columns a change never writes directly
_BOOKKEEPING = frozenset(("id", "_cl", "_ver", "_extra", "created_at", "updated_at", "device"))

SKEW_MS = 5 * 60 * 1000           # an incoming clock this far ahead of ours is reported
_MS_SHIFT = clock.COUNTER_BITS
PSEUDO = frozenset(("_cl", "_seen", "_copy", "_scope"))

# a stream: (origin site UUID, audience)
StreamKey = tuple[str, str]
# what a batch tells of a site: (agency, device, certificate)
SiteInfo = tuple[str | None, str | None, bytes | None]
# a field version as the change log gives it: (hlc, site UUID, or the site's number where
# this replica has no UUID for it)
Version = tuple[int, str | int]
# a change-log row as inserted: (stream, seq, tx, tbl, rid, hlc, site, cells, status)
ChangeRow = tuple[int, int, int, str, str, int, int, str, int]
# a row of a new record of a table, the columns a creation writes as they come, the columns
# holding a list of references (see Merger._layout)
_Layout = tuple[RowDict, frozenset[str], frozenset[str]]


@dataclass
class Entry:
    """One change as it travels: sites are UUIDs; cells as in the change log."""
    origin: str
    audience: str
    seq: int
    tx: int
    tbl: str
    rid: str
    hlc: int
    site: str
    cells: Cells
    status: int = 0
    # the cells as compact JSON, when a receiver made it already (to check the signature)
    text: str | None = field(default=None, compare=False, repr=False)


@dataclass
class Report:
    """What applying a batch did, for the user and for the next round."""
    applied: int = 0
    duplicates: int = 0
    fields: int = 0
    refused: list[tuple[Entry, str]] = field(default_factory=list)    # (entry, reason)
    invisible: int = 0                                # entries this agency may not hold
    gaps: set[StreamKey] = field(default_factory=set)  # (origin, audience) not contiguous
    skewed: dict[str, int] = field(default_factory=dict)  # site uuid -> ms ahead of our clock
    conflicts: int = 0
    overridden: int = 0                               # own edits kept against skewed clocks
    # (origin, audience, seq, what) refused
    tampered: list[tuple[str, str, int, str]] = field(default_factory=list)
    unverified: dict[str, int] = field(default_factory=dict)  # origin uuid -> not verifiable
    held: int = 0                                     # changes waiting for a verified head

    def merge(self, other: Report) -> None:
        self.applied += other.applied
        self.duplicates += other.duplicates
        self.fields += other.fields
        self.refused += other.refused
        self.invisible += other.invisible
        self.gaps |= other.gaps
        self.conflicts += other.conflicts
        self.overridden += other.overridden
        self.tampered += other.tampered
        self.held += other.held
        for site, n in other.unverified.items():
            self.unverified[site] = self.unverified.get(site, 0) + n
        for site, ahead in other.skewed.items():
            self.skewed[site] = max(ahead, self.skewed.get(site, 0))


class _Row:
    """A record's row as this batch sees it, and whether it must be written."""
    __slots__ = ("row", "in_db", "dirty", "gone", "shape")

    def __init__(self, row: RowDict, in_db: bool, shape: tuple[str, ...] | None = None):
        self.row, self.in_db, self.dirty, self.gone = row, in_db, False, False
        # the columns an insert must write (the others are empty); None: all of them
        self.shape = shape


def _widened(before: str, after: str) -> bool:
    """Whether an audience grew: some agency may now see what it could not before."""
    if before == "all":
        return False
    return after == "all" or bool(set(after.split(",")) - set(before.split(",")))


_SCALAR = (str, int, float, bool, type(None))
_BIG = 1 << 63


def _version_ok(cell: Cell) -> bool:
    return all(x is None or isinstance(x, (int, str)) for x in cell[1:5]) and (
        len(cell) < 6 or cell[5] is None or isinstance(cell[5], list) and all(
            isinstance(v, list) and len(v) == 2 for v in cell[5]))


_PLAIN = frozenset((str, int, float, bool, type(None)))
_REFS_OF = {k.name: frozenset(f.name for f in k.fields if f.type == K.REFS)
            for k in K.KINDS.values()}


def _malformed(kind: K.Kind, cells: Cells) -> str | None:
    """Why a change's cells cannot be applied to a record of this kind, or None. A signed
    change is its writer's; one that does not fit is refused rather than left to fail every
    receiver's sync."""
    refs = _REFS_OF.get(kind.name, ())
    for col, c in cells.items():
        # the usual cell: a plain value written with the change's own version
        if type(c) is list and len(c) == 1 and type(c[0]) in _PLAIN and col[0] != "_" \
                and col not in refs and (type(c[0]) is not int or -_BIG < c[0] < _BIG) \
                or col == "_cl" and c == [1]:
            continue
        if not isinstance(c, list) or len(c) not in (1, 3, 5, 6) or not _version_ok(c):
            return f"a malformed change (field {col})"
        v = c[0]
        if col == "_cl":
            ok = isinstance(v, int) and not isinstance(v, bool) and 0 < v < 1 << 62
        elif col == "_seen":
            ok = isinstance(v, dict) and all(isinstance(x, list) and len(x) == 2
                                             and isinstance(x[0], int) for x in v.values())
        elif col == "_copy":
            ok = isinstance(v, list) and all(isinstance(x, str) for x in v)
        elif col in ("_scope", "owner", "scope"):
            ok = v is None or isinstance(v, str)
        else:
            f = kind.field_map.get(col)
            if f is None:
                ok = True                   # a field this version does not know: kept as JSON
            elif f.type == K.REFS:
                ok = v is None or isinstance(v, list) and all(isinstance(x, str) for x in v)
            else:
                ok = isinstance(v, _SCALAR) and not (isinstance(v, int) and abs(v) >= 1 << 63)
        if not ok:
            return f"a malformed change (field {col})"
    return None


def _creator_ok(kind: K.Kind, rid: str, cells: Cells, site: str) -> bool:
    """Whether a creation may come from `site`: an agency's record has the id of its code, and
    a record with a bound id (ids.new_bound_id) is created only by the site its id names, for
    the owner its id names."""
    if kind.name == "agency":
        code = (cells.get("code") or [None])[0]
        return not isinstance(code, str) or ids.agency_id(code) == rid
    return not ids.is_bound(rid) or ids.made_by(rid, site, (cells.get("owner") or [None])[0])


def _proven_owner(rid: str, cells: Cells, writer: str) -> str | None:
    """The owner a change of a record with a bound id proves: a creation by the site the id
    names, or a history copy of that creation (its `_cl` cell carries the creation's version,
    hence the creating site), naming the owner the id names. None when it proves nothing."""
    owner = (cells.get("owner") or [None])[0]
    cl = cells.get("_cl")
    if not owner or not cl or cl[0] != 1:
        return None
    if len(cl) == 1:
        site = writer
    elif len(cl) >= 5 and cl[3] is not None:
        site = cl[4]
    else:
        return None
    return owner if isinstance(site, str) and ids.made_by(rid, site, owner) else None


def _q(name: str) -> str:
    return f'"{name}"'


class Merger:
    """Applies entries to a store inside the store's current transaction.

    Rows are read for a whole batch at once (`prefetch`) and kept here while the batch is
    merged; change-log entries and row writes are written in bulk by `flush`, which runs before
    anything reads them back from the database (a field's history, a re-sent history, commit).
    """

    def __init__(self, store: Store, sites: dict[str, SiteInfo], now_ms: int | None = None,
                 skew_ms: int = SKEW_MS, report: Report | None = None):
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
        for uuid, info in sites.items():
            self.site(uuid, None, info[1] if len(info) > 1 else None)
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
        # (table, rid) -> _Row, or None when absent
        self._rows: dict[tuple[str, str], _Row | None] = {}
        self._pending: list[ChangeRow] = []         # change-log rows not yet written
        self._logged: set[str] = set()      # rids with change-log entries (of those asked)
        self._conflicted: set[tuple[str, str]] = set()  # (table, rid) that may have conflict rows
        self._known: set[str] = set()       # rids whose _logged/_conflicted state is known
        self._layouts: dict[str, _Layout] = {}      # table -> see _layout
        # (owner, scope) -> whether this agency may see
        self._visible: dict[tuple[str, str], bool] = {}
        # (table, cells' columns, no extra) -> see _shape
        self._shapes: dict[tuple[str, tuple[str, ...], bool], tuple[str, ...]] = {}
        self._iso: dict[int, str] = {}      # second -> its ISO 8601 text
        self._any_conflicts: bool | None = None     # whether the conflict table has rows
        self._rejudge_after: list[tuple[K.Kind, str, str]] = []  # (kind, rid, owner): _rejudge

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
            names = self.columns(table)
            rids = list(wanted)
            for i in range(0, len(rids), 500):
                chunk = rids[i:i + 500]
                marks = ",".join("?" * len(chunk))
                found = {}
                for got in conn.execute(f'SELECT * FROM "{table}" WHERE id IN ({marks})', chunk):
                    found[got[0]] = got
                for rid in chunk:
                    got = found.get(rid)
                    self._rows[(table, rid)] = _Row(dict(zip(names, got)), True) if got else None
                new = [r for r in chunk if r not in self._known]
                if new:
                    marks = ",".join("?" * len(new))
                    self._logged.update(r for (r,) in conn.execute(
                        f"SELECT DISTINCT rid FROM change WHERE rid IN ({marks})", new))
                    if self._any_conflicts:
                        self._conflicted.update(conn.execute(
                            f"SELECT DISTINCT tbl, rid FROM conflict WHERE rid IN ({marks})",
                            new))
                    self._known.update(new)

    def _row(self, table: str, rid: str) -> _Row | None:
        key = (table, rid)
        if key not in self._rows:
            got = self.conn.execute(f'SELECT * FROM "{table}" WHERE id = ?', (rid,)).fetchone()
            self._rows[key] = _Row(dict(zip(self.columns(table), got)), True) if got else None
        held = self._rows[key]
        return None if held is None or held.gone else held

    def _facts(self, rid: str) -> None:
        if rid not in self._known:
            if self.conn.execute("SELECT 1 FROM change WHERE rid = ? LIMIT 1",
                                 (rid,)).fetchone():
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
            conn.executemany(f'INSERT INTO "{table}" ({", ".join(_q(c) for c in names)}) '
                             f'VALUES ({", ".join("?" * len(names))})',
                             map(itemgetter(*names), rows))
        for table, rows in updates.items():
            sets = [c for c in self.columns(table) if c != "id"]
            conn.executemany(f'UPDATE "{table}" SET {", ".join(_q(c) + " = ?" for c in sets)} '
                             "WHERE id = ?", [[row[c] for c in sets] + [row["id"]]
                                              for row in rows])
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

    def finish(self) -> Report:
        """Write the vector and advance the clock (call inside the same transaction).

        A record whose sharing scope never arrived is not known to be this agency's to hold:
        it is dropped (its changes stay in the log, and a later share sends it whole)."""
        self.flush()
        for tbl, rid, col, value, prev, above in self.overrides:
            kind = K.KIND_BY_TABLE[tbl]
            if self.conn.execute(f'SELECT 1 FROM "{tbl}" WHERE id = ?', (rid,)).fetchone():
                self.store.override(kind, rid, col, value, prev, above)
                self._merge_heads(tbl, rid, col, None)      # the conflict rows, from history
                self.report.overridden += 1
        for rid, kind in self.unknown_scope.items():
            self.conn.execute(f'DELETE FROM "{kind.table}" WHERE id = ? AND '
                              "(scope = '' OR owner = '')", (rid,))
        self.conn.executemany("UPDATE stream SET seq = ? WHERE id = ?",
                              [(seq, sid) for sid, seq in self.streams.values()])
        self.store.log.advance(min(self.max_hlc, clock.pack(self.now_ms + self.skew_ms)))
        return self.report

    # ------------------------------------------------------------------ entries
    def apply_all(self, entries: Iterable[Entry]) -> None:
        """Apply entries in order. Most entries of a large sync create a record this replica
        has never held; those take the short path here, the rest `_apply_one`."""
        report = self.report
        home = self.store.home
        ord_of, streams, logged, known = self.ord_of, self.streams, self._logged, self._known
        rows = self._rows
        kinds = K.KIND_BY_TABLE
        visible: dict[str, bool] = {}
        now_ms, skew_ms = self.now_ms, self.skew_ms
        for e in entries:
            origin = ord_of.get(e.origin) or self.site(e.origin)
            aud = e.audience
            sid_seq = streams.get((origin, aud)) or self._stream(origin, aud)
            seq = e.seq
            if seq <= sid_seq[1]:
                report.duplicates += 1
                continue
            if seq != sid_seq[1] + 1:
                report.gaps.add((e.origin, aud))
                continue
            seen = visible.get(aud)
            if seen is None:
                seen = visible[aud] = may_see(home, aud)
            if not seen:
                report.invisible += 1
                continue
            writer = ord_of.get(e.site) or self.site(e.site)
            hlc = e.hlc
            ahead = clock.millis(hlc) - now_ms
            if ahead > skew_ms:
                report.skewed[e.site] = max(ahead, report.skewed.get(e.site, 0))
            if hlc > self.max_hlc:
                self.max_hlc = hlc
            kind = kinds.get(e.tbl)
            rid = e.rid
            if rid not in known:
                self._facts(rid)
            cells = e.cells
            if e.status == 0 and kind is not None and rid not in logged \
                    and not _malformed(kind, cells) \
                    and cells.get("_cl") == [1] and "_seen" not in cells \
                    and _creator_ok(kind, rid, cells, e.site) \
                    and ((held := rows.get((kind.table, rid), _UNREAD)) is None
                         or held is not _UNREAD and held.gone
                         or held is _UNREAD and self._row(kind.table, rid) is None):
                # A creation new here: whoever creates a record names its owner, so it is
                # never refused. Its cells name no sites unless some are long.
                for cell in cells.values():
                    if len(cell) > 2:
                        break
                else:
                    self._pending.append((sid_seq[0], seq, e.tx, e.tbl, rid, hlc, writer,
                                          e.text or _dumps(cells), 0))
                    sid_seq[1] = seq
                    logged.add(rid)
                    self._create(kind, e, writer)
                    report.applied += 1
                    continue
            self._apply_one(e, kind, sid_seq, writer)

    def _apply_one(self, e: Entry, kind: K.Kind | None, sid_seq: list[int],
                   writer: int) -> None:
        """An entry that passed apply_all's checks of order and visibility."""
        status = e.status
        if status == 0 and kind is not None:
            reason = _malformed(kind, e.cells) or self._refusal(kind, e, writer)
            if reason:
                status = 1
                self.report.refused.append((e, reason))
        cells = e.cells
        local_cells = {c: (cell if len(cell) < 3 else self._local_cell(cell))
                       for c, cell in cells.items()}
        self._pending.append(
            (sid_seq[0], e.seq, e.tx, e.tbl, e.rid, e.hlc, writer, _dumps(local_cells), status))
        sid_seq[1] = e.seq
        earlier = e.rid in self._logged
        self._logged.add(e.rid)
        if status == 0 and kind is not None:
            # a record held before and dropped when it was unshared: what arrives now is only
            # a part of it (a field's history copy, a widened scope)
            dropped = earlier and self._row(kind.table, e.rid) is None
            self._merge(kind, e, writer, earlier)
            if dropped:
                held = self._row(kind.table, e.rid)
                if held is not None:
                    self._rebuild(kind, e.rid, held)
            self.report.applied += 1
            while self._rejudge_after:
                self._rejudge(*self._rejudge_after.pop())

    def _local_cell(self, cell: Cell) -> Cell:
        """A wire cell with its site UUIDs turned into this replica's site numbers."""
        out = list(cell)
        for i in (2, 4):
            if len(out) > i and isinstance(out[i], str):
                out[i] = self.site(out[i])
        if len(out) > 5 and out[5]:
            out[5] = [[h, self.site(s)] for h, s in out[5]]
        return out

    def _known_owner(self, kind: K.Kind, rid: str) -> str | None:
        """The owner of a record this replica holds or once held (from its log), else None.
        For a record whose id names its creator, only that creator's creation says (a change
        claiming an owner before the creation arrived says nothing)."""
        if self._pending:
            self.flush()
        bound = ids.is_bound(rid)
        if bound:
            for site, cells in self.conn.execute(
                    "SELECT s.uuid, c.cells FROM change c JOIN site s ON s.ord = c.site "
                    "WHERE c.rid = ? AND c.tbl = ? AND c.cells LIKE '%\"owner\"%'",
                    (rid, kind.table)):
                parsed = json.loads(cells)
                cl = parsed.get("_cl")
                if cl and len(cl) >= 5 and isinstance(cl[4], int):
                    parsed["_cl"] = [*cl[:4], self.uuid_of.get(cl[4], ""), *cl[5:]]
                owner = _proven_owner(rid, parsed, site)
                if owner:
                    return owner
        got = self._row(kind.table, rid)
        held: str | None = got.row["owner"] if got is not None and got.row["owner"] else None
        if held or bound:
            return held
        for (cells,) in self.conn.execute(
                "SELECT cells FROM change WHERE rid = ? AND tbl = ? AND status = 0 "
                "AND cells LIKE '%\"owner\"%' ORDER BY hlc", (rid, kind.table)):
            value: str | None = (json.loads(cells).get("owner") or [None])[0]
            if value:
                return value
        return None

    def _rejudge(self, kind: K.Kind, rid: str, owner: str) -> None:
        """A record's creation arrived after other changes of it, which were judged while its
        owner was unknown here: judge them again now, as a replica that received the creation
        first did, and rebuild the record from what stands (so the order of arrival never
        decides)."""
        self.flush()
        conn = self.conn
        refused = False
        for stream, seq, site, cells_text, origin, aud, hlc, tx in conn.execute(
                "SELECT c.stream, c.seq, c.site, c.cells, s.uuid, t.audience, c.hlc, c.tx "
                "FROM change c JOIN stream t ON t.id = c.stream JOIN site s ON s.ord = t.origin "
                "WHERE c.rid = ? AND c.tbl = ? AND c.status = 0", (rid, kind.table)).fetchall():
            cells = json.loads(cells_text)
            if cells.get("_cl") == [1] and ids.is_bound(rid) \
                    and _proven_owner(rid, cells, self.uuid_of.get(site, "")) == owner:
                continue                    # the creation itself
            reason = self._judge(kind, rid, cells, site, owner)
            if reason:
                conn.execute("UPDATE change SET status = 1 WHERE stream = ? AND seq = ?",
                             (stream, seq))
                self.report.refused.append((Entry(origin, aud, seq, tx, kind.table, rid, hlc,
                                                  self.uuid_of.get(site, ""), {}), reason))
                refused = True
        if not refused:
            return
        held = self._row(kind.table, rid)
        if held is not None:
            self._rebuild(kind, rid, held)

    def _rebuild(self, kind: K.Kind, rid: str, held: _Row) -> None:
        """Make a record's row again from every change of it this replica holds (each field
        from its heads, as _merge_heads computes them), so that neither the order in which
        they arrived nor a row dropped and made again in between decides what it holds."""
        if self._pending:
            self.flush()
        conn = self.conn
        row = held.row
        ver: dict[str, Any] = {"!": 1}
        cols: set[str] = set()
        cl = 0
        cl_version: list[Any] | None = None
        for hlc, site, cells_text in conn.execute(
                "SELECT hlc, site, cells FROM change WHERE rid = ? AND tbl = ? AND status = 0",
                (rid, kind.table)):
            cells = json.loads(cells_text)
            cols.update(c for c in cells if c in row and c not in _BOOKKEEPING)
            c = cells.get("_cl")
            if c and isinstance(c[0], int) and c[0] >= cl:
                version = [c[3], c[4]] if len(c) >= 5 and c[3] is not None else [hlc, site]
                if c[0] > cl or cl_version is None or version > cl_version:
                    cl, cl_version = c[0], version
        for col in list(row):
            if col not in _BOOKKEEPING and col not in cols and col != "id":
                row[col] = "" if col in ("owner", "scope") else None
        for col in cols:
            got = self._merge_heads(kind.table, rid, col, None)
            if got is not None:
                value = got[0]
                if value is None and col in ("owner", "scope"):
                    row[col] = ""           # withheld: the change that replaced it follows
                    continue
                f = kind.field_map.get(col)
                row[col] = _dumps(value) if f and f.type == K.REFS and value is not None \
                    else value
                ver[col] = [got[1][0], self.site(got[1][1]) if got[1][1] else 0]
        row["_cl"] = cl or 1
        if cl_version is not None:
            site = cl_version[1]
            ver["_cl"] = [cl_version[0], self.site(site) if isinstance(site, str) else site]
        row["_ver"] = _dumps(ver)
        held.dirty, held.gone = True, False
        self._rows[(kind.table, rid)] = held
        if row["owner"] and row["scope"] and not may_see(
                self.store.home, audience_of(row["owner"], row["scope"])):
            held.gone = True
        elif not row["scope"] or not row["owner"]:
            self.unknown_scope[rid] = kind
        else:
            self.unknown_scope.pop(rid, None)
        self.store.touch(kind, rid, row, live_row=False)

    def _refusal(self, kind: K.Kind, e: Entry, writer: int) -> str | None:
        """Why the writer's agency may not make this change, or None.

        Judged from what this replica can verify: the writer's agency comes from its
        certificate; a record held here (or once held) is never created again, its owner never
        changes, and only its owner's replicas change its sharing or pass on its history."""
        cells = e.cells
        if self.agency_of.get(writer) is None:
            return "changes from a replica whose agency is not verified are not accepted"
        creation = cells.get("_cl") == [1]
        if creation and not _creator_ok(kind, e.rid, cells, e.site):
            return (f"this {kind.label} was created by another replica: its id says so, and "
                    "no other may create it again")
        exists = e.rid in self._logged or self._row(kind.table, e.rid) is not None
        owner = self._known_owner(kind, e.rid) if exists else None
        named = (cells.get("owner") or [None])[0]
        if ids.is_bound(e.rid) and named:
            proven = _proven_owner(e.rid, cells, e.site)
            if proven is None:
                return f"this {kind.label}'s id names its owner, and it is not {named}"
            if owner is None:
                # the first proof of its owner here: what came before is judged again
                if exists:
                    self._rejudge_after.append((kind, e.rid, proven))
                owner = proven
            if creation:
                return None
        if owner is None:
            return None                     # a creation: whoever creates a record names its owner
        return self._judge(kind, e.rid, cells, writer, owner)

    def _judge(self, kind: K.Kind, rid: str, cells: Cells, writer: int, owner: str
               ) -> str | None:
        """Why a change of a record owned by `owner` may not be made by `writer`, or None."""
        agency = self.agency_of.get(writer)
        if agency is None:
            return "changes from a replica whose agency is not verified are not accepted"
        named = (cells.get("owner") or [None])[0]
        if named is not None and named != owner:
            return f"this {kind.label} belongs to {owner}, and its owner never changes"
        if agency == owner:
            return None
        current = self._row(kind.table, rid)
        same = kind.name == "agency" and "_cl" in cells and (cells.get("scope") or [None])[0] \
            in (None, current.row["scope"] if current else None)
        if not same and ("owner" in cells
                         or ("scope" in cells and cells["scope"][0] is not None)):
            # (an agency's record has the same id everywhere: a partner that created it too
            # sends the same owner and scope, which changes nothing)
            return f"only {owner} may change who sees this {kind.label}"
        if any(len(c) >= 5 and c[3] is not None for col, c in cells.items() if col != "_seen"):
            return f"only {owner}'s replicas may pass on the history of this {kind.label}"
        if kind.name == "agency":           # the shared directory: partners may correct it
            return None
        # judged by the scope the writer relied on, so every replica decides alike
        claimed = (cells.get("_scope") or [None])[0]
        if claimed and partners_may_edit(claimed) and may_see(agency, audience_of(owner, claimed)):
            return None
        return f"{agency} may not change this {kind.label}: it is maintained by {owner}"

    # ------------------------------------------------------------------ merging
    def _layout(self, kind: K.Kind) -> _Layout:
        """(a new row of the kind's table, the columns a creation writes as they come, the
        columns holding a list of references, which a row keeps as JSON text)."""
        got = self._layouts.get(kind.table)
        if got is None:
            names = self.columns(kind.table)
            blank: RowDict = dict.fromkeys(names)
            blank.update(owner="", scope="", _cl=1, _extra=None)
            written = [c for c in names if c not in _BOOKKEEPING and c not in PSEUDO]
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

    def _create(self, kind: K.Kind, e: Entry, writer: int) -> None:
        """A record's creation (its "_cl" cell is [1]), new to this replica: what `_merge` does,
        without the merging."""
        rid = e.rid
        key = (kind.table, rid)
        blank, plain, refs = self._layouts.get(kind.table) or self._layout(kind)
        cells = e.cells
        row = blank.copy()
        # the cells' values, placed in one step; what is not a plain column is sorted out after
        row.update(zip(cells, map(_first, cells.values())))
        extra: RowDict | None = None
        for col in cells.keys() - plain:
            value = cells[col][0]
            if col in refs:
                row[col] = None if value is None else _dumps(value)
                continue
            row[col] = blank.get(col)
            if col not in blank and col not in PSEUDO or col in _BOOKKEEPING and col != "_cl":
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
            row["_extra"] = _dumps(extra)
        second = (e.hlc >> _MS_SHIFT) // 1000
        when = self._iso.get(second)
        if when is None:
            when = self._iso[second] = clock.to_iso(e.hlc)
        row["created_at"] = row["updated_at"] = when
        row["device"] = self.device_of.get(writer)
        if kind.name == "log":
            row["received_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        shape_key = (kind.table, tuple(cells), extra is None)
        shape = self._shapes.get(shape_key)
        if shape is None:
            shape = self._shapes[shape_key] = self._shape(kind, cells, extra)
        before = self._rows.get(key)
        held = _Row(row, before is not None and before.in_db, shape)
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
                         lines_first=new and kind.name in ("contact", "agency"))

    def _merge(self, kind: K.Kind, e: Entry, writer: int, earlier: bool) -> None:
        conn = self.conn
        key = (kind.table, e.rid)
        held = self._row(kind.table, e.rid)
        default = [e.hlc, e.site]
        if held is None:
            row: RowDict = {n: None for n in self.columns(kind.table)}
            row.update(id=e.rid, owner="", scope="", _cl=0, _ver="{}", _extra=None)
            ver: dict[str, Any] = {}
            is_new = True
            if earlier:
                # held before and dropped when it was unshared: merge from its whole history
                ver["!"] = 1
            before = self._rows.get(key)
            held = _Row(row, before is not None and before.in_db)
        else:
            row = held.row
            ver = json.loads(row["_ver"])
            is_new = False
        # versions in UUID form for comparing; converted back when written
        ver_u: dict[str, list[Any]] = {c: [v[0], self.uuid_of.get(v[1], "")]
                                       for c, v in ver.items()
                                       if c not in ("_seen", "!") and isinstance(v, list)}
        seen = ver.get("_seen")
        before_aud = (audience_of(row["owner"], row["scope"])
                      if row["owner"] and row["scope"] else None)
        extra: RowDict = json.loads(row["_extra"]) if row.get("_extra") else {}
        changed: set[str] = set()
        for col, cell in e.cells.items():
            self.report.fields += 1
            version = [cell[3], cell[4]] if len(cell) >= 5 and cell[3] is not None else default
            prev = [cell[1], cell[2]] if len(cell) >= 3 and cell[1] is not None else None
            if col == "_cl":
                if prev is None and cell[0] == 1:
                    # the record's creation: fields it left empty carry its version
                    ver_u.setdefault("", version)
                if cell[0] > row["_cl"]:
                    row["_cl"] = cell[0]
                    ver_u["_cl"] = version
                    changed.add("_cl")
                continue
            if col == "_seen":
                seen = self._merge_seen(seen, cell[0])
                continue
            if col in ("_copy", "_scope"):
                continue
            extras = cell[5] if len(cell) > 5 and cell[5] else []
            in_table = col in row and col not in ("id", "_cl", "_ver", "_extra", "created_at",
                                                  "updated_at", "device")
            winner, slow = self._merge_cell(kind, e.rid, col, cell[0], version, prev, extras,
                                            ver_u, ver.get("!"))
            if slow:
                ver["!"] = 1          # this record has conflict rows: merge it the careful way
            if winner is not None:
                value = winner[0]
                if in_table and value is None and col in ("owner", "scope"):
                    pass                    # a withheld past value; the current one follows
                elif in_table:
                    f = kind.field_map.get(col)
                    row[col] = _dumps(value) if f and f.type == K.REFS and value is not None \
                        else value
                else:
                    extra[col] = value
                ver_u[col] = winner[1]
                changed.add(col)
        self._deleted_conflicts(kind, e, row, ver_u, seen)
        # back to site numbers
        out: dict[str, Any] = {c: [v[0], self.site(v[1]) if v[1] else 0]
                               for c, v in ver_u.items()}
        if seen is not None:
            out["_seen"] = seen
        if ver.get("!"):
            out["!"] = 1
        row["_ver"] = _dumps(out)
        row["_extra"] = json.dumps(extra, ensure_ascii=False) if extra else None
        when = clock.to_iso(e.hlc)
        device = self.device_of.get(writer)
        if is_new:
            row.update(created_at=when, updated_at=when, device=device)
            if kind.name == "log":
                row["received_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        else:
            row.update(updated_at=max(row["updated_at"] or "", when), device=device)
        held.dirty, held.gone, held.shape = True, False, None
        self._rows[key] = held
        if before_aud and row["scope"] and row["owner"] == self.store.home and _widened(before_aud,
                                                    audience_of(row["owner"], row["scope"])) \
                and may_see(self.store.home, audience_of(row["owner"], row["scope"])):
            # shared more widely: pass on what of its history the new partners cannot have
            self.flush()
            self.store.log.emit_history(audience_of(row["owner"], row["scope"]), kind.table,
                                        e.rid, self.store.log.tick(), {})
        if row["owner"] and row["scope"] and not may_see(
                self.store.home, audience_of(row["owner"], row["scope"])):
            # no longer shared with this agency: keep nothing of it
            held.gone = True
            conn.execute("DELETE FROM conflict WHERE tbl = ? AND rid = ?", (kind.table, e.rid))
        elif not row["scope"] or not row["owner"]:
            self.unknown_scope[e.rid] = kind
        self.store.touch(kind, e.rid, row, live_row=False)

    def _merge_seen(self, seen: dict[str, Any] | None,
                    incoming: dict[str, Any]) -> dict[str, Any]:
        local = {c: [v[0], self.site(v[1]) if isinstance(v[1], str) else v[1]]
                 for c, v in incoming.items()}
        if not seen:
            return local
        uuid = self.uuid_of
        for c, v in local.items():
            # versions compare by (clock, site UUID): site numbers differ from replica to replica
            if c not in seen or (v[0], uuid.get(v[1], "")) > (seen[c][0],
                                                               uuid.get(seen[c][1], "")):
                seen[c] = v
        return seen

    def _merge_cell(self, kind: K.Kind, rid: str, col: str, value: Any, version: list[Any],
                    prev: list[Any] | None, extras: list[Any], ver_u: dict[str, list[Any]],
                    flagged: Any) -> tuple[tuple[Any, list[Any]] | None, bool]:
        """Merge one incoming field version: ((value, version) of the new winner, or None when
        the field keeps its value; whether the conflict table was used)."""
        winner = ver_u.get(col) or ver_u.get("")
        if winner is not None and winner[0] == 0:
            winner = None
        if winner == version:
            return None, False
        if not flagged and not extras and (winner is None or prev == winner):
            return (value, version), False            # the common case: a later write
        return self._merge_heads(kind.table, rid, col, winner), True

    def _merge_heads(self, tbl: str, rid: str, col: str,
                     winner: list[Any] | None) -> tuple[Any, list[Any]] | None:
        """Recompute a field from every change of its record this replica holds: the heads are
        the versions no other version names as its predecessor. Order-independent."""
        versions, superseded = self.history(tbl, rid, col)
        heads = {v: val for v, val in versions.items() if v not in superseded}
        self.conn.execute("DELETE FROM conflict WHERE tbl = ? AND rid = ? AND col = ? AND "
                          "reason = 'concurrent'", (tbl, rid, col))
        if not heads:
            return None
        best = max(heads)
        for key, val in heads.items():
            if key != best and val != heads[best]:       # the same value twice is no conflict
                self._conflicted.add((tbl, rid))
                self.conn.execute(
                    "INSERT INTO conflict (tbl, rid, col, hlc, site, value, state) "
                    "VALUES (?, ?, ?, ?, ?, ?, 'open')",
                    # (a site number with no UUID here goes to site() as it is)
                    (tbl, rid, col, key[0], self.site(key[1]),  # type: ignore[arg-type]
                     json.dumps(val, ensure_ascii=False)))
                self.report.conflicts += 1
        own = [k for k in heads if k != best and k[1] == self.store.site_uuid
               and clock.millis(k[0]) <= self.now_ms + self.skew_ms]
        if own and clock.millis(best[0]) > self.now_ms + self.skew_ms:
            # the winner is ahead of our clock by more than the skew limit: it may not beat
            # this replica's own edit by clock alone
            mine = max(own)
            self.overrides.append((tbl, rid, col, heads[mine], [mine[0], self.store.self_ord],
                                   best[0]))
        if winner is not None and best == tuple(winner):
            return None
        return heads[best], list(best)

    def history(self, tbl: str, rid: str, col: str) -> tuple[dict[Version, Any], set[Version]]:
        """({version: value}, superseded versions) of one field, from the change log."""
        if self._pending:
            self.flush()
        return field_history(self.conn, tbl, rid, col, self.uuid_of)

    def _deleted_conflicts(self, kind: K.Kind, e: Entry, row: RowDict,
                           ver_u: dict[str, list[Any]], seen: dict[str, Any] | None) -> None:
        """While a record is deleted, each current field version its delete did not see is an
        edit made concurrently with the delete: kept as a conflict until restored or resolved."""
        tbl = kind.table
        if (tbl, e.rid) in self._conflicted:
            self.conn.execute("DELETE FROM conflict WHERE tbl = ? AND rid = ? AND "
                              "reason = 'deleted'", (tbl, e.rid))
        if row["_cl"] % 2 == 1 or not seen:
            return
        self._conflicted.add((tbl, e.rid))
        seen_u = {c: (v[0], self.uuid_of.get(v[1], "")) for c, v in seen.items()}
        base = seen_u.get("", (0, ""))
        unseen: dict[tuple[Any, ...], dict[str, Any]] = {}
        for col, v in ver_u.items():
            if col in ("_cl", "") or col in PSEUDO:
                continue
            if tuple(v) > seen_u.get(col, base):
                unseen.setdefault(tuple(v), {})[col] = row.get(col) if col in row else None
        for (h, s), fields in unseen.items():
            self.conn.execute(
                "INSERT INTO conflict (tbl, rid, col, hlc, site, value, state, reason) "
                "VALUES (?, ?, '_cl', ?, ?, ?, 'open', 'deleted')",
                (tbl, e.rid, h, self.site(s), json.dumps(fields, ensure_ascii=False)))


def field_history(conn: sqlite3.Connection, tbl: str, rid: str, col: str,
                  uuid: dict[int, str]) -> tuple[dict[Version, Any], set[Version]]:
    """({version: value}, superseded versions) of one field of a record, from the change log;
    versions name their site by UUID (`uuid` maps this replica's site numbers). A merge and a
    local write judge a field's heads from this same history."""
    versions: dict[Version, Any] = {}
    superseded: set[Version] = set()
    for hlc, site, cells in conn.execute(
            "SELECT hlc, site, cells FROM change WHERE rid = ? AND tbl = ? AND status = 0",
            (rid, tbl)):
        cells = json.loads(cells)
        c = cells.get(col)
        if c is None:
            continue
        if len(c) >= 5 and c[3] is not None:
            v = (c[3], uuid.get(c[4], c[4]) if isinstance(c[4], int) else c[4])
        else:
            v = (hlc, uuid.get(site, ""))
        withheld = col in (cells.get("_copy") or [[]])[0]
        if not withheld or v not in versions:
            versions[v] = None if withheld else c[0]
        if len(c) >= 3 and c[1] is not None:
            superseded.add((c[1], uuid.get(c[2], c[2]) if isinstance(c[2], int) else c[2]))
        for h, si in (c[5] if len(c) > 5 and c[5] else []):
            superseded.add((h, uuid.get(si, si) if isinstance(si, int) else si))
    return versions, superseded
