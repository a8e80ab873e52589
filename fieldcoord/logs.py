# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the app, the CLI and the hub write what happened: one rotating log file each in the
platform's user log folder (FIELDCOORD_LOG_DIR chooses another), under the `fieldcoord` logger.

A user who reports a problem can send the file; nothing in it is a token or a key (the code
logs names, ids and counts, never secrets).
"""
from __future__ import annotations

import logging
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

from .core.places import log_dir

MAX_BYTES = 1_000_000
KEEP = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d %(threadName)s] %(message)s"

_file_handler: list = []          # (path, handler) of the log file in use
_stderr_handler: list = []        # the --verbose handler, when on


class _Stderr(logging.StreamHandler):
    """Writes to whatever standard error is at the time (tests replace it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def log_file(program: str) -> Path:
    return log_dir() / f"{program}.log"


def setup(program: str, verbose: bool = False) -> Path | None:
    """Log `fieldcoord.*` to `<log dir>/<program>.log` (1 MB, 3 old files kept); with `verbose`,
    also to standard error, debug messages included. Returns the file, or None when it cannot
    be written (a read-only home): the program then runs without a log file."""
    logger = logging.getLogger("fieldcoord")
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    path = log_file(program)
    if not _file_handler or _file_handler[0][0] != path:
        for _, old in _file_handler:
            logger.removeHandler(old)
            old.close()
        _file_handler.clear()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=KEEP,
                                          encoding="utf-8", delay=True)
        except OSError:
            return None
        handler.setFormatter(logging.Formatter(FORMAT))
        logger.addHandler(handler)
        _file_handler.append((path, handler))
    if verbose and not _stderr_handler:
        err = _Stderr()
        err.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger.addHandler(err)
        _stderr_handler.append(err)
    elif not verbose and _stderr_handler:
        logger.removeHandler(_stderr_handler.pop())
    return path


def log_crash(program: str, exc_type, exc, tb) -> Path | None:
    """Write an unexpected error's traceback to the program's log; returns the file."""
    path = setup(program)
    logging.getLogger("fieldcoord").critical("unexpected error", exc_info=(exc_type, exc, tb))
    for _, h in _file_handler:
        h.flush()
    return path
