# SPDX-License-Identifier: GPL-3.0-or-later
"""The app's file dialogs, and File > Print / Export PDF of an ICS form (UI layer).

Every file dialog of the app goes through `save_file_name`, `open_file_name` or
`open_file_names`: they open in the folder the user last chose a file in (ui.settings),
or in the user's Documents folder, never in the program's own folder.

Printing: the user picks a form and an operation, fills in what the command line's `print`
offers (prepared by, position, operational period, special instructions; the last values are
remembered), then either a PDF file (written on a worker thread with its own Store, with
progress and Cancel, then offered to be opened) or a printer (the system print dialog;
painting a printer happens on the GUI thread, as Qt requires).
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import FieldcoordError
from ..core.validate import normalise_datetime
from ..interop.icsforms import FORMS, Options
from .editors import DateEditor, LongTextEditor
from .settings import settings
from .style import ERROR_STYLE
from .tasks import Task, run_with_progress

PDF, PRINTER = "pdf", "printer"
LAST_FOLDER = "files/last_folder"
# What each form prints of the options (the others are greyed out in the dialog).
USES = {"ics205": {"prepared_by", "period_from", "period_to", "instructions"},
        "ics205a": {"prepared_by", "position", "period_from", "period_to"},
        "ics213rr": set(),
        "ics214": {"prepared_by", "position", "period_from", "period_to"}}
REMEMBERED = ("prepared_by", "position", "period_from", "period_to", "instructions")


# ---------------------------------------------------------------------------- file dialogs
def documents_folder() -> str:
    """The user's Documents folder (their home folder when there is none)."""
    found = QStandardPaths.writableLocation(QStandardPaths.DocumentsLocation)
    return found if found and Path(found).is_dir() else str(Path.home())


def start_folder() -> str:
    """Where a file dialog opens: the folder last used, while it exists, else Documents."""
    last = settings.last_folder
    if last and Path(str(last)).is_dir():
        return str(last)
    return documents_folder()


def remember_folder(path: str | Path) -> None:
    """Open the next file dialog where `path` is (a file's folder, or the folder itself)."""
    p = Path(path)
    settings.last_folder = str(p if p.is_dir() else p.parent)


def _start_at(suggested: str | Path | None) -> str:
    """A path in a folder that exists: a suggested full path is kept as it is; a bare file
    name (ics205.pdf) goes in the start folder."""
    if not suggested:
        return start_folder()
    p = Path(suggested).expanduser()
    if p.is_absolute() and p.parent.is_dir():
        return str(p)
    return str(Path(start_folder()) / p.name)


def save_file_name(parent: QWidget | None, caption: str, suggested: str | Path | None = None,
                   filters: str = "") -> str | None:
    """Ask where to write a file; None when the user cancels. The folder is remembered."""
    path, _ = QFileDialog.getSaveFileName(parent, caption, _start_at(suggested), filters)
    if not path:
        return None
    remember_folder(path)
    return path


def open_file_name(parent: QWidget | None, caption: str, filters: str = "",
                   suggested: str | Path | None = None) -> str | None:
    """Ask for one file to read; None when the user cancels. The folder is remembered."""
    path, _ = QFileDialog.getOpenFileName(parent, caption, _start_at(suggested), filters)
    if not path:
        return None
    remember_folder(path)
    return path


def open_file_names(parent: QWidget | None, caption: str, filters: str = "") -> list[str]:
    """Ask for files to read (none when the user cancels). The folder is remembered."""
    paths, _ = QFileDialog.getOpenFileNames(parent, caption, start_folder(), filters)
    if paths:
        remember_folder(paths[0])
    return list(paths)


