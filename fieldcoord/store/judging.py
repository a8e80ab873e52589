# SPDX-License-Identifier: GPL-3.0-or-later
"""Who may make a change: judged on the receiving side from what it can verify (the writer's
certificate, the record's proven owner and the scope the writer relied on), never from what
the sender claims (store layer; the third layer of the Merger, see merge.py)."""
from __future__ import annotations

import json

from ..core import ids
from ..core import kinds as K
from ..core.validate import audience as audience_of
from ..core.validate import may_see, partners_may_edit
from . import byref
from .heads import FieldHeads
from .incoming import Entry, creator_ok, proven_owner
from .records import Cells, WireCell


class Judging(FieldHeads):
    """Refusals of changes a writer's agency may not make, and judging again when a record's
    creation arrives after other changes of it."""

    def _known_owner(self, kind: K.Kind, rid: str) -> str | None:
        """The owner of a record this replica holds or once held (from its log), else None.
        For a record whose id names its creator, only that creator's creation says (a change
        claiming an owner before the creation arrived says nothing)."""
        if self._pending:
            self.flush()
        bound = ids.is_bound(rid)
        if bound:
            for site, cells in self.conn.execute(
                    "SELECT s.uuid, fc_cells(c.site, c.hlc, c.tbl, c.rid, c.cells) FROM change c "
                    f"JOIN site s ON s.ord = c.site WHERE {byref.of_record('c')} AND c.tbl = ? "
                    "AND (c.cells LIKE '%\"owner\"%' OR c.cells = ?)",
                    (*byref.record_args(rid, kind.table), kind.table, byref.BYREF)):
                parsed = json.loads(cells)
                cl = parsed.get("_cl")
                if cl and len(cl) >= 5 and isinstance(cl[4], int):
                    parsed["_cl"] = [*cl[:4], self.uuid_of.get(cl[4], ""), *cl[5:]]
                owner = proven_owner(rid, parsed, site)
                if owner:
                    return owner
        got = self._row(kind.table, rid)
        held: str | None = got.row["owner"] if got is not None and got.row["owner"] else None
        if held or bound:
            return held
        for (cells,) in self.conn.execute(
                "SELECT fc_cells(site, hlc, tbl, rid, cells) FROM change WHERE "
                f"{byref.of_record()} AND tbl = ? AND status = 0 AND "
                "(cells LIKE '%\"owner\"%' OR cells = ?) ORDER BY hlc",
                (*byref.record_args(rid, kind.table), kind.table, byref.BYREF)):
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
        byref.materialize(conn, kind.table, rid)     # (before any change of it stops counting)
        refused = False
        for stream, seq, site, cells_text, origin, aud, hlc, tx in conn.execute(
                "SELECT c.stream, c.seq, c.site, fc_cells(c.site, c.hlc, c.tbl, c.rid, c.cells), "
                "s.uuid, t.audience, c.hlc, c.tx "
                "FROM change c JOIN stream t ON t.id = c.stream JOIN site s ON s.ord = t.origin "
                f"WHERE {byref.of_record('c')} AND c.tbl = ? AND c.status IN (0, 2)",
                (*byref.record_args(rid, kind.table), kind.table)).fetchall():
            cells = json.loads(cells_text)
            if cells.get("_cl") == [1] and ids.is_bound(rid) \
                    and proven_owner(rid, cells, self.uuid_of.get(site, "")) == owner:
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

    def _refusal(self, kind: K.Kind, e: Entry, writer: int) -> str | None:
        """Why the writer's agency may not make this change, or None.

        Judged from what this replica can verify: the writer's agency comes from its
        certificate; a record held here (or once held) is never created again, its owner never
        changes, and only its owner's replicas change its sharing or pass on its history."""
        cells = e.cells
        if self.agency_of.get(writer) is None:
            return "changes from a replica whose agency is not verified are not accepted"
        creation = cells.get("_cl") == [1]
        if creation and not creator_ok(kind, e.rid, cells, e.site):
            return (f"this {kind.label} was created by another replica: its id says so, and "
                    "no other may create it again")
        exists = e.rid in self._logged or self._row(kind.table, e.rid) is not None
        owner = self._known_owner(kind, e.rid) if exists else None
        named = (cells.get("owner") or [None])[0]
        if ids.is_bound(e.rid) and named:
            proven = proven_owner(e.rid, cells, e.site)
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
        if any(WireCell.of(c).own for col, c in cells.items() if col != "_seen"):
            return f"only {owner}'s replicas may pass on the history of this {kind.label}"
        if kind.name == "agency":           # the shared directory: partners may correct it
            return None
        # judged by the scope the writer relied on, so every replica decides alike
        claimed = (cells.get("_scope") or [None])[0]
        if claimed and partners_may_edit(claimed) and may_see(agency, audience_of(owner, claimed)):
            return None
        return f"{agency} may not change this {kind.label}: it is maintained by {owner}"
