# SPDX-License-Identifier: GPL-3.0-or-later
"""Opening SQLite connections with fieldcoord's pragmas (store layer)."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from . import byref

BUSY_MS = 10000        # how long a write waits for another connection's to end
# Pages of write-ahead log after which a commit copies it into the database file (SQLite's
# default is 1,000). A checkpoint writes each page the log holds to its place in the file, about
# 10-20 µs a page here, once however often the page was rewritten since: a write of the store
# touches 4 to 5 pages, so with the default a fifth of single inserts paid a checkpoint's share.
# The desktop app checkpoints at idle (Replica.idle); this is the backstop, a log of about 16 MB.
CHECKPOINT_PAGES = 4000


def connect(path: str | Path, readonly: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, synchronous=NORMAL.

    Connections are per thread, as sqlite3 requires by default.
    """
    if readonly:
        conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, isolation_level=None)
    else:
        conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("PRAGMA cache_size = -32000")
    byref.register(conn)
    return conn


def checkpoint(path: str | Path) -> None:
    """Copy the write-ahead log into the database file without waiting for anyone (PASSIVE),
    through a connection of its own: for a thread other than the one that writes."""
    conn = connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        conn.close()


def statements(sql: str) -> list[str]:
    """Split a schema file into statements (triggers keep their inner semicolons)."""
    out: list[str] = []
    buf: list[str] = []
    for line in sql.splitlines():
        if line.strip().startswith("--") and not buf:
            continue
        buf.append(line)
        joined = "\n".join(buf).strip()
        if joined.endswith(";") and sqlite3.complete_statement(joined):
            out.append(joined)
            buf = []
    if "\n".join(buf).strip():
        out.append("\n".join(buf).strip())
    return out
