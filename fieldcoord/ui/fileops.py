# SPDX-License-Identifier: GPL-3.0-or-later
"""File > Print / Export PDF of an ICS form (UI layer).

The user picks a form and an operation, then either a PDF file (written on a worker thread with
its own Store, with progress and Cancel) or a printer (the system print dialog; painting a
printer happens on the GUI thread, as Qt requires).
"""
from __future__ import annotations

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QLabel, QMessageBox, QVBoxLayout)

from ..core.errors import FieldcoordError
from ..interop.icsforms import FORMS
from .dialogs import info_text
from .tasks import Task, run_with_progress

PDF, PRINTER = "pdf", "printer"


class FormDialog(QDialog):
    """Choose a form, an operation, and whether to save a PDF or print."""

    def __init__(self, operations: list[tuple[str, str]], parent=None):
        super().__init__(parent)
        self.setWindowTitle("Print / Export PDF of an ICS form")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.form = QComboBox()
        self.form.setAccessibleName("Form")
        for key, title in FORMS.items():
            self.form.addItem(title, key)
        form.addRow("Form", self.form)
        self.operation = QComboBox()
        self.operation.setAccessibleName("Operation")
        for rid, name in operations:
            self.operation.addItem(name, rid)
        form.addRow("Operation", self.operation)
        self.target = QComboBox()
        self.target.setAccessibleName("Output")
        self.target.addItem("Save as PDF…", PDF)
        self.target.addItem("Print…", PRINTER)
        form.addRow("Output", self.target)
        layout.addLayout(form)
        if not operations:
            layout.addWidget(QLabel("There is no operation yet: ICS forms print an operation's "
                                    "comms plan, people, requests and log."))
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.Ok).setEnabled(bool(operations))
        layout.addWidget(buttons)


def start_print(window, form: str | None = None, operation: str | None = None,
                path: str | None = None) -> Task | None:
    """Ask for a form, an operation and an output (unless given), then write or print it."""
    target = PDF
    if form is None or operation is None:
        ops = [(r.id, r.title) for r in window.store.list("operation", limit=500)]
        dialog = FormDialog(ops, window)
        if not dialog.exec():
            return None
        form = dialog.form.currentData()
        operation = dialog.operation.currentData()
        target = dialog.target.currentData()
    if target == PRINTER:
        print_on_printer(window, form, operation)
        return None
    if path is None:
        path, _ = QFileDialog.getSaveFileName(window, "Save the form as PDF",
                                              f"{form}.pdf", "PDF (*.pdf)")
        if not path:
            return None
    db = window.db_path

    def work(progress, cancel):
        from ..store import Store
        from .printing import print_form
        progress("writing the PDF", 0, 0)
        with Store.open(db) as store:
            return print_form(store, form, operation, path)

    return run_with_progress(window, f"Writing {FORMS[form]}", work,
                             lambda report: info_text(window, "Form saved", report.summary()),
                             lambda m: QMessageBox.warning(window, "Printing failed", m))


def print_on_printer(window, form: str, operation: str) -> int:
    """The system print dialog, then the form drawn on the chosen printer; returns pages."""
    from PySide6.QtPrintSupport import QPrintDialog, QPrinter

    from .printing import render_form
    printer = QPrinter(QPrinter.HighResolution)
    printer.setDocName(FORMS[form])
    dialog = QPrintDialog(printer, window)
    if dialog.exec() != QDialog.Accepted:
        return 0
    try:
        return render_form(printer, window.store, form, operation)
    except FieldcoordError as e:
        QMessageBox.warning(window, "Printing failed", str(e))
        return 0
