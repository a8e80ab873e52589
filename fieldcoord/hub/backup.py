# SPDX-License-Identifier: GPL-3.0-or-later
"""Backups of a hub's database, taken while it serves (hub layer).

A backup is one consistent copy made through SQLite's backup API: it reads the database inside
one read transaction, which in WAL mode never stops the hub from writing. The copy is checked
(SQLite's quick check, and that it is a fieldcoord database) under a temporary name and only
then given its final one, so a folder of backups never holds a half-written file. The hub's
encrypted key file (`<database>.keys`), when it has one, is copied beside it. `hub restore`
takes a backup back.
"""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import ValidationError

# <database name>-YYYYmmddTHHMMSSZ.db: names sort as their times do
_STAMP = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class Backup:
    path: Path
    size: int                   # bytes of the database copy
    keys: Path | None           # the copy of the key file, when the hub has one
    removed: tuple[Path, ...]   # older backups removed to keep `keep`


def _pattern(db: Path) -> re.Pattern[str]:
    return re.compile(re.escape(db.stem) + r"-(\d{8}T\d{6}Z)(?:-(\d+))?\.db")


def backups(db: Path, folder: Path) -> list[Path]:
    """The backups of `db` in `folder`, oldest first."""
    if not folder.is_dir():
        return []
    pat = _pattern(db)
    found = [(m.group(1), int(m.group(2) or 1), p) for p in folder.iterdir()
             if (m := pat.fullmatch(p.name))]
    return [p for _, _, p in sorted(found)]


def backup(db: Path, folder: Path, keep: int | None = None) -> Backup:
    """Copy the hub's database into `folder` as <name>-<UTC time>.db; with `keep`, remove the
    oldest backups beyond that many. Safe while the hub serves."""
    if not db.is_file():
        raise ValidationError(f"no database at {db}")
    if keep is not None and keep < 1:
        raise ValidationError("--keep must be at least 1")
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime(_STAMP, time.gmtime())
    # two backups within one second: the later one numbered after every other of that second
    pat = _pattern(db)
    n = max((int(m.group(2) or 1) for p in folder.iterdir()
             if (m := pat.fullmatch(p.name)) and m.group(1) == stamp), default=0) + 1
    target = folder / (f"{db.stem}-{stamp}.db" if n == 1 else f"{db.stem}-{stamp}-{n}.db")
    part = target.with_name(target.name + ".part")
    part.unlink(missing_ok=True)
    src = sqlite3.connect(str(db))
    try:
        src.execute("PRAGMA busy_timeout = 10000")
        dst = sqlite3.connect(str(part))
        try:
            src.backup(dst)                 # all pages in one step: one read transaction
            dst.execute("PRAGMA journal_mode = DELETE")
            _check(dst, db)
        finally:
            dst.close()
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    _sync_file(part)
    os.replace(part, target)
    _sync_dir(folder)
    keys = Path(str(db) + ".keys")
    kept_keys = None
    if keys.is_file():
        kept_keys = Path(str(target) + ".keys")
        shutil.copyfile(keys, kept_keys)
        os.chmod(kept_keys, 0o600)
    os.chmod(target, 0o600)                 # it holds every partner's shared records
    removed: list[Path] = []
    if keep is not None:
        for old in backups(db, folder)[:-keep]:
            old.unlink(missing_ok=True)
            Path(str(old) + ".keys").unlink(missing_ok=True)
            removed.append(old)
    return Backup(target, target.stat().st_size, kept_keys, tuple(removed))


def _check(conn: sqlite3.Connection, db: Path) -> None:
    got = conn.execute("PRAGMA quick_check").fetchone()[0]
    if got != "ok":
        raise ValidationError(f"the copy of {db} failed SQLite's check ({got}); the backup "
                              "was not kept")
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone() is None:
        raise ValidationError(f"{db} is not a fieldcoord database")


def _sync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
