# SPDX-License-Identifier: GPL-3.0-or-later
"""The import wizard's last pages: the trial run, the import with progress and Stop, the report
(UI layer)."""
from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWizard,
    QWizardPage,
)

from ..tasks import Task
from .common import (
    Summary,
    fill_matches,
    fill_problems,
    import_work,
    matches_table,
    message_label,
    problems_table,
    show_message,
)

if TYPE_CHECKING:
    from . import ImportWizard


class _TaskPage(QWizardPage):
    """A page that runs an import in the background, with progress and Stop."""

    dry_run = False

    def __init__(self, wizard: ImportWizard):
        super().__init__()
        self.w = wizard
        self.task: Task | None = None
        self.result = None
        self.layout_ = QVBoxLayout(self)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.layout_.addWidget(self.status)
        bar = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Progress")
        self.progress.setTextVisible(True)
        bar.addWidget(self.progress, 1)
        self.stop = QPushButton("&Stop")
        self.stop.setToolTip("Stop: nothing of this import is kept")
        self.stop.clicked.connect(self.cancel)
        bar.addWidget(self.stop)
        self.layout_.addLayout(bar)
        self.message = message_label()
        self.layout_.addWidget(self.message)

    def start(self) -> None:
        self.result = None
        show_message(self.message, "")
        self.progress.setRange(0, 0)
        self.progress.show()
        self.stop.show()
        self.stop.setEnabled(True)
        self.completeChanged.emit()
        work = import_work(self.w.db_path, self.w.fmt(), self.w.paths(), self.w.options(),
                            self.dry_run)
        self.task = task = self.w.track(Task(work, self.title(), self))
        for signal, handler in ((task.progressed, self._on_progress),
                                (task.succeeded, self._on_done),
                                (task.failed, self._on_failed),
                                (task.cancelled, self._on_cancelled),
                                (task.finished, self._on_finished)):
            signal.connect(partial(self._if_current, task, handler))
        task.start()

    def _if_current(self, task: Task, handler, *args) -> None:
        if task is self.task:                 # a run left behind by Back changes nothing here
            handler(*args)

    def running(self) -> bool:
        return self.task is not None and self.task.is_running()

    def cancel(self) -> None:
        if self.running():
            self.stop.setEnabled(False)
            self.status.setText("Stopping…")
            self.task.cancel()

    def _on_progress(self, label: str, value: int, maximum: int) -> None:
        self.status.setText(label)
        self.progress.setRange(0, max(maximum, 0))
        if maximum:
            self.progress.setValue(min(value, maximum))

    def _on_done(self, result) -> None:
        self.result = result

    def _on_failed(self, message: str) -> None:
        self.status.setText("Nothing was imported.")
        show_message(self.message, message)

    def _on_cancelled(self) -> None:
        self.status.setText("Stopped: nothing was imported, the directory is as it was.")

    def _on_finished(self) -> None:
        self.progress.hide()
        self.stop.hide()
        self.completeChanged.emit()

    def cleanupPage(self) -> None:
        self.cancel()

    def isComplete(self) -> bool:
        return self.result is not None and not self.running()


