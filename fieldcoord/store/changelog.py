# SPDX-License-Identifier: GPL-3.0-or-later
"""This replica's change log: its clock, its streams and their signed hash chains (store layer).

Every write (a local edit through `Store`, a merge that keeps this replica's own value, a
conflict resolved) takes a version from `tick()` and appends its entry with `emit()`, inside a
`Store.transaction()`. What a transaction changed is written back by `flush()` just before COMMIT:
the clock where a received version moved it, and, after a sync's transaction, each of this
replica's streams' position and chain hash (`settle()`). A small local write leaves its stream's
row alone: the stream's newest entry is its position (OWN_POSITION), and the row and chain hash
catch up when the entries are next sent or a sync writes. `Store` and `Merger` use nothing else
of the log; both go through this class.
"""
from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

from ..core import compact
from ..core import hlc as clock
from . import byref, identity, trust
from .records import Cells

if TYPE_CHECKING:
    from .replica import Replica

_json = compact.dumps
PSEUDO_CELLS = ("_seen", "_copy", "_scope")


# A stream's position (`t`, a row of stream): its newest entry for this replica's own streams,
# whose rows small local writes leave behind until settle(); the row's for the others. `?` is
# this replica's site number.
OWN_POSITION = ("CASE WHEN t.origin = ? THEN max(t.seq, coalesce((SELECT max(c.seq) FROM change "
                "c WHERE c.stream = t.id), 0), coalesce((SELECT max(r.seq) FROM change_recent r "
                "WHERE r.stream = t.id), 0)) ELSE t.seq END")
# The same, this replica's site number read from meta in the statement itself.
OWN_POSITION_HERE = OWN_POSITION.replace(
    "?", "coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'self_ord'), 1)")


