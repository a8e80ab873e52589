# SPDX-License-Identifier: GPL-3.0-or-later
"""Applying changes from other replicas: per-field merge with conflicts, causal-length deletes and
version vectors, all in one transaction of the store (store layer).

Each field is a set of *heads*: versions no later write has superseded (a write supersedes the
version it overwrote, its predecessor). The field shows the highest head; the other heads are
open conflicts. Replicas that received the same changes hold the same heads, whatever the order.

The Merger is built in layers, each a module: the batch's rows (merge_rows.py), a field's heads
(heads.py), who may write what (judging.py), which moves a resource request may make
(transitions.py), and here applying entries in order. What arrives
and the checks of its shape are in incoming.py.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..core import hlc as clock
from ..core import kinds as K
from ..core.validate import audience as audience_of
from ..core.validate import may_see
from .incoming import (
    SKEW_MS,
    UNREAD,
    Entry,
    HeldRow,
    Report,
    SiteInfo,
    creator_ok,
    dumps,
    malformed,
    widened,
)
from .records import Cell, RowDict, Versions, decoded
from .transitions import REQUEST, Transitions

if TYPE_CHECKING:
    from .store import Store


class Merger(Transitions):
    """Applies entries to a store inside the store's current transaction."""

    def __init__(self, store: Store, sites: dict[str, SiteInfo], now_ms: int | None = None,
                 skew_ms: int = SKEW_MS, report: Report | None = None):
        super().__init__(store, now_ms, skew_ms, report)
        for uuid, info in sites.items():
            self.site(uuid, None, info[1] if len(info) > 1 else None)

    def finish(self) -> Report:
        """Write the vector and advance the clock (call inside the same transaction).

        A record whose sharing scope never arrived is not known to be this agency's to hold:
        it is dropped (its changes stay in the log, and a later share sends it whole)."""
        self._judge_requests()
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
                self._facts(rid, e.tbl)
            cells = e.cells
            if e.status == 0 and kind is not None and rid not in logged \
                    and not malformed(kind, cells) \
                    and cells.get("_cl") == [1] and "_seen" not in cells \
                    and creator_ok(kind, rid, cells, e.site) \
                    and ((held := rows.get((kind.table, rid), UNREAD)) is None
                         or held is not UNREAD and held.gone
                         or held is UNREAD and self._row(kind.table, rid) is None):
                # A creation new here: whoever creates a record names its owner, so it is
                # never refused. Its cells name no sites unless some are long.
                for cell in cells.values():
                    if len(cell) > 2:
                        break
                else:
                    sid_seq[1] = seq
                    logged.add(rid)
                    self._create(kind, e, writer, sid_seq[0])
                    if kind is REQUEST:
                        self._requests.add(rid)
                    report.applied += 1
                    continue
            self._apply_one(e, kind, sid_seq, writer)

    def _apply_one(self, e: Entry, kind: K.Kind | None, sid_seq: list[int],
                   writer: int) -> None:
        """An entry that passed apply_all's checks of order and visibility."""
        status = e.status
        if status == 0 and kind is not None:
            reason = malformed(kind, e.cells) or self._refusal(kind, e, writer)
            if reason:
                status = 1
                self.report.refused.append((e, reason))
        cells = e.cells
        local_cells = {c: (cell if len(cell) < 3 else self._local_cell(cell))
                       for c, cell in cells.items()}
        self._pending.append(
            (sid_seq[0], e.seq, e.tx, e.tbl, e.rid, e.hlc, writer, dumps(local_cells), status))
        sid_seq[1] = e.seq
        earlier = e.rid in self._logged
        self._logged.add(e.rid)
        if status == 0 and kind is not None:
            # a record held before and dropped when it was unshared: what arrives now is only
            # a part of it (a field's history copy, a widened scope)
            dropped = earlier and self._row(kind.table, e.rid) is None
            self._merge(kind, e, writer, earlier)
            if kind is REQUEST:
                self._requests.add(e.rid)
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

    def _merge(self, kind: K.Kind, e: Entry, writer: int, earlier: bool) -> None:
        conn = self.conn
        key = (kind.table, e.rid)
        held = self._row(kind.table, e.rid)
        default = [e.hlc, e.site]
        if held is None:
            row: RowDict = {n: None for n in self.columns(kind.table)}
            row.update(id=e.rid, owner="", scope="", _cl=0, _ver="{}", _extra=None)
            # held before and dropped when it was unshared: merge from its whole history
            ver = Versions(careful=earlier)
            is_new = True
            before = self._rows.get(key)
            held = HeldRow(row, before is not None and before.in_db)
        else:
            row = held.row
            ver = Versions.load(row["_ver"])
            is_new = False
        # versions in UUID form for comparing; converted back when written
        ver_u: dict[str, list[Any]] = {c: [v[0], self.uuid_of.get(v[1], "")]
                                       for c, v in ver.fields.items()}
        seen = ver.seen
        before_aud = (audience_of(row["owner"], row["scope"])
                      if row["owner"] and row["scope"] else None)
        extra: RowDict = json.loads(row["_extra"]) if row.get("_extra") else {}
        changed: set[str] = set()
        for col, cell in decoded(e.cells).items():
            self.report.fields += 1
            version = list(cell.own) if cell.own else default
            prev = list(cell.prev) if cell.prev else None
            if col == "_cl":
                if prev is None and cell.value == 1:
                    # the record's creation: fields it left empty carry its version
                    ver_u.setdefault("", version)
                if cell.value > row["_cl"]:
                    row["_cl"] = cell.value
                    ver_u["_cl"] = version
                    changed.add("_cl")
                continue
            if col == "_seen":
                seen = self._merge_seen(seen, cell.value)
                continue
            if col in ("_copy", "_scope"):
                continue
            in_table = col in row and col not in ("id", "_cl", "_ver", "_extra", "created_at",
                                                  "updated_at", "device")
            winner, slow = self._merge_cell(kind, e.rid, col, cell.value, version, prev,
                                            bool(cell.replaced), ver_u, ver.careful)
            if slow:
                ver.careful = True    # this record has conflict rows: merge it the careful way
            if winner is not None:
                value = winner[0]
                if in_table and value is None and col in ("owner", "scope"):
                    pass                    # a withheld past value; the current one follows
                elif in_table:
                    f = kind.field_map.get(col)
                    row[col] = dumps(value) if f and f.type == K.REFS and value is not None \
                        else value
                else:
                    extra[col] = value
                ver_u[col] = winner[1]
                changed.add(col)
        self._deleted_conflicts(kind, e, row, ver_u, seen)
        # back to site numbers
        row["_ver"] = Versions({c: [v[0], self.site(v[1]) if v[1] else 0]
                                for c, v in ver_u.items()}, seen, ver.careful).dump()
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
        if before_aud and row["scope"] and row["owner"] == self.store.home and widened(before_aud,
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
        self.store.touch(kind, e.rid, row, live_row=False, foreign=True)
