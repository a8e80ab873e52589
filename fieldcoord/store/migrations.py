# SPDX-License-Identifier: GPL-3.0-or-later
"""Forward schema migrations, each in one transaction, recorded in _sqlite_migrations (store layer).

A migration is never edited once released: new schema goes into a new numbered migration.
sqlite-utils (slow to import) is loaded only when a migration is pending.
"""
from __future__ import annotations

import re
import sqlite3
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ..core import kinds as K
from . import ddl
from .db import statements

if TYPE_CHECKING:
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

SCHEMA_DIR = Path(__file__).with_name("schema")
MIGRATION_SET = "fieldcoord"
TABLE = "_sqlite_migrations"


def _run_file(conn: sqlite3.Connection, name: str) -> None:
    for stmt in statements((SCHEMA_DIR / name).read_text(encoding="utf-8")):
        conn.execute(stmt)


def m0001_records(db: Database) -> None:
    _run_file(db.conn, "0001_records.sql")


def m0002_search(db: Database) -> None:
    _run_file(db.conn, "0002_search.sql")
    # Databases made at version 1 already hold records: index them.
    from .search import rebuild_all
    rebuild_all(db.conn)


def m0003_sync(db: Database) -> None:
    _run_file(db.conn, "0003_sync.sql")


def m0004_ordering(db: Database) -> None:
    _run_file(db.conn, "0004_ordering.sql")


def m0005_trust(db: Database) -> None:
    _run_file(db.conn, "0005_trust.sql")


def m0006_sealed(db: Database) -> None:
    _run_file(db.conn, "0006_sealed.sql")


def m0007_revocation(db: Database) -> None:
    _run_file(db.conn, "0007_revocation.sql")


def m0008_facility(db: Database) -> None:
    ddl.ensure(db.conn, K.KINDS["facility"])


def m0010_action_close(db: Database) -> None:
    # after-action items from operations too, and the note that closes one
    ddl.ensure(db.conn, K.KINDS["action"])


def m0011_line_checks(db: Database) -> None:
    # what the last duty-line check call found, and when
    ddl.ensure(db.conn, K.KINDS["method"])
    _run_file(db.conn, "0011_line_checks.sql")


def m0012_line_indexes(db: Database) -> None:
    # the 24/7 lines and the flagged ones, found without reading every contact method
    ddl.ensure(db.conn, K.KINDS["method"])


def m0013_request_agreement(db: Database) -> None:
    # the agreement a resource request runs under
    ddl.ensure(db.conn, K.KINDS["request"])


def m0014_search_pending(db: Database) -> None:
    # full-text index entries written at idle: the documents whose entries are stale
    _run_file(db.conn, "0014_search_pending.sql")


def m0015_agency_codes(db: Database) -> None:
    # live agencies by code: search finds a code being typed without reading every agency
    ddl.ensure(db.conn, K.KINDS["agency"])


def m0016_pending_documents(db: Database) -> None:
    # pending search documents hold the new document, search_doc what the indexes hold: the
    # entries noted the old way are written to the indexes first
    from .search import index_stale
    index_stale(db.conn)
    _run_file(db.conn, "0016_pending_documents.sql")


def m0017_search_mark(db: Database) -> None:
    # every document is current or noted in search_pending: the marks start at the streams' ends
    _run_file(db.conn, "0017_search_mark.sql")
    from .search import mark_all, own_ord
    mark_all(db.conn, own_ord(db.conn))


def m0018_search_kinds(db: Database) -> None:
    # a search document's number carries its kind: search ranks by kind in the index query
    from .search import number_by_kind
    number_by_kind(db.conn)


def m0019_recent_changes(db: Database) -> None:
    _recent_changes(db.conn)


def m0020_creations_by_reference(db: Database) -> None:
    # No table changes: from this version a record's creation may be logged by reference to its
    # row (store.byref), which an older release would read as a change of nothing; the version
    # makes an older release refuse the database instead (migrate: "written by a newer").
    del db


def m0021_search_by_row(db: Database) -> None:
    # a search document's number is its record's row number (with its kind's code): search_doc
    # keeps only what the indexes read, every document is made again
    _run_file(db.conn, "0021_search_by_row.sql")
    from .search import rebuild_all
    rebuild_all(db.conn)


def m0022_creation_index(db: Database) -> None:
    _run_file(db.conn, "0022_creation_index.sql")


def m0023_title_order(db: Database) -> None:
    _run_file(db.conn, "0023_title_order.sql")