class CheckPage(_TaskPage):
    """3. A dry run: what the import would add, update and skip."""

    dry_run = True

    def __init__(self, wizard):
        super().__init__(wizard)
        self.setTitle("Check what will change")
        self.setSubTitle("A trial run: nothing is written yet.")
        self.setButtonText(QWizard.NextButton, "&Import")
        self.summary = Summary()
        self.layout_.addWidget(self.summary)
        self.matches_label = QLabel()
        self.matches_label.setWordWrap(True)
        self.layout_.addWidget(self.matches_label)
        self.matches = matches_table()
        self.matches.itemChanged.connect(self._on_match_toggled)
        self.layout_.addWidget(self.matches, 1)
        self.skipped = problems_table([])
        self.layout_.addWidget(self.skipped, 1)
        self.layout_.addStretch(1)
        self._checked_for = None

    def _show_tables(self, matches: bool, skipped: bool) -> None:
        self.matches_label.setVisible(matches)
        self.matches.setVisible(matches)
        self.skipped.setVisible(skipped)
        self.layout_.setStretch(self.layout_.count() - 1, 0 if matches or skipped else 1)

    def initializePage(self) -> None:
        # the rows told apart stay so while the files and the mapping stay as they were
        key = json.dumps([self.w.fmt(), self.w.paths(), self.w.mapping_page.options()],
                         sort_keys=True, default=str)
        if key != self._checked_for:
            self.w.kept_apart.clear()
        self._checked_for = key
        self.summary.hide()
        self._show_tables(False, False)
        self.status.setText("Reading the files…")
        self.start()

    def can_keep_apart(self) -> bool:
        """Whether a matched row or card can be imported as a new contact instead."""
        return self.w.fmt() in ("csv", "vcard")

    def _on_done(self, result) -> None:
        super()._on_done(result)
        report, _ids = result
        self.status.setText("This is what the import will do:")
        self.summary.set_report(report)
        self.summary.show()
        n = len(report.matches)
        if n:
            one, many = ("row", "rows") if self.w.fmt() == "csv" else ("entry", "entries")
            rows = f"1 {one} matches a contact" if n == 1 else f"{n} {many} match contacts"
            self.matches_label.setText(
                f"{rows} already in the directory" + (
                    ": a ticked row updates its contact; untick it to import the row as a "
                    "new contact instead." if self.can_keep_apart() else
                    ": each is merged with its contact, not added again."))
        fill_matches(self.matches, report.matches, self.can_keep_apart())
        self.matches.setEnabled(True)
        fill_problems(self.skipped, report.skipped)
        self._show_tables(bool(n), bool(report.skipped))

    def _on_finished(self) -> None:
        self.matches.setEnabled(True)
        super()._on_finished()

    def set_kept_apart(self, source: str, line: int, apart: bool) -> None:
        """Import the row at `source`:`line` as a new contact (or merge it again), and run the
        trial again to show what that changes."""
        key = (source, line)
        if apart == (key in self.w.kept_apart):
            return
        if apart:
            self.w.kept_apart.add(key)
        else:
            self.w.kept_apart.discard(key)
        self.matches.setEnabled(False)          # one change at a time, until the trial is back
        self.status.setText("Checking again…")
        self.start()

    def _on_match_toggled(self, item: QTableWidgetItem) -> None:
        where = item.data(Qt.UserRole)
        if item.column() != 0 or not where or not (item.flags() & Qt.ItemIsUserCheckable):
            return
        self.set_kept_apart(where[0], where[1], item.checkState() != Qt.Checked)


class ImportPage(_TaskPage):
    """4. The import itself."""

    def __init__(self, wizard):
        super().__init__(wizard)
        self.setTitle("Importing")
        self.setSubTitle("The import is one transaction: stopped or failed, it changes nothing.")
        self.setCommitPage(True)
        self.setButtonText(QWizard.CommitButton, "&Report")
        self.layout_.addStretch(1)

    def initializePage(self) -> None:
        self.status.setText("Importing…")
        self.start()

    def _on_done(self, result) -> None:
        super()._on_done(result)
        self.status.setText("Import finished.")

    def _on_finished(self) -> None:
        if self.result is not None and self.w.currentPage() is self:
            self.w.next()                     # the report (and on_done) before anything else
        super()._on_finished()


class ReportPage(QWizardPage):
    """5. What the import did: counts and each skipped entry with its file and line."""

    def __init__(self, wizard):
        super().__init__()
        self.w = wizard
        self.setTitle("Import report")
        layout = QVBoxLayout(self)
        self.summary = Summary()
        layout.addWidget(self.summary)
        self.matches_label = QLabel("Rows that matched a contact already in the directory")
        layout.addWidget(self.matches_label)
        self.matches = matches_table()
        layout.addWidget(self.matches, 1)
        self.skipped_label = QLabel("Skipped entries")
        layout.addWidget(self.skipped_label)
        self.skipped = problems_table([])
        layout.addWidget(self.skipped, 1)
        layout.addStretch(0)

    def initializePage(self) -> None:
        report, ids = self.w.import_page.result
        files = ", ".join(Path(f).name for f in report.files)
        self.setSubTitle(f"{files} imported.")
        self.summary.set_report(report)
        fill_matches(self.matches, report.matches, checkable=False)
        self.matches.setVisible(bool(report.matches))
        self.matches_label.setVisible(bool(report.matches))
        fill_problems(self.skipped, report.skipped)
        self.skipped.setVisible(bool(report.skipped))
        self.skipped_label.setVisible(bool(report.skipped))
        self.w.finish_import(report, ids)
