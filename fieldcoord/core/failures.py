# SPDX-License-Identifier: GPL-3.0-or-later
"""Failures of the machine rather than of the input, in plain words (core layer)."""
from __future__ import annotations

import errno
import sqlite3

from .errors import FieldcoordError

SQLITE_FULL = 13
DISK_FULL = "the disk is full; nothing was lost: free some space and {again}"


class DiskFull(FieldcoordError):
    """The disk (or the user's quota) is full; what was being written was rolled back."""

    def __init__(self, again: str = "try again"):
        super().__init__(DISK_FULL.format(again=again))


def is_disk_full(exc: BaseException | None) -> bool:
    """Whether an error, or one it was raised from, is a full disk or quota (OSError ENOSPC or
    EDQUOT, SQLite's SQLITE_FULL)."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, DiskFull):
            return True
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(exc, sqlite3.Error) and (
                getattr(exc, "sqlite_errorcode", None) == SQLITE_FULL
                or "database or disk is full" in str(exc)):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False
