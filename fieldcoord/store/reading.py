# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading records: by id, by kind and field values, by full-text search (store layer; the
second layer of Store, see store.py)."""
from __future__ import annotations

import builtins
import sqlite3
from typing import TYPE_CHECKING, Any

from ..core import ids
from ..core import kinds as K
from ..core.errors import NotFound, ValidationError
from ..core.validate import audience, may_see, partners_may_edit
from . import search as fts
from .records import Record, StoredRow, dump
from .records import field_value as _field_value
from .replica import Replica

if TYPE_CHECKING:
    from .transitions import Step


_AGENCY_FIRST = list(K.KINDS.values())
_AGENCY_LAST = [k for k in _AGENCY_FIRST if k.name != "agency"] + [K.KINDS["agency"]]
_BY_ID = {k.table: f'SELECT * FROM "{k.table}" WHERE id = ?' for k in _AGENCY_FIRST}


class RecordReader(Replica):
    """Records as the store holds them; writing is Store's (store.py)."""

    # ------------------------------------------------------------------ reading
    def kind_of(self, name: str) -> K.Kind:
        k = K.kind_named(name)
        if k is None:
            raise ValidationError(f"unknown record kind '{name}'; kinds are: "
                                  + ", ".join(K.KINDS))
        return k

    def _row(self, table: str, rid: str) -> dict[str, Any] | None:
        """The stored row of record `rid` in `table`, as a dict of its columns, or None."""
        cur = self.conn.execute(_BY_ID[table], (rid,))
        got = cur.fetchone()
        if got is None:
            return None
        names = self._row_names.get(table)
        if names is None:
            names = self._row_names[table] = tuple(d[0] for d in cur.description)
        return dict(zip(names, got))

    def _find(self, rid: str, kind: K.Kind | None = None) -> tuple[K.Kind, dict[str, Any]]:
        rid = str(rid).strip().lower()
        if kind is None:
            kind = self._kind_of_id.get(rid)        # a record never changes kind
            if kind is not None:
                row = self._row(kind.table, rid)
                if row is not None:
                    return kind, row
        # an agency's id is derived from its code (a version 5 UUID), other records' are not:
        # the agency table is read first only for such an id
        candidates = [kind] if kind else _AGENCY_FIRST if rid[14:15] == "5" else _AGENCY_LAST
        for k in candidates:
            row = self._row(k.table, rid)
            if row is not None:
                if len(self._kind_of_id) > 50_000:
                    self._kind_of_id.clear()
                self._kind_of_id[rid] = k
                return k, row
        raise NotFound(f"no record with id {rid}")

    def _to_record(self, kind: K.Kind, row: StoredRow) -> Record:
        values = {f.name: _field_value(f, row[f.name]) for f in kind.fields}
        return Record(kind.name, row["id"], values, row["owner"], row["scope"],
                      row["created_at"], row["updated_at"], row["device"], row["_cl"] % 2 == 0)

    def get(self, rid: str, kind: str | None = None) -> Record:
        """The record with this id (live or deleted); raises NotFound."""
        k, row = self._find(rid, self.kind_of(kind) if kind else None)
        return self._to_record(k, row)

    def resolve(self, text: str, kind: str = "agency") -> str | None:
        """The id of a live record named by id (or, for agencies, by code)."""
        return self.checker.resolve_ref(K.KINDS[kind], str(text))

    def agency_id(self, code: str) -> str | None:
        """The id of the live agency with this code, or None."""
        rid = ids.agency_id(code)
        row = self.conn.execute("SELECT _cl FROM agency WHERE id = ?", (rid,)).fetchone()
        return rid if row and row[0] % 2 == 1 else None

    def list(self, kind: str, where: dict[str, Any] | None = None, deleted: bool = False,
             limit: int | None = None, offset: int = 0) -> builtins.list[Record]:
        """Records of a kind, live ones unless `deleted`, filtered by exact field values."""
        k = self.kind_of(kind)
        clauses, args = ["_cl % 2 = ?"], [0 if deleted else 1]
        for name, value in (where or {}).items():
            col, val = self.checker.where_value(k, name, value)
            if val is None:
                clauses.append(f'"{col}" IS NULL')
            else:
                clauses.append(f'"{col}" = ?')
                args.append(val)
        sql = (f'SELECT * FROM "{k.table}" WHERE {" AND ".join(clauses)} '
               f'ORDER BY "{k.title_field}" COLLATE NOCASE, id')
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        cur = self.conn.execute(sql, args)
        cur.row_factory = sqlite3.Row
        return [self._to_record(k, r) for r in cur]

    def count(self, kind: str) -> int:
        k = self.kind_of(kind)
        n: int = self.conn.execute(
            f'SELECT count(*) FROM "{k.table}" WHERE _cl % 2 = 1').fetchone()[0]
        return n

    def search(self, text: str, kind: str | None = None,
               limit: int = 20) -> builtins.list[fts.Hit]:
        """Ranked full-text search; prefix, accent- and case-insensitive; phones by digits."""
        if kind is not None:
            k = self.kind_of(kind)
            if k.name not in K.SEARCHABLE:
                raise ValidationError(f"search covers {', '.join(K.SEARCHABLE)}, not {k.name}")
            kind = k.name
        if limit < 1:
            raise ValidationError("limit must be at least 1")
        if self._pending_docs:
            # entries small writes left for later, written now unless a sync is writing (the
            # pending documents are then read from a temporary index, ranked less finely)
            self.index_pending(wait=False)
        return fts.search(self.conn, text, kind, limit, self.self_ord)

    def children(self, kind: str, column: str, rid: str) -> builtins.list[Record]:
        """Live records of `kind` whose `column` refers to `rid`."""
        return self.list(kind, {column: rid})
    def _title(self, k: K.Kind, row: StoredRow) -> str:
        return str(row[k.title_field] or row["id"])
    def request_history(self, rid: str) -> builtins.list[Step]:
        """The steps of a resource request that stand here (transitions.history), oldest
        first: each status it moved to, when, and the agency and device that moved it."""
        from .transitions import history
        self.take_recent()              # (a status just moved here may wait in change_recent)
        return history(self.conn, rid)

    def may_change(self, owner: str, scope: str, kind: str | None = None) -> bool:
        """Whether this replica's agency may change a record with this owner and scope.

        Agency records are the shared directory: any partner that holds one may correct it.
        """
        return kind == "agency" or owner == self.home or (
            partners_may_edit(scope) and may_see(self.home, audience(owner, scope)))
    # ------------------------------------------------------------------ output
    def dump(self) -> str:
        """Canonical JSON of every live record and open conflict, sorted; no volatile fields."""
        return dump(self.conn)
