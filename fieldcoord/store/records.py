# SPDX-License-Identifier: GPL-3.0-or-later
"""Records as read from the store, and the canonical dump of a replica (store layer)."""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..core import compact
from ..core import kinds as K

SYSTEM = ("owner", "scope")

# Which columns a record's table has, and what each holds (text, a number, a list of ids...),
# core.kinds says at run time: rows and field values are typed Any, not a union to narrow.
# A row as a dict of column values (a change's row being built, a record's fields):
RowDict = dict[str, Any]
# A row either way the store reads one: sqlite3.Row, or a dict of its columns.
StoredRow = sqlite3.Row | Mapping[str, Any]
# Change-log cells, as JSON: {column: [value, replaced version's hlc, its site, this version's
# hlc, its site, [other replaced versions]]}, trimmed from the right; pseudo-columns (_cl,
# _seen, _copy, _scope, _d) have their own values.
Cell = list[Any]
Cells = dict[str, Cell]
# A field version: (hlc, site), the site a UUID on the wire and a number in the change log.
Version = tuple[int, Any]


class WireCell(NamedTuple):
    """One cell of a change, decoded once from its list form (Cell).

    `value`; `prev`: the version it replaced (None: the field's first write); `own`: its own
    version when that is not its change's (a copy of history passed on); `replaced`: further
    versions it supersedes (a conflict resolved: every losing head).
    """
    value: Any
    prev: Version | None
    own: Version | None
    replaced: tuple[Version, ...]

    @classmethod
    def of(cls, cell: Cell) -> WireCell:
        n = len(cell)
        return cls(cell[0],
                   (cell[1], cell[2]) if n >= 3 and cell[1] is not None else None,
                   (cell[3], cell[4]) if n >= 5 and cell[3] is not None else None,
                   tuple((h, s) for h, s in cell[5]) if n > 5 and cell[5] else ())


def decoded(cells: Cells) -> dict[str, WireCell]:
    return {col: WireCell.of(cell) for col, cell in cells.items()}


class Versions:
    """The versions of a record's fields, as its `_ver` column keeps them.

    `fields`: {column: [hlc, site number]}, where "" is the version of every column not listed
    (the record's creation) and "_cl" that of its causal length. `seen`: the field versions that
    the delete which made the record deleted had seen (an edit it had not seen conflicts with
    it). `careful`: the record has had conflict rows, so its fields merge from their whole
    history. `byref`: this replica created the record and logged its creation by reference to
    the row (store.byref). In the column's JSON the last three are the keys "_seen", "!" and
    "@"; nothing outside this class reads or writes them.
    """
    __slots__ = ("fields", "seen", "careful", "byref")

    def __init__(self, fields: dict[str, list[Any]] | None = None,
                 seen: dict[str, list[Any]] | None = None, careful: bool = False,
                 byref: bool = False):
        self.fields: dict[str, list[Any]] = fields if fields is not None else {}
        self.seen = seen
        self.careful = careful
        self.byref = byref

    @classmethod
    def load(cls, text: str | None) -> Versions:
        fields = compact.loads(text) if text else {}
        seen = fields.pop("_seen", None)
        careful = bool(fields.pop("!", 0))
        byref = bool(fields.pop("@", 0))
        return cls(fields, seen, careful, byref)

    def dump(self) -> str:
        if self.seen is None and not self.careful:
            # (the usual case, written without copying the fields: a dump at every edit)
            text = compact.dumps(self.fields)
            if not self.byref:
                return text
            return f'{text[:-1]},"@":1}}' if self.fields else '{"@":1}'
        out: dict[str, Any] = dict(self.fields)
        if self.seen is not None:
            out["_seen"] = self.seen
        if self.careful:
            out["!"] = 1
        if self.byref:
            out["@"] = 1
        return compact.dumps(out)

    def of(self, column: str) -> list[Any]:
        """A column's current version [hlc, site]; [] if it was never written."""
        v = self.fields.get(column) or self.fields.get("")
        return list(v) if v and v[0] else []

    def written(self) -> dict[str, list[Any]]:
        """The versions of the record's fields and pseudo-fields, its causal length aside:
        what a delete records as seen."""
        return {c: v for c, v in self.fields.items() if c != "_cl"}


def field_value(fld: K.Field, value: Any) -> Any:
    """A column's stored value as the field's value (lists of ids are JSON text)."""
    return json.loads(value) if fld.type == K.REFS and value is not None else value


@dataclass
class Record:
    """One record as stored, with its system fields."""
    kind: str
    id: str
    values: RowDict
    owner: str
    scope: str
    created_at: str
    updated_at: str
    device: str | None
    deleted: bool = False

    @property
    def title(self) -> str:
        return str(self.values.get(K.KINDS[self.kind].title_field) or "")

    def get(self, name: str, default: Any = None) -> Any:
        if name in SYSTEM or name in ("id", "created_at", "updated_at", "device"):
            return getattr(self, name)
        return self.values.get(name, default)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, **self.values, "owner": self.owner,
                "scope": self.scope, "created_at": self.created_at,
                "updated_at": self.updated_at, "device": self.device, "deleted": self.deleted}


@dataclass
class Changes:
    """What a transaction changed: kinds and record ids (views use it to refresh)."""
    kinds: set[str] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)

    def note(self, kind: str, rid: str) -> None:
        self.kinds.add(kind)
        self.ids.add(rid)


def dump(conn: sqlite3.Connection) -> str:
    """Canonical JSON of every live record and open conflict, sorted; no volatile fields.

    Two replicas holding the same data print byte-identical dumps.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    for k in K.KINDS.values():
        cur = conn.execute(f'SELECT * FROM "{k.table}" WHERE _cl % 2 = 1 ORDER BY id')
        cur.row_factory = sqlite3.Row
        rows: list[dict[str, Any]] = []
        for r in cur:
            rec = {"id": r["id"], "owner": r["owner"], "scope": r["scope"]}
            for f in k.fields:
                if r[f.name] is not None:
                    rec[f.name] = field_value(f, r[f.name])
            rows.append(rec)
        out[k.name] = rows
    conflicts: list[dict[str, Any]] = []
    for tbl, rid, col, value, version, site, reason in conn.execute(
            "SELECT c.tbl, c.rid, c.col, c.value, c.hlc, s.uuid, c.reason FROM conflict c "
            "JOIN site s ON s.ord = c.site WHERE c.state = 'open'"):
        conflicts.append({"table": tbl, "record": rid, "field": col, "reason": reason,
                          "value": json.loads(value) if value is not None else None,
                          "version": [version, site]})
    out["conflicts"] = sorted(conflicts, key=lambda c: (c["table"], c["record"], c["field"],
                                                         c["version"]))
    return json.dumps(out, sort_keys=True, ensure_ascii=False, indent=1) + "\n"
