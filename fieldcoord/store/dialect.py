# SPDX-License-Identifier: GPL-3.0-or-later
"""The store's SQL, said for PostgreSQL (store layer).

The store and its merge are written once, in SQLite's SQL. A regional hub keeps its records in
PostgreSQL and runs the same code: `to_postgres` rewrites each statement (once per text; the
result is cached) and `schema` rewrites the tables and indexes of a store's database. What is
rewritten, and why:

- `?` parameter marks become `%s`, and a literal `%` becomes `%%` (psycopg formats every
  query);
- `INSERT OR IGNORE` becomes `INSERT ... ON CONFLICT DO NOTHING`; `INSERT OR REPLACE` an
  upsert on the table's primary key (`keys` names them);
- SQLite's two-argument scalar `max(a, b)` and `min(a, b)` become `greatest` and `least`;
- `strftime('%Y-%m-%dT%H:%M:%SZ', 'now')` becomes the same UTC text from `now()`;
- `hex(x)` becomes `upper(encode(x, 'hex'))`; `x'..'` blob literals become bytea literals;
- `COLLATE NOCASE` comparisons and orderings compare `lower()` of both sides;
- `LIKE` becomes `ILIKE` (SQLite's LIKE ignores the case of ASCII letters);
- `a IS ?` and `a IS NOT ?` become `IS [NOT] DISTINCT FROM` (SQLite's IS compares any values);
- `BEGIN IMMEDIATE` becomes `BEGIN`.

Tables: INTEGER becomes BIGINT, REAL DOUBLE PRECISION, BLOB BYTEA; an `INTEGER PRIMARY KEY`
(SQLite's row id) an identity column; `WITHOUT ROWID` and foreign-key clauses go (the store
runs SQLite with foreign keys off and checks references itself). Full-text tables are left out:
a hub keeps no search index.
"""
from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Mapping
from functools import lru_cache

# the store's tables of full-text search: not kept by a hub
SEARCH_TABLES = ("search_fts", "search_digits", "search_doc", "search_pending", "search_mark")

_STRING = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"")


def _split(sql: str) -> list[tuple[bool, str]]:
    """(is a quoted string or identifier, text) pieces of a statement."""
    out: list[tuple[bool, str]] = []
    pos = 0
    for m in _STRING.finditer(sql):
        if m.start() > pos:
            out.append((False, sql[pos:m.start()]))
        out.append((True, m.group(0)))
        pos = m.end()
    if pos < len(sql):
        out.append((False, sql[pos:]))
    return out


def _outside(sql: str, fn: Callable[[str], str]) -> str:
    """Apply `fn` to the parts of `sql` outside quotes."""
    return "".join(text if quoted else fn(text) for quoted, text in _split(sql))


