# SPDX-License-Identifier: GPL-3.0-or-later
"""A record kind's table and indexes, generated from its Kind (store layer).

Every record table has the same shape: id, owner and scope; the kind's fields in the order the
Kind declares them; the times and device of the last write; then what sync keeps per record:
_cl (causal length: odd = live, even = deleted), _ver (JSON: the version of each column) and
_extra (JSON: fields from newer replicas, kept and forwarded); last the kind's local columns,
which never leave this replica. Each reference field is indexed (lists of an agency's records,
related records, cascades), and a kind with `sorted_index` has its title order indexed.

The tables of the first kinds were written out by hand in schema/0001_records.sql; a test holds
them to what this module generates. Migrations that add a kind or a field call ensure().
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ..core import kinds as K

_SQL_TYPES = {K.INT: "INTEGER", K.REAL: "REAL", K.LAT: "REAL", K.LON: "REAL"}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool = False
    default: str | None = None      # SQL text of the default, as PRAGMA table_info shows it
    primary_key: bool = False

    def sql(self) -> str:
        out = f'"{self.name}" {self.type}'
        if self.primary_key:
            out += " PRIMARY KEY"
        if self.not_null:
            out += " NOT NULL"
        if self.default is not None:
            out += f" DEFAULT {self.default}"
        return out


def columns(kind: K.Kind) -> list[Column]:
    """The columns of `kind`'s table, in order."""
    return [Column("id", "TEXT", True, primary_key=True),
            Column("owner", "TEXT", True), Column("scope", "TEXT", True),
            *(Column(f.name, _SQL_TYPES.get(f.type, "TEXT")) for f in kind.fields),
            Column("created_at", "TEXT", True), Column("updated_at", "TEXT", True),
            Column("device", "TEXT"),
            Column("_cl", "INTEGER", True, "1"), Column("_ver", "TEXT", True),
            Column("_extra", "TEXT"),
            *(Column(name, sql_type) for name, sql_type in kind.local_columns)]


def create_table(kind: K.Kind) -> str:
    body = ",\n    ".join(c.sql() for c in columns(kind))
    return f'CREATE TABLE "{kind.table}" (\n    {body}\n)'


def sorted_index_name(kind: K.Kind) -> str:
    return f"{kind.table}_by_{kind.title_field}"


def indexes(kind: K.Kind) -> dict[str, str]:
    """{index name: CREATE INDEX statement} of `kind`'s table."""
    t = kind.table
    out = {f"{t}_{f.name}": f'CREATE INDEX "{t}_{f.name}" ON "{t}" ("{f.name}")'
           for f in kind.fields if f.type == K.REF}
    if kind.sorted_index:
        name = sorted_index_name(kind)
        out[name] = (f'CREATE INDEX "{name}" ON "{t}" '
                     f'(coalesce("{kind.title_field}", \'\') COLLATE NOCASE)')
    for suffix, columns, where in kind.partial_indexes:
        out[f"{t}_{suffix}"] = f'CREATE INDEX "{t}_{suffix}" ON "{t}" ({columns}) WHERE {where}'
    return out


def deferrable_indexes() -> dict[str, str]:
    """The indexes nothing in applying a sync reads, which a large pull sets aside and builds
    once at the end: lists' title orders and the lookups by agency that kinds name."""
    out = {}
    for kind in K.KINDS.values():
        own = indexes(kind)
        if kind.sorted_index:
            name = sorted_index_name(kind)
            out[name] = own[name]
        for f in kind.deferrable:
            out[f"{kind.table}_{f}"] = own[f"{kind.table}_{f}"]
    return out


def ensure(conn: sqlite3.Connection, kind: K.Kind) -> None:
    """Bring `kind`'s table to what its Kind declares: create it, or add the columns and
    indexes it lacks (a migration that adds a kind, or a field to one, calls this).

    Columns are only ever added, at the end, so a table made by an earlier release keeps its
    data; run inside the migration's transaction."""
    have = [r[1] for r in conn.execute(f'PRAGMA table_info("{kind.table}")')]
    if not have:
        conn.execute(create_table(kind))
    else:
        for column in columns(kind):
            if column.name not in have:
                if column.not_null and column.default is None:
                    raise RuntimeError(f"cannot add required column {column.name} to "
                                       f"{kind.table} without a default")
                conn.execute(f'ALTER TABLE "{kind.table}" ADD COLUMN {column.sql()}')
    held = {r[1] for r in conn.execute(f'PRAGMA index_list("{kind.table}")')}
    for name, sql in indexes(kind).items():
        if name not in held:
            conn.execute(sql)
