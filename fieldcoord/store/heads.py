# SPDX-License-Identifier: GPL-3.0-or-later
"""A field's heads: the versions no later write superseded, recomputed from the change log
when versions arrive out of order or concurrently; conflicts kept while they last (store layer;
the second layer of the Merger, see merge.py)."""
from __future__ import annotations

import json
from typing import Any

from ..core import hlc as clock
from ..core import kinds as K
from ..core.validate import audience as audience_of
from ..core.validate import may_see
from . import byref
from .incoming import BOOKKEEPING, PSEUDO, Entry, HeldRow, Version, dumps, field_history
from .merge_rows import BatchRows
from .records import RowDict, Versions, WireCell


class FieldHeads(BatchRows):
    """Merging one field version against the heads this replica holds."""

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
                    prev: list[Any] | None, extras: bool, ver_u: dict[str, list[Any]],
                    flagged: bool) -> tuple[tuple[Any, list[Any]] | None, bool]:
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

    def _rebuild(self, kind: K.Kind, rid: str, held: HeldRow) -> None:
        """Make a record's row again from every change of it this replica holds (each field
        from its heads, as _merge_heads computes them), so that neither the order in which
        they arrived nor a row dropped and made again in between decides what it holds."""
        if self._pending:
            self.flush()
        conn = self.conn
        row = held.row
        ver = Versions(careful=True)
        cols: set[str] = set()
        cl = 0
        cl_version: list[Any] | None = None
        for hlc, site, cells_text in conn.execute(
                "SELECT hlc, site, fc_cells(site, hlc, tbl, rid, cells) FROM change "
                f"WHERE {byref.of_record()} AND tbl = ? AND status = 0",
                (*byref.record_args(rid, kind.table), kind.table)):
            cells = json.loads(cells_text)
            cols.update(c for c in cells if c in row and c not in BOOKKEEPING)
            c = WireCell.of(cells["_cl"]) if "_cl" in cells else None
            if c and isinstance(c.value, int) and c.value >= cl:
                version = list(c.own) if c.own else [hlc, site]
                if c.value > cl or cl_version is None or version > cl_version:
                    cl, cl_version = c.value, version
        for col in list(row):
            if col not in BOOKKEEPING and col not in cols and col != "id":
                row[col] = "" if col in ("owner", "scope") else None
        for col in cols:
            got = self._merge_heads(kind.table, rid, col, None)
            if got is not None:
                value = got[0]
                if value is None and col in ("owner", "scope"):
                    row[col] = ""           # withheld: the change that replaced it follows
                    continue
                f = kind.field_map.get(col)
                row[col] = dumps(value) if f and f.type == K.REFS and value is not None \
                    else value
                ver.fields[col] = [got[1][0], self.site(got[1][1]) if got[1][1] else 0]
        row["_cl"] = cl or 1
        if cl_version is not None:
            site = cl_version[1]
            ver.fields["_cl"] = [cl_version[0],
                                 self.site(site) if isinstance(site, str) else site]
        row["_ver"] = ver.dump()
        held.dirty, held.gone = True, False
        self._rows[(kind.table, rid)] = held
        if row["owner"] and row["scope"] and not may_see(
                self.store.home, audience_of(row["owner"], row["scope"])):
            held.gone = True
        elif not row["scope"] or not row["owner"]:
            self.unknown_scope[rid] = kind
        else:
            self.unknown_scope.pop(rid, None)
        self.store.touch(kind, rid, row, live_row=False, foreign=True)
