# SPDX-License-Identifier: GPL-3.0-or-later
"""New, Edit, Delete and Restore in the main window, each a write run as an operation (ui/ops.py)
whose changes bring exactly the records it touched up to date in every open list (UI layer).

A part of MainWindow (main_window.py).
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDialog, QMessageBox

from ..core import kinds as K
from ..core import workflow
from ..core.errors import FieldcoordError
from ..store import search as fts
from ..store.db import checkpoint
from ..store.records import Changes
from . import dialogs, ops, request_steps
from .pages import Page
from .tasks import Task

log = logging.getLogger(__name__)
INDEX_IDLE_MS = 5000       # search index entries of small writes are written after this lull


class RecordActions:
    """The window's writes of records, and refreshing what they changed."""

    def new_record(self, kind: str | None = None, preset: dict | None = None) -> str | None:
        if not kind:
            lst = self.current_list()
            if lst is None:
                return None
            kind, preset = lst.kind.name, lst.preset()
        dialog = dialogs.RecordDialog(self.store, kind, preset=preset, parent=self)
        if dialog.exec() != QDialog.Accepted:
            return None
        self.show_changes(dialog.changes)
        self.open_record(dialog.saved_id)
        return dialog.saved_id

    def edit_record(self, rid: str | None = None) -> None:
        rid = rid or self.selected_id()
        if not rid:
            return
        try:
            rec = self.store.get(rid)
        except FieldcoordError as e:
            QMessageBox.warning(self, "Edit", str(e))
            return
        if rec.deleted:
            QMessageBox.information(self, "Edit", f"This {K.KINDS[rec.kind].label} is deleted: "
                                    "restore it first.")
            return
        if not self.store.may_change(rec.owner, rec.scope, rec.kind):
            QMessageBox.information(self, "Edit", f"{rec.owner} maintains this record and does "
                                    "not let partners edit it.")
            return
        dialog = dialogs.RecordDialog(self.store, rec.kind, record=rec, parent=self)
        if dialog.exec() == QDialog.Accepted:
            self.show_changes(dialog.changes)

    def delete_record(self, rid: str | None = None) -> None:
        rid = rid or self.selected_id()
        if not rid:
            return
        rec = self.store.get(rid)
        label = K.KINDS[rec.kind].label
        if rec.deleted:
            return
        if not self.store.may_change(rec.owner, rec.scope, rec.kind):
            QMessageBox.information(self, f"Delete {label}", f"{rec.owner} maintains this "
                                    "record and does not let partners change it, so it cannot "
                                    "be deleted here.")
            return
        if not dialogs.confirm(self, f"Delete {label}",
                               f"Delete {label} “{rec.title}”? Its parts (numbers, members, "
                               "rows) go with it. You can restore it later from the list's "
                               "Deleted view."):
            return
        outcome = ops.run(self.store, f"Delete {label}", lambda s: s.delete(rid), parent=self)
        if outcome is None:
            return
        self.show_changes(outcome.changes)
        self.statusBar().showMessage(f"Deleted {label} “{rec.title}” · Ctrl+Shift+R "
                                     "restores it", 8000)
        self._last_deleted = rid

    def restore_record(self, rid: str | None = None) -> None:
        candidates = [rid] if rid else [self.selected_id(), getattr(self, "_last_deleted", None)]
        rec = None
        for cid in candidates:
            try:
                got = self.store.get(cid) if cid else None
            except FieldcoordError:
                got = None
            if got is not None and got.deleted:
                rec, rid = got, got.id
                break
        if rec is None:
            return
        outcome = ops.run(self.store, "Restore", lambda s: s.restore(rid), parent=self)
        if outcome is None:
            return
        self.show_changes(outcome.changes)
        self.statusBar().showMessage(f"Restored {K.KINDS[rec.kind].label} “{rec.title}”", 5000)

    def step_record(self, rid: str, state: str) -> None:
        """Move a resource request to the next step of its workflow (request_steps.py)."""
        changes = request_steps.take_step(self, self.store, rid, state)
        if changes is None:
            return
        self.show_changes(changes)
        self.statusBar().showMessage(f"Request moved to {workflow.label(state)}", 5000)

    def show_changes(self, changes: Changes) -> None:
        """Bring the views up to date after a write made here (its Outcome's changes)."""
        self.records_changed(changes.kinds, changes.ids)

    def records_changed(self, kinds, ids) -> None:
        """Update the lists that are open for these records (their rows only)."""
        ids = {i for i in ids or () if i}
        self.index_at_idle()
        self.sync_page.push_soon()          # while a peer is reachable, it goes out shortly
        self.alerts_panel.refresh_soon()
        if getattr(self, "overview_page", None) is not None:
            self.overview_page.refresh_soon()
        for page in self.pages.values():
            if isinstance(page, Page):
                page.records_changed(kinds or set(), ids)
        if self.stack.currentWidget() is self.search_panel and self.search.text().strip():
            self.search_panel.run()
        self.sync_page.refresh()

    def index_at_idle(self) -> None:
        """Write the search index entries that small writes left for later, and checkpoint the
        write-ahead log, once the window has been idle a few seconds (search finds those
        records meanwhile all the same)."""
        timer = getattr(self, "_index_timer", None)
        if timer is None:
            timer = self._index_timer = QTimer(self)
            timer.setSingleShot(True)
            timer.setInterval(INDEX_IDLE_MS)
            timer.timeout.connect(self._index_pending)
        timer.start()

    def _index_pending(self) -> None:
        """What Store.idle does, off the GUI thread with a connection of its own: the pending
        search index entries (up to 1,000 documents, about 40 ms), then the log copied into the
        database file (up to db.CHECKPOINT_PAGES pages at 10-20 µs each). A sync holding the
        database makes the worker wait, never the window."""
        running = getattr(self, "_idle_task", None)
        if running is not None and running.is_running():
            self._index_timer.start()           # still at it: the next idle moment looks again
            return
        path = self.store.path

        def work(progress, cancel) -> int:
            n = fts.index_apart(path)
            checkpoint(path)
            return n

        task = self._idle_task = Task(work, "Search index")
        task.failed.connect(self._idle_work_failed)
        task.start()

    def _idle_work_failed(self, message: str) -> None:
        # the database stayed busy (a long sync writing): the next idle moment does it
        log.info("search index entries left for later: %s", message)
        self._index_timer.start()

    def wait_for_idle_work(self) -> None:
        """Let the idle moment's work end (closing)."""
        running = getattr(self, "_idle_task", None)
        if running is not None and running.is_running():
            running.wait()

    def _on_external_change(self) -> None:
        """Records changed under us (sync, bundle import, a resolved conflict): re-read the
        lists that are open; say so quietly when the record on screen was among them."""
        self.index_at_idle()
        lst = self.current_list()
        shown = lst.detail.record if lst is not None else None    # as read before the change
        self.alerts_panel.refresh_soon()
        if getattr(self, "overview_page", None) is not None:
            self.overview_page.refresh_soon()
        for page in self.pages.values():
            if isinstance(page, Page):
                for lst in page.lists:
                    if lst._loaded:
                        lst.reload()
        if self.conflicts_page is not None and self.conflicts_page is not self.sender():
            self.conflicts_page.refresh()
        if self.sync_page is not self.sender():
            self.sync_page.refresh()          # the counts in the status bar
        if shown is not None:
            try:
                now = self.store.get(shown.id)
            except FieldcoordError:
                now = None
            if now is None or (now.values, now.scope, now.deleted) != \
                    (shown.values, shown.scope, shown.deleted):
                self.statusBar().showMessage(
                    f"“{shown.title}” was just changed by a sync: what you see is the latest",
                    10000)
