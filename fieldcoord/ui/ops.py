# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes to the store on the user's behalf, done one way by every dialog and button (UI layer).

    outcome = ops.run(store, "Delete agency", lambda s: s.delete(rid), parent=window)
    if outcome is not None:
        window.show_changes(outcome.changes)

A write runs as one transaction and comes back as an Outcome: what it returned and what it
changed (kinds and record ids), so the views re-read exactly those records. A refusal (a
check, a permission, a full disk) is told to the user in plain words, in a message box titled
after what they tried, and leaves the database as it was.

A write that may be slow (an import, a bulk change) runs on a worker thread instead:
`in_background(db, write)` makes the work for tasks.run_with_progress, which opens its own
connection there (SQLite connections stay on their thread) and gives back the Outcome.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from PySide6.QtWidgets import QMessageBox, QWidget

from ..core.errors import FieldcoordError
from ..store import Store
from ..store.records import Changes
from .tasks import Work, user_message

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome(Generic[T]):
    value: T
    changes: Changes


def run(store: Store, title: str, write: Callable[[Store], T], parent: QWidget | None = None,
        on_error: Callable[[str], None] | None = None) -> Outcome[T] | None:
    """Run `write(store)` as one transaction on the GUI thread (a write of a few records).

    Returns its Outcome, or None when it was refused: the reason goes to `on_error`, or to a
    message box titled `title`.
    """
    try:
        value, changes = store.write(lambda: write(store))
    except (FieldcoordError, OSError) as exc:
        message = user_message(exc)
        log.info("%s refused: %s", title, message)
        if on_error is not None:
            on_error(message)
        else:
            QMessageBox.warning(parent, title, message)
        return None
    return Outcome(value, changes)


def in_background(db: str | Path,
                  write: Callable[[Store, Callable[[str, int, int], None], Callable[[], bool]],
                                  T]) -> Work:
    """The work, for tasks.Task or run_with_progress, of `write(store, progress, cancelled)` on
    a connection of its own to `db`, as one transaction; its result is the Outcome."""
    def work(progress, cancel) -> Outcome[T]:
        with Store.open(db) as store:
            value, changes = store.write(lambda: write(store, progress, cancel.is_set))
            return Outcome(value, changes)
    return work
