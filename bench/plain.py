# SPDX-License-Identifier: GPL-3.0-or-later
"""The baselines: the same columns in plain SQLite tables, optionally with FTS5 kept by triggers.

The plain tables have the store's columns for agencies, contacts and contact methods (id, owner,
scope, the kind's fields, created_at, updated_at) and the same indexes, but none of the store's
bookkeeping (device, _cl, _ver, _extra), no change log and no validation. Connections use the
store's own pragmas (fieldcoord.store.db.connect: WAL, synchronous=NORMAL, same cache size).
"""
from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

from fieldcoord.core import kinds as K
from fieldcoord.store.db import connect

from .data import Contact, Directory

KINDS = ("agency", "contact", "method")
OWNER, SCOPE = "BCF", "all"
# The store's tokenizer; prefix indexes of two and three letters (the store keeps the
# three-letter one alone since schema version 24): the raw query keeps the faster index.
FTS = """
CREATE VIRTUAL TABLE contact_fts USING fts5 (
    name, agency, title, methods,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
);
CREATE TRIGGER contact_fts_ai AFTER INSERT ON contact BEGIN
    INSERT INTO contact_fts (rowid, name, agency, title, methods) VALUES (
        new.rowid, new.name,
        (SELECT name || ' ' || code FROM agency WHERE id = new.agency), new.title,
        (SELECT group_concat(value, ' ') FROM contact_method WHERE contact = new.id));
END;
CREATE TRIGGER contact_fts_au AFTER UPDATE OF name, agency, title ON contact BEGIN
    UPDATE contact_fts SET name = new.name, title = new.title,
        agency = (SELECT name || ' ' || code FROM agency WHERE id = new.agency)
    WHERE rowid = new.rowid;
END;
CREATE TRIGGER contact_fts_ad AFTER DELETE ON contact BEGIN
    DELETE FROM contact_fts WHERE rowid = old.rowid;
END;
CREATE TRIGGER method_fts_ai AFTER INSERT ON contact_method WHEN new.contact IS NOT NULL BEGIN
    UPDATE contact_fts SET methods =
        (SELECT group_concat(value, ' ') FROM contact_method WHERE contact = new.contact)
    WHERE rowid = (SELECT rowid FROM contact WHERE id = new.contact);
END;
CREATE TRIGGER method_fts_au AFTER UPDATE OF value ON contact_method
WHEN new.contact IS NOT NULL BEGIN
    UPDATE contact_fts SET methods =
        (SELECT group_concat(value, ' ') FROM contact_method WHERE contact = new.contact)
    WHERE rowid = (SELECT rowid FROM contact WHERE id = new.contact);
END;
CREATE TRIGGER method_fts_ad AFTER DELETE ON contact_method WHEN old.contact IS NOT NULL BEGIN
    UPDATE contact_fts SET methods =
        (SELECT group_concat(value, ' ') FROM contact_method WHERE contact = old.contact)
    WHERE rowid = (SELECT rowid FROM contact WHERE id = old.contact);
END;
"""
_TOKEN_RE = re.compile(r"\w+", re.UNICODE)


def columns(kind: str) -> list[str]:
    k = K.KINDS[kind]
    return ["id", "owner", "scope", *(f.name for f in k.fields), "created_at", "updated_at"]


def schema(with_fts: bool) -> list[str]:
    out = []
    for name in KINDS:
        k = K.KINDS[name]
        cols = ", ".join(
            f'"{c}" TEXT PRIMARY KEY NOT NULL' if c == "id" else
            f'"{c}" {_sql_type(k, c)}' + (" NOT NULL" if c in ("owner", "scope", "created_at",
                                                                "updated_at") else "")
            for c in columns(name))
        out.append(f'CREATE TABLE "{k.table}" ({cols})')
        for f in k.fields:
            if f.type == K.REF:
                out.append(f'CREATE INDEX "{k.table}_{f.name}" ON "{k.table}" ("{f.name}")')
    if with_fts:
        out += [s.strip() for s in _split(FTS)]
    return out


def _sql_type(k: K.Kind, column: str) -> str:
    f = k.field_map.get(column)
    if f is None:
        return "TEXT"
    return {K.INT: "INTEGER", K.REAL: "REAL", K.LAT: "REAL", K.LON: "REAL"}.get(f.type, "TEXT")


