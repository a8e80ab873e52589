# SPDX-License-Identifier: GPL-3.0-or-later
"""Records as read from the store, and the canonical dump of a replica (store layer)."""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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
