# SPDX-License-Identifier: GPL-3.0-or-later
"""Pausing Python's cyclic garbage collector while a large write runs (core layer).

A transaction that writes thousands of records keeps a note of each until it commits (the row
for its search document, what changed for the views). Those notes cannot be freed before the
commit, yet every few hundred allocations the collector walks them again, and now and then it
walks every object the process holds: about a tenth of a 100,000-record import went there,
freeing nothing. `pause()` stops the automatic passes until the matching `resume()`; pauses
nest and may come from several threads (each store's connection is its own thread's), and the
collector runs again when the last one ends, as it was before the first. Reference counting
still frees everything that is not part of a cycle meanwhile.
"""
from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_held = 0                   # pauses not yet resumed
_was_enabled = False        # whether the collector ran before the first of them


def pause() -> None:
    """Stop the collector's automatic passes; call `resume()` once for every call."""
    global _held, _was_enabled
    with _lock:
        if _held == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _held += 1


def resume() -> None:
    """End one pause; the last one lets the collector run again if it ran before."""
    global _held
    with _lock:
        if _held == 0:
            return
        _held -= 1
        if _held == 0 and _was_enabled:
            gc.enable()


def paused() -> int:
    """How many pauses are held (for tests)."""
    return _held
