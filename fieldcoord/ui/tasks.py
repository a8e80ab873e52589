# SPDX-License-Identifier: GPL-3.0-or-later
"""Background work for the app: sync, import, export and slow queries off the GUI thread.

    task = Task(work, "Importing contacts")     # work(progress, cancel) -> result
    task.progressed.connect(...)                # (label, value, maximum), on the GUI thread
    task.succeeded.connect(...)                 # (result)
    task.failed.connect(...)                    # (message for the user, never a traceback)
    task.start()
    task.cancel()                               # asks the work to stop; `cancelled` follows

`work` runs on a worker thread. It gets `progress(label, value, maximum)` and a
threading.Event that is set when the user cancels; it must open its own Store (SQLite
connections stay on the thread that made them). Results and errors come back as Qt signals,
which Qt delivers on the GUI thread. `run_with_progress` wraps a task in a modal progress
dialog with a Cancel button.
"""
from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from ..core.errors import Cancelled, FieldcoordError
from ..core.failures import DiskFull, is_disk_full

log = logging.getLogger(__name__)

Work = Callable[[Callable[[str, int, int], None], threading.Event], Any]


def user_message(exc: BaseException) -> str:
    """Plain words for an error, fit for a dialog: our own errors speak for themselves."""
    if isinstance(exc, FieldcoordError):
        return str(exc)
    if is_disk_full(exc):
        return str(DiskFull())
    if isinstance(exc, OSError):
        return f"{exc.strerror or exc} ({exc.filename})" if exc.filename else str(exc)
    return f"Something went wrong: {type(exc).__name__}: {exc}"


class _Worker(QThread):
    progressed = Signal(str, int, int)
    done = Signal(object)
    error = Signal(str)
    stopped = Signal()

    def __init__(self, work: Work, cancel: threading.Event):
        super().__init__()
        self.work = work
        self.cancel_event = cancel

    def run(self) -> None:
        try:
            result = self.work(self.progressed.emit, self.cancel_event)
        except Cancelled:
            self.stopped.emit()
        except Exception as exc:   # reported to the user in plain words; the trace goes to the log
            if self.cancel_event.is_set():
                self.stopped.emit()
            else:
                log.error("background task failed:\n%s", traceback.format_exc())
                self.error.emit(user_message(exc))
        else:
            if self.cancel_event.is_set():
                self.stopped.emit()
            else:
                self.done.emit(result)


class Task(QObject):
    """One piece of background work; signals arrive on the thread that created the task."""

    progressed = Signal(str, int, int)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()            # after any of the three above

    _running: set = set()          # keeps running tasks alive without a parent

    def __init__(self, work: Work, title: str = "", parent: QObject | None = None):
        super().__init__(parent)
        self.title = title
        self._cancel = threading.Event()
        self._worker = _Worker(work, self._cancel)
        self._worker.progressed.connect(self.progressed)
        self._worker.done.connect(self._on_done)
        self._worker.error.connect(self._on_error)
        self._worker.stopped.connect(self._on_stopped)
        # the thread object must outlive its thread: released only once the thread has ended
        self._worker.finished.connect(self._release)
        self.result: Any = None
        self.error: str | None = None
        self.state = "new"         # new, running, succeeded, failed, cancelled

    def start(self) -> Task:
        self.state = "running"
        Task._running.add(self)
        self._worker.start()
        return self

    def cancel(self) -> None:
        self._cancel.set()

    def is_running(self) -> bool:
        return self.state == "running"

    def wait(self, ms: int = 30000) -> bool:
        """Block until the worker thread ends (for tests and shutdown)."""
        return self._worker.wait(ms)

    def _end(self, state: str) -> None:
        self.state = state
        self.finished.emit()

    def _release(self) -> None:
        self._worker.wait()
        Task._running.discard(self)

    def _on_done(self, result) -> None:
        self.result = result
        self.succeeded.emit(result)
        self._end("succeeded")

    def _on_error(self, message: str) -> None:
        self.error = message
        self.failed.emit(message)
        self._end("failed")

    def _on_stopped(self) -> None:
        self.cancelled.emit()
        self._end("cancelled")


def run_with_progress(parent: QWidget | None, title: str, work: Work,
                      on_success: Callable[[Any], None] | None = None,
                      on_failure: Callable[[str], None] | None = None) -> Task:
    """Start `work` in the background behind a window-modal progress dialog with Cancel."""
    dialog = QProgressDialog(title, "Cancel", 0, 0, parent)
    dialog.setWindowTitle(title)
    dialog.setMinimumDuration(300)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    task = Task(work, title, parent)

    def on_progress(label: str, value: int, maximum: int) -> None:
        dialog.setLabelText(f"{title}: {label}")
        dialog.setMaximum(max(maximum, 0))
        dialog.setValue(min(value, maximum) if maximum else 0)

    task.progressed.connect(on_progress)
    dialog.canceled.connect(task.cancel)
    task.finished.connect(dialog.close)
    if on_success:
        task.succeeded.connect(on_success)
    if on_failure:
        task.failed.connect(on_failure)
    return task.start()
