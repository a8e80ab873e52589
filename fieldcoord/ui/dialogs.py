# SPDX-License-Identifier: GPL-3.0-or-later
"""Create and edit dialogs generated from the record kinds' fields, and the About box (UI layer).

The dialog writes through the store when the user presses Save. A refused value is shown in
red under its field and nothing is written; the dialog stays open with everything the user
typed, so no edit is ever lost.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QMessageBox,
                               QScrollArea, QVBoxLayout, QWidget)

from .. import __version__
from ..core import kinds as K
from ..core.errors import FieldcoordError, ValidationError
from .editors import ScopeEditor, TextEditor, editor_for

# Numbers and addresses a new contact (or agency) may be given in the same dialog.
NEW_LINES = {"contact": (("phone", "Phone"), ("mobile", "Mobile"), ("email", "Email"),
                         ("call_sign", "Call sign")),
             "agency": (("phone", "24/7 duty line"), ("email", "Email"))}


def _error_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet("color: #c0392b; font-weight: 600;")
    label.setAccessibleName("Error")
    label.hide()
    return label


class RecordDialog(QDialog):
    """Add a record of `kind`, or edit `record`; `saved_id` holds the id after Save."""

    def __init__(self, store, kind: str, record=None, preset: dict | None = None, parent=None):
        super().__init__(parent)
        self.store = store
        self.kind = K.KINDS[kind]
        self.record = record
        self.saved_id: str | None = None
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        verb = "Edit" if record else "New"
        self.setWindowTitle(f"{verb} {self.kind.label}" +
                            (f" — {record.title}" if record and record.title else ""))
        self.setAccessibleName(self.windowTitle())
        outer = QVBoxLayout(self)
        self.message = _error_label()
        outer.addWidget(self.message)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        body = QWidget()
        column = QVBoxLayout(body)
        self.form = QFormLayout()
        column.addLayout(self.form)
        column.addStretch(1)
        self.form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)
        for fld in self.kind.fields:
            if fld.name == "recorded_at":
                continue
            w = editor_for(store, fld)
            if record and fld.immutable:
                w.setEnabled(False)
            self._add_row(fld.name, fld.title + (" *" if fld.required else ""), w)
        if not record:
            for key, label in NEW_LINES.get(self.kind.name, ()):
                w = TextEditor()
                w.setAccessibleName(label)
                self._add_row(key, label, w)
        owner = QLabel(record.owner if record else f"{store.home} (this agency)")
        owner.setToolTip("The agency that maintains this record")
        self.form.addRow("Owner", owner)
        scope = ScopeEditor()
        scope.setAccessibleName("Sharing scope")
        self._add_row("scope", "Sharing scope", scope)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        outer.addWidget(self.buttons)
        values = dict(preset or {})
        if record:
            values = {**record.values, "scope": record.scope}
        elif self.kind.name == "method":
            values.setdefault("verified_on", _today())
            values.setdefault("verified_by", store.home)
        for name, v in values.items():
            if name in self.editors:
                self.editors[name].set_value(v)
        for fld in self.kind.fields:
            if not record and fld.default is not None and fld.name not in values:
                self.editors[fld.name].set_value(fld.default)
        self._initial = self._values()
        self.resize(560, min(140 + 44 * len(self.editors), 760))
        first = next((w for w in self.editors.values() if w.isEnabled()), None)
        if first is not None:
            first.setFocus()

    def _add_row(self, name: str, label: str, editor: QWidget) -> None:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(editor)
        err = _error_label()
        err.setAccessibleName(f"Error in {label.rstrip(' *')}")
        lay.addWidget(err)
        self.form.addRow(label, box)
        self.editors[name] = editor
        self.errors[name] = err

    def _values(self) -> dict:
        return {name: w.value() for name, w in self.editors.items()}

    def clear_errors(self) -> None:
        self.message.hide()
        for label in self.errors.values():
            label.hide()

    def show_error(self, message: str, field: str | None) -> None:
        """Show the store's message next to the field it names (or above the form)."""
        if field in ("value", "kind") and self.kind.name in ("contact", "agency"):
            # a number or address given with a new contact: find the box it was typed in
            field = next((key for key, _ in NEW_LINES.get(self.kind.name, ())
                          if self.editors[key].value()
                          and f"'{self.editors[key].value()}'" in message), None)
        if field in self.errors:
            label = self.errors[field]
            label.setText(message)
            label.show()
            self.editors[field].setFocus()
        else:
            self.message.setText(message)
            self.message.show()

    def save(self) -> None:
        self.clear_errors()
        values = self._values()
        try:
            if self.record is None:
                data = {k: v for k, v in values.items() if v is not None}
                self.saved_id = self.store.add(self.kind.name, data)
            else:
                changed = {k: v for k, v in values.items() if v != self._initial.get(k)}
                if changed:
                    self.store.edit(self.record.id, changed)
                self.saved_id = self.record.id
        except ValidationError as e:
            self.show_error(str(e), e.field)
            return
        except FieldcoordError as e:
            self.show_error(str(e), None)
            return
        self.accept()


def _today() -> str:
    import datetime as dt
    return dt.date.today().isoformat()


def confirm(parent, title: str, text: str) -> bool:
    return QMessageBox.question(parent, title, text, QMessageBox.Yes | QMessageBox.No,
                                QMessageBox.No) == QMessageBox.Yes


def about(parent) -> None:
    QMessageBox.about(
        parent, "About fieldcoord",
        f"<h3>fieldcoord {__version__}</h3>"
        "<p>An offline-first partner directory and coordination records for public-safety "
        "field liaisons: agencies, contacts and 24/7 duty lines, resources, agreements, "
        "operations, plans, radio channels, events and the activity log, shared with partner "
        "agencies when a path exists.</p><p>License: GPL-3.0-or-later.</p>")


def info_text(parent, title: str, text: str) -> None:
    """A dialog with a selectable, scrollable text (import and export reports)."""
    box = QMessageBox(parent)
    box.setWindowTitle(title)
    lines = text.splitlines()
    box.setText(lines[0] if lines else "")
    if len(lines) > 1:
        box.setDetailedText(text)
    box.setTextInteractionFlags(Qt.TextSelectableByMouse)
    box.exec()
