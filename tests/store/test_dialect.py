# SPDX-License-Identifier: GPL-3.0-or-later
"""SQLite's SQL said for PostgreSQL (store.dialect, store.postgres): each construct the store
uses answers on PostgreSQL as it does on SQLite, run side by side on both."""
import sqlite3

import pytest

from fieldcoord.store import dialect
from fieldcoord.store.postgres import PgConnection

TABLES = [
    "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT)",
    "CREATE TABLE site (ord INTEGER PRIMARY KEY, uuid TEXT NOT NULL UNIQUE, agency TEXT, "
    "key BLOB, verified INTEGER NOT NULL DEFAULT 0)",
    "CREATE TABLE head (stream INTEGER NOT NULL, seq INTEGER NOT NULL, hash BLOB NOT NULL, "
    "PRIMARY KEY (stream, seq)) WITHOUT ROWID",
    "CREATE TABLE stream (id INTEGER PRIMARY KEY, origin INTEGER NOT NULL REFERENCES site (ord), "
    "audience TEXT NOT NULL, seq INTEGER NOT NULL DEFAULT 0, UNIQUE (origin, audience))",
    "CREATE INDEX site_by_agency ON site (coalesce(agency, '') COLLATE NOCASE, ord)",
]


@pytest.fixture
def both(postgres, request):
    lite = sqlite3.connect(":memory:", isolation_level=None)
    for t in TABLES:
        lite.execute(t)
    dsn = postgres.create_database(f"d{abs(hash(request.node.name)) % 10**9}")
    import psycopg
    with psycopg.connect(dsn, autocommit=True) as c:
        for stmt in dialect.schema(lite):
            c.execute(stmt)
    pg = PgConnection(dsn)
    yield lite, pg
    pg.close()
    lite.close()


def same(lite, pg, sql, params=()):
    a = lite.execute(sql, params)
    b = pg.execute(sql, params)
    if a.description is None:
        assert a.rowcount == b.rowcount, sql
        return a.rowcount
    got_a, got_b = a.fetchall(), b.fetchall()
    assert got_a == got_b, (sql, got_a, got_b)
    return got_a


def test_upserts_ignores_and_row_ids(both):
    lite, pg = both
    for conn in (lite, pg):
        assert conn.execute("INSERT INTO site (uuid, agency) VALUES (?, ?)", ("u1", "CCF")) \
            .lastrowid == 1
        conn.execute("INSERT INTO site (ord, uuid, agency) VALUES (?, ?, ?)", (7, "u7", "MPD"))
        assert conn.execute("INSERT INTO site (uuid) VALUES (?)", ("u8",)).lastrowid == 8
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", ("epoch", "a"))
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", ("epoch", "b"))
        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", ("epoch", "c"))
        conn.execute("INSERT OR REPLACE INTO head (stream, seq, hash) VALUES (?, ?, ?)",
                     (1, 5, b"\x00\xff"))
        conn.execute("INSERT OR REPLACE INTO head (stream, seq, hash) VALUES (?, ?, ?)",
                     (1, 5, b"\x01"))
    same(lite, pg, "SELECT key, value FROM meta")
    same(lite, pg, "SELECT stream, seq, hash, hex(hash) FROM head")
    same(lite, pg, "SELECT ord, uuid FROM site ORDER BY ord")


def test_comparisons_cases_and_scalars(both):
    lite, pg = both
    for conn in (lite, pg):
        conn.executemany("INSERT INTO site (ord, uuid, agency, verified) VALUES (?, ?, ?, ?)",
                         [(1, "a", "CCF", 1), (2, "b", "ccf", 0), (3, "c", None, 1)])
    same(lite, pg, "SELECT ord FROM site WHERE agency = ? COLLATE NOCASE ORDER BY ord", ("Ccf",))
    same(lite, pg, "SELECT ord FROM site WHERE agency LIKE ? ORDER BY ord", ("cc%",))
    same(lite, pg, "SELECT ord FROM site WHERE agency IS ? ORDER BY ord", (None,))
    same(lite, pg, "SELECT ord FROM site WHERE agency IS NOT ? ORDER BY ord", ("CCF",))
    same(lite, pg, "SELECT max(ord, verified * 10), min(ord, 2) FROM site ORDER BY ord")
    same(lite, pg, "SELECT max(ord), count(*) FROM site WHERE verified % 2 = 1")
    same(lite, pg, "SELECT '?' || uuid || '%' FROM site WHERE ord = ?", (1,))
    same(lite, pg, "SELECT ord FROM site ORDER BY coalesce(agency, '') COLLATE NOCASE, ord")
    same(lite, pg, "SELECT ord FROM site WHERE key IS NULL AND ord IN (?, ?)", (1, 3))
    assert same(lite, pg, "UPDATE site SET verified = verified + 1 WHERE agency IS NOT NULL") == 2


def test_a_statement_it_cannot_say_is_refused_not_guessed():
    with pytest.raises(ValueError, match="primary key is not known"):
        dialect.to_postgres("INSERT OR REPLACE INTO nowhere (a) VALUES (?)", {})