def m0024_short_queries(db: Database) -> None:
    # short queries read the large lists' own title indexes; the full-text index is made
    # again from search_doc with its three-letter prefix index alone; the documents keep each
    # phone's digits once and the digits index is made from them
    _run_file(db.conn, "0024_short_queries.sql")
    from .search import compact_digits, index_digits
    conn = db.conn
    conn.create_function("fc_compact_digits", 1, compact_digits, deterministic=True)
    conn.execute("UPDATE search_doc SET digits = fc_compact_digits(digits) WHERE digits != ''")
    conn.execute("UPDATE search_pending SET digits = fc_compact_digits(digits) "
                 "WHERE digits IS NOT NULL AND digits != ''")
    index_digits(conn)


def _recent_changes(conn: sqlite3.Connection) -> None:
    """change_recent, made first by migrate(): the earlier steps that write search documents
    read the log's positions (OWN_POSITION), which count the entries waiting there."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'change_recent'").fetchone():
        _run_file(conn, "0019_recent_changes.sql")


def m0009_search_all(db: Database) -> None:
    # every kind with a page is searchable now: index the records already held
    from .search import rebuild_all
    rebuild_all(db.conn)


STEPS = (("0001_records", m0001_records), ("0002_search", m0002_search),
         ("0003_sync", m0003_sync), ("0004_ordering", m0004_ordering),
         ("0005_trust", m0005_trust), ("0006_sealed", m0006_sealed),
         ("0007_revocation", m0007_revocation), ("0008_facility", m0008_facility),
         ("0009_search_all", m0009_search_all), ("0010_action_close", m0010_action_close),
         ("0011_line_checks", m0011_line_checks), ("0012_line_indexes", m0012_line_indexes),
         ("0013_request_agreement", m0013_request_agreement),
         ("0014_search_pending", m0014_search_pending),
         ("0015_agency_codes", m0015_agency_codes),
         ("0016_pending_documents", m0016_pending_documents),
         ("0017_search_mark", m0017_search_mark),
         ("0018_search_kinds", m0018_search_kinds),
         ("0019_recent_changes", m0019_recent_changes),
         ("0020_creations_by_reference", m0020_creations_by_reference),
         ("0021_search_by_row", m0021_search_by_row),
         ("0022_creation_index", m0022_creation_index),
         ("0023_title_order", m0023_title_order),
         ("0024_short_queries", m0024_short_queries))
NAMES = [name for name, _ in STEPS]
LATEST = NAMES[-1]


_CREATE_INDEX = re.compile(r'^CREATE\s+(?:UNIQUE\s+)?INDEX\s+"?(\w+)"?', re.IGNORECASE)


@lru_cache(maxsize=1)
def index_definitions() -> dict[str, str]:
    """{index name: the CREATE INDEX statement that made it}, as the latest schema has it."""
    out: dict[str, str] = {}
    for kind in K.KINDS.values():
        out.update(ddl.indexes(kind))
    for name in NAMES:
        path = SCHEMA_DIR / f"{name}.sql"
        if path.exists():
            for stmt in statements(path.read_text(encoding="utf-8")):
                code = "\n".join(line for line in stmt.splitlines()
                                  if not line.strip().startswith("--")).strip()
                m = _CREATE_INDEX.match(code)
                if m:
                    out[m.group(1)] = code
    return out


@lru_cache(maxsize=1)
def _migrations() -> Migrations:
    from sqlite_utils.migrations import Migrations
    migrations = Migrations(MIGRATION_SET)
    for name, fn in STEPS:
        migrations(name=name)(fn)
    return migrations


def applied(conn: sqlite3.Connection) -> list[str]:
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (TABLE,)).fetchone():
        return []
    return [r[0] for r in conn.execute(
        f"SELECT name FROM {TABLE} WHERE migration_set = ? ORDER BY id", (MIGRATION_SET,))]


def pending(path: str | Path) -> list[str]:
    """The migrations the database at `path` still needs (read without writing; none for a
    file that is not a fieldcoord database, which opening it then refuses)."""
    from .db import connect
    try:
        conn = connect(path, readonly=True)
        try:
            done = set(applied(conn))
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return []
    return [name for name in NAMES if name not in done] if done else []


def migrate(conn: sqlite3.Connection, stop_before: str | None = None) -> list[str]:
    """Apply the pending migrations (all, or those before `stop_before`); returns their names."""
    before = applied(conn)
    unknown = set(before) - set(NAMES)
    if unknown:
        raise RuntimeError("this database was written by a newer fieldcoord "
                           f"(schema {', '.join(sorted(unknown))}); update fieldcoord to open it")
    if before == NAMES:
        return []
    from sqlite_utils import Database
    if stop_before is None or NAMES.index(stop_before) > NAMES.index("0019_recent_changes"):
        _recent_changes(conn)
    _migrations().apply(Database(conn), stop_before=stop_before)
    return [n for n in applied(conn) if n not in before]