_INSERT_CHANGE = ("INSERT INTO change (stream, seq, tx, tbl, rid, hlc, site, cells) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
_INSERT_RECENT = _INSERT_CHANGE.replace("INTO change", "INTO change_recent")
# The entries of small writes waiting in change_recent, moved into change in the order written.
TAKE_RECENT = ("INSERT INTO change (stream, seq, tx, tbl, rid, hlc, site, cells) SELECT stream, "
               "seq, tx, tbl, rid, hlc, site, cells FROM change_recent ORDER BY id",
               "DELETE FROM change_recent")


def store_head(conn: sqlite3.Connection, sid: int, seq: int, h: bytes, sig: bytes) -> None:
    """Keep a signed head of a stream, dropping the older heads of its block of 100."""
    block = seq // trust.HEAD_EVERY * trust.HEAD_EVERY
    conn.execute("DELETE FROM head WHERE stream = ? AND seq >= ? AND seq < ?", (sid, block, seq))
    conn.execute("INSERT OR REPLACE INTO head (stream, seq, hash, sig) VALUES (?, ?, ?, ?)",
                 (sid, seq, h, sig))


# Pending.mark(): (seqs, new_streams, recent, stage)
Mark = tuple[dict[int, int], dict[str, int], int, bool]
# Entries a transaction finds waiting in change_recent beyond which it moves them to change
# before writing, whatever it is: a program writing without pause never reaches an idle moment.
RECENT_MAX = 1_000


class Pending:
    """What one transaction has written to the log and not yet flushed."""
    __slots__ = ("hlc", "txid", "seqs", "start", "new_streams", "clock_moved", "recent", "stage")

    def __init__(self, hlc: int, seqs: dict[int, int], recent: int):
        self.hlc = hlc
        self.txid = 0
        self.seqs = seqs                            # stream id -> last seq written
        self.start: dict[int, int] = {}             # stream id read here -> its seq then
        self.new_streams: dict[str, int] = {}       # audience -> stream made in this tx
        self.clock_moved = False                    # a remote clock advanced ours
        self.recent = recent                        # entries in change_recent
        self.stage = False                          # emit() appends to change_recent

    def mark(self) -> Mark:
        """The state to come back to when a savepoint rolls back."""
        return dict(self.seqs), dict(self.new_streams), self.recent, self.stage

    def back_to(self, mark: Mark) -> None:
        self.seqs, self.new_streams, self.recent, self.stage = mark


class ChangeLog:
    """The change log of the replica behind `store` (its connection, site and device key).

    `pending` is set from `begin()` to `committed()` or `forget()`: the methods that write
    (flush, tick, advance, emit...) are called only inside a transaction.
    """

    def __init__(self, store: Replica):
        self.store = store
        self.conn = store.conn
        self.pending: Pending | None = None
        # valid while no other connection writes (Store.transaction checks data_version)
        self._streams: dict[str, int] = {}
        self._seqs: dict[int, int] = {}
        self._site_uuids: dict[int, str] = {}
        self._clock: int | None = None
        self._recent: int | None = None     # entries in change_recent

    # ------------------------------------------------------------ transactions
    def begin(self, small: bool = False) -> None:
        """Start a transaction's bookkeeping. A `small` one (a single record's write of this
        replica's own) appends its entries to change_recent; any other takes the entries
        waiting there into change first, so that whatever it reads finds them."""
        if self._recent is None:
            # (a regional hub's writes are never small, and it is the only writer of its log)
            self._recent = self.conn.execute("SELECT count(*) FROM change_recent").fetchone()[0] \
                if self.store.lazy_streams else 0
        if self._clock is None:
            # the clock row holds what was received; this replica's own latest version is its
            # streams' newest entry (local writes leave the row alone: one page less each)
            self._clock = self.conn.execute(
                "SELECT max((SELECT hlc FROM clock), coalesce((SELECT max((SELECT c.hlc FROM "
                "change c WHERE c.stream = t.id ORDER BY c.seq DESC LIMIT 1)) FROM stream t "
                "WHERE t.origin = ?), 0), coalesce((SELECT max(hlc) FROM change_recent), 0))",
                (self.store.self_ord,)).fetchone()[0]
        self.pending = p = Pending(self._clock, dict(self._seqs), self._recent)
        if small and self.store.lazy_streams and p.recent < RECENT_MAX:
            p.stage = True
        elif p.recent:
            self.take_recent()

    def committed(self) -> None:
        p = self.pending
        assert p is not None
        self._streams.update(p.new_streams)
        self._seqs, self._clock, self._recent = p.seqs, p.hlc, p.recent
        self.pending = None

    def forget(self) -> None:
        """Drop every cache (a rollback, or another connection wrote)."""
        self._streams.clear()
        self._seqs, self._clock = {}, None
        self._site_uuids = {}
        self._recent = None
        self.pending = None

    def flush(self, settle: bool = True) -> None:
        """Write the clock where a received version moved it, and with `settle` bring this
        replica's streams' rows up to date. A small local write passes settle=False: its
        stream's row (a page at every commit) and chain hash wait until the entries are sent
        or a sync writes. Heads are signed when entries are about to be sent (sign_newest) and
        every HEAD_EVERY entries, not at every commit: a signature per local write cost a third
        of an edit."""
        p = self.pending
        assert p is not None
        if p.clock_moved:
            self.conn.execute("UPDATE clock SET hlc = ? WHERE id = 1", (p.hlc,))
        if settle and (p.txid or p.new_streams or self.store.lazy_streams and self.behind()):
            self.settle()

    def written(self) -> dict[int, int]:
        """{stream: its newest position} of this replica's streams this transaction wrote."""
        p = self.pending
        assert p is not None
        return {sid: seq for sid, seq in p.seqs.items() if seq != self._seqs.get(sid)}

    def before(self) -> dict[int, int]:
        """{stream: its position before this transaction's first entry} of the streams of this
        replica's that the transaction wrote."""
        p = self.pending
        assert p is not None
        return {sid: self._seqs[sid] if sid in self._seqs else p.start[sid]
                for sid, seq in p.seqs.items() if seq != self._seqs.get(sid)}

    def behind(self) -> bool:
        """Whether a stream of this replica's holds entries past its row's position."""
        return self.conn.execute(
            "SELECT 1 FROM stream t WHERE t.origin = ? AND coalesce((SELECT max(c.seq) FROM "
            "change c WHERE c.stream = t.id), 0) > t.seq LIMIT 1",
            (self.store.self_ord,)).fetchone() is not None

    def settle(self) -> int:
        """Bring the rows of this replica's streams up to their newest entries: position and
        chain hash, a head signed every HEAD_EVERY entries (inside a transaction). Returns the
        number of entries taken in."""
        self.take_recent()
        n = 0
        for sid, audience, seq, h, top in self.conn.execute(
                "SELECT t.id, t.audience, t.seq, t.hash, (SELECT max(c.seq) FROM change c "
                "WHERE c.stream = t.id) FROM stream t WHERE t.origin = ?",
                (self.store.self_ord,)).fetchall():
            if not top or top <= seq:
                continue
            h = bytes(h) if h else trust.ZERO
            rows = self.conn.execute("SELECT seq, tx, tbl, rid, hlc, site, cells FROM change "
                                     "WHERE stream = ? AND seq > ? ORDER BY seq",
                                     (sid, seq)).fetchall()
            texts = byref.texts(self.conn, [(r[5], r[4], r[2], r[3], r[6]) for r in rows])
            for (at, tx, tbl, rid, hlc, site, _), cells in zip(rows, texts):
                h = trust.chain(h, identity.stored_digest((tx, tbl, rid, hlc, site, cells),
                                                          self._site_uuid))
                if at % trust.HEAD_EVERY == 0:
                    self._sign_head(sid, audience, at, h)
            self.conn.execute("UPDATE stream SET seq = ?, hash = ? WHERE id = ?", (top, h, sid))
            n += top - seq
        return n

    def due(self) -> bool:
        """Whether a stream of this replica's has entries past its newest signed head (or past
        its row's position): sign_newest has work before they are sent."""
        ord_ = self.store.self_ord
        lazy = self.store.lazy_streams
        return self.conn.execute(
            f"SELECT 1 FROM stream t WHERE t.origin = ? AND {OWN_POSITION if lazy else 't.seq'} "
            "> coalesce((SELECT max(seq) FROM head h WHERE h.stream = t.id), 0) LIMIT 1",
            (ord_, ord_) if lazy else (ord_,)).fetchone() is not None

    def unsigned_streams(self) -> list[tuple[int, str, int, bytes]]:
        """(stream, audience, seq, chain hash) of this replica's streams whose newest entry
        has no signed head yet."""
        return [(sid, aud, seq, bytes(h)) for sid, aud, seq, h in self.conn.execute(
            "SELECT t.id, t.audience, t.seq, t.hash FROM stream t WHERE t.origin = ? "
            "AND t.seq > 0 AND t.seq > coalesce((SELECT max(seq) FROM head h "
            "WHERE h.stream = t.id), 0)", (self.store.self_ord,))]

    def sign_newest(self) -> int:
        """Sign the newest entry of each of this replica's streams that lacks a head (inside
        a transaction, its streams settled first); returns how many heads were signed."""
        self.settle()
        todo = self.unsigned_streams()
        for sid, audience, seq, h in todo:
            self._sign_head(sid, audience, seq, h)
        return len(todo)

    # ------------------------------------------------------------ the clock
    def tick(self) -> int:
        """The next version of this replica (the transaction's id is its first)."""
        p = self.pending
        assert p is not None
        p.hlc = clock.tick(p.hlc)
        if not p.txid:
            p.txid = p.hlc
        return p.hlc

    def advance(self, seen: int) -> None:
        """Move the clock past a version received from another replica."""
        p = self.pending
        assert p is not None
        if seen > p.hlc:
            p.hlc = seen
            p.clock_moved = True

    # ------------------------------------------------------------ entries
    def _stream(self, audience: str, p: Pending) -> int:
        sid = self._streams.get(audience) or p.new_streams.get(audience)
        if sid is None:
            origin = self.store.self_ord
            row = self.conn.execute("SELECT id FROM stream WHERE origin = ? AND audience = ?",
                                    (origin, audience)).fetchone()
            if row:
                sid = row[0]
                self._streams[audience] = sid
            else:
                sid = self.conn.execute("INSERT INTO stream (origin, audience) VALUES (?, ?)",
                                        (origin, audience)).lastrowid
                assert sid is not None              # the id of the row just inserted
                p.new_streams[audience] = sid
        return sid

    def emit(self, audience: str, table: str, rid: str, version: int,
             cells: Cells | str) -> None:
        """Append one change entry to this replica's stream for `audience` (its chain hash is
        computed when the stream is settled). `cells` as text: stored as it is (byref.BYREF)."""
        p = self.pending
        assert p is not None
        sid = self._stream(audience, p)
        seqs = p.seqs
        if sid not in seqs:
            seqs[sid] = p.start[sid] = self.conn.execute(
                "SELECT max(coalesce((SELECT max(seq) FROM change WHERE stream = ?), 0), "
                "coalesce((SELECT max(seq) FROM change_recent WHERE stream = ?), 0))",
                (sid, sid)).fetchone()[0]
        seq = seqs[sid] = seqs[sid] + 1
        if p.stage:
            p.recent += 1
        self.conn.execute(
            _INSERT_RECENT if p.stage else _INSERT_CHANGE,
            (sid, seq, p.txid, table, rid, version, self.store.self_ord,
             cells if type(cells) is str else _json(cells)))

    def take_recent(self) -> int:
        """Move the entries waiting in change_recent into change, in the order written (inside
        a transaction); the rest of the transaction appends to change. Returns how many."""
        p = self.pending
        assert p is not None
        p.stage = False
        if not p.recent:
            return 0
        for statement in TAKE_RECENT:
            self.conn.execute(statement)
        n, p.recent = p.recent, 0
        return n

    def emit_history(self, audience: str, table: str, rid: str, version: int,
                     now: Cells) -> None:
        """Copy a record's past changes to a stream: every version with its predecessor, so a
        newcomer merges it exactly; values that later writes (or the write `now` about to
        follow) superseded are withheld."""
        # all of it: partners who lost sight of the record earlier dropped what they had
        self.take_recent()
        past = self.conn.execute("SELECT hlc, site, fc_cells(site, hlc, tbl, rid, cells) "
                                 f"FROM change WHERE {byref.of_record()} AND tbl = ? "
                                 "AND status = 0 ORDER BY hlc",
                                 (*byref.record_args(rid, table), table)).fetchall()
        parsed = [(h, si, json.loads(c)) for h, si, c in past]
        superseded: set[tuple[str, int, int]] = set()      # (column, hlc, site number)
        for _h, _si, cells in parsed + [(version, self.store.self_ord, now)]:
            for col, c in cells.items():
                if col not in PSEUDO_CELLS and len(c) >= 3 and c[1] is not None:
                    superseded.add((col, c[1], c[2]))
                for ph, ps in (c[5] if col != "_seen" and len(c) > 5 and c[5] else []):
                    superseded.add((col, ph, ps))
        for h, si, cells in parsed:
            copy: Cells = {}
            withheld: list[str] = []
            for col, c in cells.items():
                if col in PSEUDO_CELLS:
                    if col == "_seen":
                        copy[col] = c
                    continue
                vh, vs = (c[3], c[4]) if len(c) >= 5 and c[3] is not None else (h, si)
                gone = (col, vh, vs) in superseded and col != "_cl"
                cell = [None if gone else c[0], c[1] if len(c) > 1 else None,
                        c[2] if len(c) > 2 else None, vh, vs]
                if len(c) > 5 and c[5]:
                    cell.append(c[5])
                copy[col] = cell
                if gone:
                    withheld.append(col)
            if withheld:
                copy["_copy"] = [withheld]
            self.emit(audience, table, rid, version, copy)

    # ------------------------------------------------------------ signing
    def _site_uuid(self, ord_: int) -> str:
        """The UUID of the site numbered `ord_` here."""
        got = self._site_uuids.get(ord_)
        if got is None:
            self._site_uuids = dict(self.conn.execute("SELECT ord, uuid FROM site"))
            got = self._site_uuids[ord_]
        return got

    def _sign_head(self, sid: int, audience: str, seq: int, h: bytes) -> None:
        """Sign this replica's stream at `seq`, keeping one head per 100 entries and the
        newest (a receiver needs a head at or before the end of what it receives)."""
        store = self.store
        sig = trust.sign_head(store.device_seed(), store.site_uuid, audience, seq, h)
        store_head(self.conn, sid, seq, h, sig)