def open_file(path: str | Path) -> bool:
    """Open a file in the desktop's program for it (a PDF viewer)."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(path).resolve())))


def offer_to_open(parent: QWidget | None, path: str | Path, summary: str,
                  notes: list[str] | None = None) -> QMessageBox:
    """'Form saved': what was written, with Open PDF and Close (the box is not modal to the
    app: it returns at once; Open PDF opens the file in the desktop's PDF viewer)."""
    box = QMessageBox(QMessageBox.Information, "Form saved", summary, QMessageBox.NoButton,
                      parent)
    box.setObjectName("form-saved")
    box.setInformativeText(f"Saved as {path}")
    if notes:
        box.setDetailedText("\n".join(notes))
    opener = box.addButton("Open PDF", QMessageBox.AcceptRole)
    box.addButton(QMessageBox.Close)
    box.setDefaultButton(opener)
    box.buttonClicked.connect(lambda button: button is opener and open_file(path))
    box.open()
    return box


# ---------------------------------------------------------------------------- printing
class FormDialog(QDialog):
    """Choose a form, an operation, what to fill in, and whether to save a PDF or print."""

    def __init__(self, operations: list[tuple[str, str]], parent=None):
        super().__init__(parent)
        self.setWindowTitle("Print / Export PDF of an ICS form")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
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
        self.prepared_by = QLineEdit()
        self.prepared_by.setAccessibleName("Prepared by")
        self.prepared_by.setPlaceholderText("your name")
        self.position = QLineEdit()
        self.position.setAccessibleName("Position or title")
        self.position.setPlaceholderText("e.g. Liaison Officer")
        self.period_from = DateEditor(with_time=True)
        self.period_from.setAccessibleName("Operational period from")
        self.period_from.setToolTip("Start of the operational period (empty: the operation's "
                                    "start); ICS 214 lists the log entries from then on")
        self.period_to = DateEditor(with_time=True)
        self.period_to.setAccessibleName("Operational period to")
        self.period_to.setToolTip("End of the operational period (empty: the operation's end)")
        self.instructions = LongTextEditor()
        self.instructions.setAccessibleName("Special instructions")
        self.instructions.setToolTip("ICS 205 block 5, Special Instructions")
        self.inputs = {"prepared_by": self.prepared_by, "position": self.position,
                       "period_from": self.period_from, "period_to": self.period_to,
                       "instructions": self.instructions}
        self.errors: dict[str, QLabel] = {}
        self.rows: dict[str, QLabel] = {}
        for key, label in (("prepared_by", "Prepared by"), ("position", "Position/title"),
                           ("period_from", "Operational period from"),
                           ("period_to", "Operational period to"),
                           ("instructions", "Special instructions")):
            box = QWidget()
            lay = QVBoxLayout(box)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.setSpacing(2)
            lay.addWidget(self.inputs[key])
            err = QLabel()
            err.setWordWrap(True)
            err.setStyleSheet(ERROR_STYLE)
            err.setAccessibleName(f"Error in {label.lower()}")
            err.hide()
            lay.addWidget(err)
            self.errors[key] = err
            self.rows[key] = QLabel(label)
            form.addRow(self.rows[key], box)
        self.target = QComboBox()
        self.target.setAccessibleName("Output")
        self.target.addItem("Save as PDF…", PDF)
        self.target.addItem("Print…", PRINTER)
        form.addRow("Output", self.target)
        layout.addLayout(form)
        if not operations:
            note = QLabel("There is no operation yet: ICS forms print an operation's "
                          "comms plan, people, requests and log.")
            note.setWordWrap(True)
            layout.addWidget(note)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self._on_ok)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.Ok).setEnabled(bool(operations))
        layout.addWidget(buttons)
        self.form.currentIndexChanged.connect(lambda _i: self._on_form())
        self._restore()
        self._on_form()
        self.resize(max(self.sizeHint().width(), 520), self.sizeHint().height())

    # ------------------------------------------------------------ remembering
    def _restore(self) -> None:
        """The values of the last form printed (this user, any database)."""
        for combo, value in ((self.form, settings.print_form),
                             (self.target, settings.print_target),
                             (self.operation, settings.print_operation)):
            i = combo.findData(value)
            if i >= 0:
                combo.setCurrentIndex(i)
        for key, text in remembered_values().items():
            w = self.inputs[key]
            if isinstance(w, QLineEdit):
                w.setText(text)
            else:
                w.set_value(text)

    def _text(self, key: str) -> str:
        w = self.inputs[key]
        if isinstance(w, (DateEditor, LongTextEditor)):
            return w.value() or ""
        return w.text().strip()

    def remember(self) -> None:
        settings.print_form = self.form.currentData()
        settings.print_target = self.target.currentData()
        settings.print_operation = self.operation.currentData() or ""
        for key in REMEMBERED:
            settings.set_print_value(key, self._text(key))

    # ------------------------------------------------------------ the form chosen
    def _on_form(self) -> None:
        used = USES.get(self.form.currentData(), set())
        for key, w in self.inputs.items():
            w.setEnabled(key in used)
            self.rows[key].setEnabled(key in used)
            if key not in used:
                self.errors[key].hide()

    def options(self) -> Options:
        """What the user filled in; ValueError(key, message) names a bad period."""
        return make_options({key: self._text(key) for key in REMEMBERED})

    def _on_ok(self) -> None:
        for err in self.errors.values():
            err.hide()
        try:
            self.options()
        except ValueError as e:
            key, message = e.args
            self.errors[key].setText(message)
            self.errors[key].show()
            self.inputs[key].setFocus()
            return
        self.remember()
        self.accept()