def _split(sql: str) -> list[str]:
    out, buf = [], ""
    for line in sql.strip().splitlines():
        buf += line + "\n"
        if sqlite3.complete_statement(buf):
            out.append(buf)
            buf = ""
    return out


def create(path: Path, with_fts: bool) -> sqlite3.Connection:
    path.unlink(missing_ok=True)
    conn = connect(path)
    conn.execute("BEGIN")
    for stmt in schema(with_fts):
        conn.execute(stmt)
    conn.execute("COMMIT")
    return conn


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _insert_sql(kind: str, cols: list[str]) -> str:
    table = K.KINDS[kind].table
    return (f'INSERT INTO "{table}" ({", ".join(cols)}) VALUES ({", ".join("?" * len(cols))})')


AGENCY_COLS = ["id", "owner", "scope", "name", "code", "level", "discipline", "jurisdiction",
               "created_at", "updated_at"]
CONTACT_COLS = ["id", "owner", "scope", "name", "agency", "title", "created_at", "updated_at"]
METHOD_COLS = ["id", "owner", "scope", "contact", "agency", "kind", "value", "created_at",
               "updated_at"]
INSERT_AGENCY = _insert_sql("agency", AGENCY_COLS)
INSERT_CONTACT = _insert_sql("contact", CONTACT_COLS)
INSERT_METHOD = _insert_sql("method", METHOD_COLS)
UPDATE_TITLE = "UPDATE contact SET title = ?, updated_at = ? WHERE id = ?"


def rows(d: Directory, ts: str):
    """(agencies, contacts, methods) as tuples for executemany."""
    ags = [(a.id, OWNER, SCOPE, a.name, a.code, a.level, a.discipline, a.jurisdiction, ts, ts)
           for a in d.agencies]
    methods = [(a.phone_id, OWNER, SCOPE, None, a.id, "phone", a.phone, ts, ts)
               for a in d.agencies]
    contacts = []
    for c in d.contacts:
        contacts.append(contact_row(c, ts))
        methods += method_rows(c, ts)
    return ags, contacts, methods


def contact_row(c: Contact, ts: str) -> tuple:
    return (c.id, OWNER, SCOPE, c.name, c.agency.id, c.title, ts, ts)


def method_rows(c: Contact, ts: str) -> list[tuple]:
    return [(mid, OWNER, SCOPE, c.id, c.agency.id, kind, value, ts, ts)
            for mid, kind, value in c.methods]


def bulk_load(conn: sqlite3.Connection, ags, contacts, methods) -> None:
    """One transaction of executemany; methods before contacts so that the FTS trigger on
    contact reads all of a contact's methods at once (the cheap order for the baseline)."""
    conn.execute("BEGIN")
    conn.executemany(INSERT_AGENCY, ags)
    conn.executemany(INSERT_METHOD, methods)
    conn.executemany(INSERT_CONTACT, contacts)
    conn.execute("COMMIT")


def fts_query(text: str) -> str | None:
    """The query written straightforwardly: every word of the text as a prefix term."""
    toks = _TOKEN_RE.findall(text)
    return " ".join(f'"{t}"*' for t in toks) if toks else None


SEARCH_SQL = ("SELECT c.id, c.name, c.title FROM contact_fts "
              "JOIN contact c ON c.rowid = contact_fts.rowid "
              "WHERE contact_fts MATCH ? ORDER BY rank LIMIT ?")


def search(conn: sqlite3.Connection, text: str, limit: int = 20) -> list:
    """The raw FTS5 query a competent user writes: limited, matches in the name ranked first
    (a common word matches far fewer names than documents), then the other columns to fill
    the page; never ranking every match when the names fill it."""
    q = fts_query(text)
    if not q:
        return []
    rows = conn.execute(SEARCH_SQL, (f"name : ({q})", limit)).fetchall()
    if len(rows) < limit:
        seen = {r[0] for r in rows}
        rows += [r for r in conn.execute(SEARCH_SQL, (q, limit)).fetchall()
                 if r[0] not in seen][:limit - len(rows)]
    return rows
