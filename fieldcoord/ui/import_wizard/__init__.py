# SPDX-License-Identifier: GPL-3.0-or-later
"""File > Import… as a wizard (UI layer); File > Export… is fieldcoord.ui.export_dialog.

The import wizard walks through: the file(s) and their format, a preview of the first rows with
the column mapping (CSV, GeoJSON; an email, phone or other contact method may be taken from
several columns) and the import options, a dry run showing what would be added, updated and
skipped with every row that matches a contact already in the directory (the list `--dry-run`
prints; for CSV each can be unticked, and that row is then imported as a new contact, through
the import option "no_match"), the import itself with progress and Stop, and the report.
Reading, the dry run and the import run on worker threads, each with its own Store
(fieldcoord.ui.tasks); an import is one transaction, so a failed or stopped import leaves the
database as it was. Errors are shown in the wizard in plain words, never as a traceback.

    open_import_wizard(parent, db_path, on_done=None)   # on_done(report, changed_ids)

The pages are file_page.py, mapping_page.py and run_pages.py (trial run, import, report);
common.py holds what they share.
"""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QWizard

from ..tasks import Task
from .file_page import FilePage
from .mapping_page import MappingPage
from .run_pages import CheckPage, ImportPage, ReportPage


class ImportWizard(QWizard):
    """File > Import…: file, preview and mapping, trial run, import, report."""

    imported = Signal(object, object)          # (ImportReport, changed record ids)

    def __init__(self, db_path, parent=None,
                 on_done: Callable[[object, set], None] | None = None):
        super().__init__(parent)
        self.db_path = Path(db_path)
        self.on_done = on_done
        self.report = None
        self.tasks: list[Task] = []
        self._closing = False
        # (file, line) of matched rows to import as new contacts (unticked on the check page)
        self.kept_apart: set[tuple[str, int]] = set()
        self.setWindowTitle("Import")
        self.setAccessibleName("Import wizard")
        self.setWizardStyle(QWizard.ModernStyle)
        self.setOption(QWizard.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.NoCancelButtonOnLastPage, True)
        self.file_page = FilePage(self)
        self.mapping_page = MappingPage(self)
        self.check_page = CheckPage(self)
        self.import_page = ImportPage(self)
        self.report_page = ReportPage(self)
        for page in (self.file_page, self.mapping_page, self.check_page, self.import_page,
                     self.report_page):
            self.addPage(page)
        self.resize(1040, 720)

    def paths(self) -> list[str]:
        return self.file_page.paths()

    def fmt(self) -> str | None:
        return self.file_page.fmt()

    def encoding(self) -> str:
        return self.file_page.encoding.currentData() if self.fmt() in ("csv", "vcard") else ""

    def options(self) -> dict:
        opts = self.mapping_page.options()
        if self.kept_apart and self.check_page.can_keep_apart():
            opts["no_match"] = sorted(self.kept_apart)
        return opts

    def running(self) -> bool:
        return any(t.is_running() for t in self.tasks)

    def finish_import(self, report, ids: set) -> None:
        self.report = report
        self.imported.emit(report, ids)
        if self.on_done:
            self.on_done(report, ids)

    def track(self, task: Task) -> Task:
        """Keep `task` in view: the wizard closes only once its background work has ended."""
        self.tasks.append(task)
        task.finished.connect(self._on_task_ended)
        return task

    def _on_task_ended(self) -> None:
        self.tasks = [t for t in self.tasks if t.is_running()]
        if self._closing and not self.tasks:
            QWizard.reject(self)

    def reject(self) -> None:
        """Cancel: a running import or trial run is stopped first (it then changes nothing),
        and the wizard closes when its background work has ended."""
        if self.running():
            self._closing = True
            for task in self.tasks:
                task.cancel()
            self.import_page.status.setText("Stopping…")
            return
        super().reject()


def open_import_wizard(parent, db_path, on_done=None, paths: list[str] | None = None,
                       fmt: str | None = None) -> ImportWizard:
    """Show the import wizard (window-modal, returns at once). `on_done(report, changed_ids)`
    is called after a successful import, on the GUI thread."""
    wizard = ImportWizard(db_path, parent, on_done)
    wizard.setAttribute(Qt.WA_DeleteOnClose)
    if paths:
        wizard.file_page.add_paths([str(p) for p in paths])
    if fmt:
        wizard.file_page.set_format(fmt)
    wizard.open()
    return wizard