def make_options(values: dict) -> Options:
    """The print options from the dialog's texts (REMEMBERED keys); the operational period is
    checked and stored as ISO dates and times. Raises ValueError(key, message)."""
    period = {}
    for key in ("period_from", "period_to"):
        text = (values.get(key) or "").strip()
        try:
            period[key] = normalise_datetime(text) if text else ""
        except ValueError:
            raise ValueError(key, f"'{text}' is not a date and time; write it as "
                                  "YYYY-MM-DD HH:MM") from None
    if period["period_from"] and period["period_to"] and \
            period["period_to"][:16] < period["period_from"][:16]:
        raise ValueError("period_to", "the operational period ends before it starts")
    return Options(prepared_by=(values.get("prepared_by") or "").strip(),
                   position=(values.get("position") or "").strip(),
                   period_from=period["period_from"], period_to=period["period_to"],
                   special_instructions=(values.get("instructions") or "").strip())


def remembered_values() -> dict[str, str]:
    """What was filled in the print dialog last time (see ui.settings)."""
    return {key: settings.print_value(key) for key in REMEMBERED}


def remembered_options() -> Options:
    """The options last filled in the print dialog (none when they no longer parse)."""
    try:
        return make_options(remembered_values())
    except ValueError:
        return Options()


def start_print(window, form: str | None = None, operation: str | None = None,
                path: str | None = None, options: Options | None = None) -> Task | None:
    """Ask for a form, an operation, what to fill in and an output (unless given), then
    write or print it. Given a form and an operation, the options last filled in are used."""
    target = PDF
    if form is None or operation is None:
        ops = [(r.id, r.title) for r in window.store.list("operation", limit=500)]
        dialog = FormDialog(ops, window)
        if not dialog.exec():
            return None
        form = dialog.form.currentData()
        operation = dialog.operation.currentData()
        target = dialog.target.currentData()
        options = dialog.options()
    elif options is None:
        options = remembered_options()
    if target == PRINTER:
        print_on_printer(window, form, operation, options)
        return None
    if path is None:
        path = save_file_name(window, "Save the form as PDF", f"{form}.pdf", "PDF (*.pdf)")
        if not path:
            return None
    db = window.db_path

    def work(progress, cancel):
        from ..store import Store
        from .paper import print_form
        progress("writing the PDF", 0, 0)
        with Store.open(db) as store:
            return print_form(store, form, operation, path, options)

    return run_with_progress(window, f"Writing {FORMS[form]}", work,
                             lambda report: offer_to_open(window, path, report.summary(),
                                                          report.notes),
                             lambda m: QMessageBox.warning(window, "Printing failed", m))


def print_on_printer(window, form: str, operation: str, options: Options | None = None) -> int:
    """The system print dialog, then the form drawn on the chosen printer; returns pages."""
    from PySide6.QtPrintSupport import QPrintDialog, QPrinter

    from .paper import render_form
    printer = QPrinter(QPrinter.HighResolution)
    printer.setDocName(FORMS[form])
    dialog = QPrintDialog(printer, window)
    if dialog.exec() != QDialog.Accepted:
        return 0
    try:
        return render_form(printer, window.store, form, operation, options)
    except FieldcoordError as e:
        QMessageBox.warning(window, "Printing failed", str(e))
        return 0
