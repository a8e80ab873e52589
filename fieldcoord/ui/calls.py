# SPDX-License-Identifier: GPL-3.0-or-later
"""The duty-line check: the 24/7 lines due for a call, in order, with one key per outcome, and
the call sheet to print (UI layer).

R reached (the line is verified today), W wrong number, N no answer (the line is flagged and
stays on the list), C changed (edit the line, then it counts as reached), Ctrl+P the call sheet
as PDF. Each outcome is one write through ui/ops.py; the selection moves to the next line.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core import kinds as K
from ..core.format import display_phone
from ..store.alerts import Thresholds
from ..store.calls import NO_ANSWER, REACHED, WRONG_NUMBER, DueLine, due_lines, record_outcome
from . import dialogs, fileops, ops
from .paper.tables import table_pdf

COLUMNS = ("Agency", "Who", "Line", "Number", "Last verified", "Last call")
KEYS = ((REACHED, "R", "Reached"), (WRONG_NUMBER, "W", "Wrong number"),
        (NO_ANSWER, "N", "No answer"))


def _number(line: DueLine) -> str:
    return display_phone(line.value) if line.kind in K.PHONE_KINDS else line.value


def _cells(line: DueLine) -> list[str]:
    last = (f"{line.flag.replace('_', ' ')}, {line.checked_on}" if line.flag else "")
    return [line.agency or "", line.holder, line.label or line.kind.replace("_", " "),
            _number(line), line.verified_on or "never", last]


class CallListDialog(QDialog):
    """The call list; `changed` carries the ids written, for the window's lists."""

    changed = Signal(object)            # a Changes

    def __init__(self, store, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.setWindowTitle("Duty-line check")
        self.resize(900, 560)
        layout = QVBoxLayout(self)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAccessibleName("Lines to call")
        layout.addWidget(self.table, 1)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b3261e")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        for outcome, key, text in KEYS:
            b = QPushButton(f"{text} ({key})")
            b.clicked.connect(lambda _=False, o=outcome: self.record(o))
            buttons.addWidget(b)
        changed = QPushButton("Changed… (C)")
        changed.setToolTip("The number has changed: edit the line; saving it counts as reached")
        changed.clicked.connect(self.edit_changed)
        buttons.addWidget(changed)
        # the letters act on the selected line wherever the focus is (the table would otherwise
        # take them to jump to a row)
        self._keys = {Qt.Key_R: lambda: self.record(REACHED),
                      Qt.Key_W: lambda: self.record(WRONG_NUMBER),
                      Qt.Key_N: lambda: self.record(NO_ANSWER), Qt.Key_C: self.edit_changed}
        self.table.installEventFilter(self)
        buttons.addStretch(1)
        sheet = QPushButton("Print call sheet…")
        sheet.clicked.connect(self.print_sheet)
        QShortcut(QKeySequence.Print, self, activated=self.print_sheet)
        buttons.addWidget(sheet)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self.reload()

    def eventFilter(self, obj, event) -> bool:
        if obj is self.table and event.type() == QEvent.KeyPress and self._key(event):
            return True
        return super().eventFilter(obj, event)

    def keyPressEvent(self, event) -> None:
        if not self._key(event):
            super().keyPressEvent(event)

    def _key(self, event) -> bool:
        action = self._keys.get(event.key())
        if action is None or event.modifiers() & ~Qt.KeypadModifier:
            return False
        action()
        return True

    def reload(self, keep: int = 0) -> None:
        days = Thresholds.load(self.store.conn).stale_days
        self.lines = due_lines(self.store.conn, days, home=self.store.home)
        self.table.setRowCount(len(self.lines))
        for r, line in enumerate(self.lines):
            for c, text in enumerate(_cells(line)):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        self.summary.setText(
            f"{len(self.lines)} 24/7 line{'s' if len(self.lines) != 1 else ''} not verified in "
            f"{days} days or flagged by the last call, most important first. Call each one, "
            "then press R (reached), W (wrong number), N (no answer) or C (the number changed)."
            " Calls to partners' lines are kept on this computer; their owners' records stay "
            "theirs." if self.lines else "No 24/7 line is due for a check.")
        if self.lines:
            self.table.selectRow(min(keep, len(self.lines) - 1))

    def current(self) -> DueLine | None:
        row = self.table.currentRow()
        return self.lines[row] if 0 <= row < len(self.lines) else None

    def record(self, outcome: str) -> None:
        line = self.current()
        if line is None:
            return
        row = self.table.currentRow()
        self.error.clear()
        got = ops.run(self.store, "Duty-line check",
                      lambda s: record_outcome(s, line.id, outcome),
                      on_error=self.error.setText)
        if got is None:
            return
        self.changed.emit(got.changes)
        # a reached line leaves the list: the next one takes its row; a flagged one stays
        self.reload(row if outcome == REACHED else row + 1)

    def edit_changed(self) -> None:
        line = self.current()
        if line is None:
            return
        if not line.may_mark:
            QMessageBox.information(self, "Changed number", f"{line.agency or 'The owner'} "
                                    "maintains this line: tell them the new number (and note "
                                    "it in the log); this computer records that you called.")
            return
        dialog = dialogs.RecordDialog(self.store, "method", record=self.store.get(line.id),
                                      parent=self)
        if dialog.exec() == QDialog.Accepted:
            self.changed.emit(dialog.changes)
            self.record(REACHED)

    def write_sheet(self, path: Path) -> None:
        table_pdf(path, f"Duty-line check — {self.store.home}",
                  f"{dt.date.today().isoformat()}: {len(self.lines)} lines, most important first",
                  (*COLUMNS, "Outcome", "New number / notes"),
                  [(*_cells(line), "☐ reached ☐ wrong ☐ no answer", "") for line in self.lines])

    def print_sheet(self) -> None:
        path = fileops.save_file_name(self, "Save the call sheet as PDF", "call-sheet.pdf",
                                      "PDF files (*.pdf)")
        if not path:
            return
        try:
            self.write_sheet(Path(path))
        except OSError as e:
            QMessageBox.warning(self, "Call sheet", f"Could not write {path}: {e.strerror or e}")
            return
        fileops.offer_to_open(self, Path(path), f"Call sheet of {len(self.lines)} lines saved.")


def open_call_list(window) -> CallListDialog:
    dialog = CallListDialog(window.store, window)
    dialog.changed.connect(window.show_changes)
    dialog.setAttribute(Qt.WA_DeleteOnClose)
    dialog.open()
    return dialog
