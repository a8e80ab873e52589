# SPDX-License-Identifier: GPL-3.0-or-later
"""Forward schema migrations, each in one transaction, recorded in _sqlite_migrations (store layer).

A migration is never edited once released: new schema goes into a new numbered migration.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from .db import statements

SCHEMA_DIR = Path(__file__).with_name("schema")
MIGRATION_SET = "fieldcoord"

migrations = Migrations(MIGRATION_SET)


def _run_file(db: Database, name: str) -> None:
    for stmt in statements((SCHEMA_DIR / name).read_text(encoding="utf-8")):
        db.conn.execute(stmt)


@migrations(name="0001_records")
def m0001_records(db: Database) -> None:
    _run_file(db, "0001_records.sql")


@migrations(name="0002_search")
def m0002_search(db: Database) -> None:
    _run_file(db, "0002_search.sql")
    # Databases made at version 1 already hold records: index them.
    from .search import rebuild_all
    rebuild_all(db.conn)


NAMES = [m.name for m in migrations._migrations]
LATEST = NAMES[-1]


def applied(conn: sqlite3.Connection) -> list[str]:
    return [m.name for m in migrations.applied(Database(conn))]


def migrate(conn: sqlite3.Connection, stop_before: str | None = None) -> list[str]:
    """Apply the pending migrations (all, or those before `stop_before`); returns their names."""
    db = Database(conn)
    before = set(applied(conn))
    unknown = before - set(NAMES)
    if unknown:
        raise RuntimeError("this database was written by a newer fieldcoord "
                           f"(schema {', '.join(sorted(unknown))}); update fieldcoord to open it")
    migrations.apply(db, stop_before=stop_before)
    return [n for n in applied(conn) if n not in before]