def _close(sql: str, start: int) -> int:
    """The index of the parenthesis closing the one opened at `start`."""
    depth = 0
    for i in range(start, len(sql)):
        if sql[i] == "(":
            depth += 1
        elif sql[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError(f"unbalanced parentheses in {sql!r}")


def _top_level_parts(text: str) -> list[str]:
    """`text` split at its commas outside parentheses."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


def _scalar_min_max(sql: str) -> str:
    """max(a, b) -> greatest(a, b); min likewise (the aggregate of one argument stays)."""
    out, pos = [], 0
    for m in re.finditer(r"\b(max|min)\s*\(", sql, re.IGNORECASE):
        if m.start() < pos:
            continue
        open_at = m.end() - 1
        end = _close(sql, open_at)
        inner = sql[open_at + 1:end]
        if len(_top_level_parts(inner)) > 1:
            name = "greatest" if m.group(1).lower() == "max" else "least"
            out.append(sql[pos:m.start()] + name + "(" + _scalar_min_max(inner) + ")")
            pos = end + 1
    out.append(sql[pos:])
    return "".join(out)


_UTC_NOW = ("to_char(now() at time zone 'utc', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")


@lru_cache(maxsize=4096)
def _translate(sql: str, keys: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    pks = dict(keys)
    s = sql.strip()
    s = re.sub(r"strftime\('%Y-%m-%dT%H:%M:%SZ',\s*'now'\)", _UTC_NOW, s)
    s = re.sub(r"\bx'([0-9a-fA-F]*)'", lambda m: f"'\\x{m.group(1)}'::bytea", s)
    if re.match(r"BEGIN\s+IMMEDIATE\b", s, re.IGNORECASE):
        return "BEGIN"
    conflict = ""
    m = re.match(r"INSERT\s+OR\s+(IGNORE|REPLACE)\s+INTO\s+(\"?)(\w+)\2\s*\(([^)]*)\)", s,
                 re.IGNORECASE)
    if m:
        table, columns = m.group(3), [c.strip().strip('"') for c in m.group(4).split(",")]
        head = re.match(r"INSERT\s+OR\s+\w+\s+INTO\s*", s, re.IGNORECASE)
        assert head is not None
        s = "INSERT INTO " + s[head.end():]
        if m.group(1).upper() == "IGNORE":
            conflict = " ON CONFLICT DO NOTHING"
        else:
            pk = pks.get(table)
            if not pk:
                raise ValueError(f"INSERT OR REPLACE into {table}, whose primary key is not "
                                 "known")
            rest = [c for c in columns if c not in pk]
            sets = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in rest)
            targets = ", ".join(f'"{c}"' for c in pk)
            conflict = f" ON CONFLICT ({targets}) DO " + (f"UPDATE SET {sets}" if rest
                                                          else "NOTHING")

    def rewrite(text: str) -> str:
        text = text.replace("?", "%s")
        text = re.sub(r"\bIS\s+NOT\s+%s", "IS DISTINCT FROM %s", text, flags=re.IGNORECASE)
        text = re.sub(r"\bIS\s+%s", "IS NOT DISTINCT FROM %s", text, flags=re.IGNORECASE)
        text = re.sub(r"\bNOT\s+LIKE\b", "NOT ILIKE", text, flags=re.IGNORECASE)
        text = re.sub(r"(?<!NOT )\bLIKE\b", "ILIKE", text, flags=re.IGNORECASE)
        text = re.sub(r"\bhex\s*\(", "fc_hex(", text, flags=re.IGNORECASE)
        # an entry's cells as stored: a regional hub logs nothing by reference (store.byref)
        text = _FC_CELLS.sub(r"\1", text)
        # ... and no row there says its creation refers to it: the version is none
        text = _FC_MADE.sub("(length(%s::text) + length(%s::text) + NULL::bigint)", text)
        return text
    # (psycopg reads every % of a query, in quotes too, as the start of a parameter mark)
    s = _outside(s.replace("%", "%%"), rewrite)
    s = _nocase(s)
    s = _scalar_min_max(s)
    if conflict:
        returning = re.search(r"\s+RETURNING\s+.*$", s, re.IGNORECASE | re.DOTALL)
        if returning:
            s = s[:returning.start()] + conflict + s[returning.start():]
        else:
            s = s.rstrip().rstrip(";") + conflict
    return s


_FC_CELLS = re.compile(r"\bfc_cells\((?:\s*[\w.]+\s*,){4}\s*([\w.]+)\s*\)")
_FC_MADE = re.compile(r"\bfc_made\(\s*%s\s*,\s*%s\s*\)")
_NOCASE = re.compile(r"\s+COLLATE\s+NOCASE\b", re.IGNORECASE)
_COMPARE = re.compile(r"\s*(=|<>|!=|<=|>=|<|>)\s*$")


def _operand_start(s: str, end: int) -> int:
    """Where the operand ending at `end` begins: a call or parenthesis, a name, %s, a
    string."""
    i = end - 1
    if s[i] == ")":
        depth = 0
        while i >= 0:
            if s[i] == ")":
                depth += 1
            elif s[i] == "(":
                depth -= 1
                if depth == 0:
                    break
            i -= 1
        while i > 0 and (s[i - 1].isalnum() or s[i - 1] == "_"):
            i -= 1
        return i
    if s[i] == "'":
        i -= 1
        while i >= 0 and s[i] != "'":
            i -= 1
        return i
    while i > 0 and (s[i - 1].isalnum() or s[i - 1] in '_."%'):
        i -= 1
    return i


def _nocase(s: str) -> str:
    """`a = b COLLATE NOCASE` -> lower(a) = lower(b); `x COLLATE NOCASE` (an order, an index
    expression) -> lower(x)."""
    while True:
        m = _NOCASE.search(s)
        if not m:
            return s
        b0 = _operand_start(s, m.start())
        right = s[b0:m.start()]
        compare = _COMPARE.search(s[:b0])
        if compare:
            a_end = compare.start()
            a0 = _operand_start(s, a_end)
            s = (s[:a0] + f"lower({s[a0:a_end]}) {compare.group(1)} lower({right})"
                 + s[m.end():])
        else:
            s = s[:b0] + f"lower({right})" + s[m.end():]


def to_postgres(sql: str, keys: Mapping[str, tuple[str, ...]] | None = None) -> str:
    """The statement `sql` (SQLite's SQL with ? parameter marks) for psycopg and PostgreSQL.
    `keys`: {table: primary key columns}, for INSERT OR REPLACE."""
    return _translate(sql, tuple(sorted((keys or {}).items())))


# ------------------------------------------------------------------------------ the schema
_TYPES = {"INTEGER": "BIGINT", "REAL": "DOUBLE PRECISION", "BLOB": "BYTEA", "TEXT": "TEXT"}


def column_for_postgres(defn: str) -> str:
    """One column definition of SQLite's CREATE TABLE, for PostgreSQL's."""
    return _column(defn)


def _column(defn: str) -> str:
    m = re.match(r'\s*("?)(\w+)\1\s+(\w+)(.*)$', defn, re.DOTALL)
    if not m:
        return defn
    name, kind, rest = m.group(2), m.group(3).upper(), m.group(4)
    rest = re.sub(r"\s*REFERENCES\s+\w+\s*\([^)]*\)", "", rest, flags=re.IGNORECASE)
    if kind == "INTEGER" and re.search(r"\bPRIMARY\s+KEY\b", rest, re.IGNORECASE) and \
            not re.search(r"\bCHECK\b", rest, re.IGNORECASE):
        rest = re.sub(r"\bPRIMARY\s+KEY\b", "", rest, flags=re.IGNORECASE)
        return f'"{name}" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY{rest}'
    return f'"{name}" {_TYPES.get(kind, kind)}{rest}'


def _table(sql: str) -> str:
    m = re.match(r'CREATE\s+TABLE\s+("?)(\w+)\1\s*\((.*)\)\s*(WITHOUT\s+ROWID)?\s*$', sql.strip(),
                 re.IGNORECASE | re.DOTALL)
    if not m:
        raise ValueError(f"a table this layer cannot say for PostgreSQL: {sql[:80]}")
    name, body = m.group(2), m.group(3)
    out = []
    for p in _top_level_parts(body):
        if re.match(r"\s*(PRIMARY\s+KEY|UNIQUE|CHECK|FOREIGN\s+KEY)\b", p, re.IGNORECASE):
            out.append(p.strip())
        else:
            out.append(_column(p.strip()))
    return f'CREATE TABLE "{name}" (\n    ' + ",\n    ".join(out) + "\n)"


def _index(sql: str) -> str:
    s = re.sub(r"\s+", " ", sql.strip())
    s = _nocase(s)
    return s


def primary_keys(conn: sqlite3.Connection) -> dict[str, tuple[str, ...]]:
    """{table: its primary key's columns} of an SQLite database."""
    out: dict[str, tuple[str, ...]] = {}
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"):
        cols = sorted((pk, col) for _cid, col, _t, _nn, _d, pk in
                      conn.execute(f'PRAGMA table_info("{name}")') if pk)
        if cols:
            out[name] = tuple(c for _, c in cols)
    return out


def _is_search(name: str) -> bool:
    return any(name == t or name.startswith(t + "_") for t in SEARCH_TABLES)


def schema(conn: sqlite3.Connection) -> list[str]:
    """The CREATE statements of an SQLite store's tables and indexes, for PostgreSQL (its
    search tables left out), tables first."""
    tables, indexes = [], []
    for kind, name, tbl, sql in conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL "
            "ORDER BY type DESC, name"):
        if _is_search(tbl) or name.startswith("sqlite_"):
            continue
        if kind == "table":
            tables.append(_table(sql))
        elif kind == "index":
            indexes.append(_index(sql))
    return tables + indexes + [
        # hex() of a blob as SQLite writes it
        "CREATE FUNCTION fc_hex(b BYTEA) RETURNS TEXT LANGUAGE SQL IMMUTABLE AS "
        "$$ SELECT upper(encode(b, 'hex')) $$"]
