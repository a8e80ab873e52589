# SPDX-License-Identifier: GPL-3.0-or-later
"""Create and edit dialogs generated from the record kinds' fields, and the About box (UI layer).

The dialog writes through the store when the user presses Save. Every value the form can tell
is wrong is shown at once, in red under its field and worded with the field's label; nothing
is written, and the dialog stays open with everything the user typed, so no edit is ever lost.
Cancel or Esc closes at once when nothing was changed, and asks first when something was.
A dialog fits a 1280x720 window: it is sized to its content, its editors wrap instead of
widening it, and a long form scrolls vertically only.
"""
from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QMessageBox,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from ..core import ids, workflow
from ..core import kinds as K
from ..core.errors import FieldcoordError, ValidationError
from ..core.places import log_dir
from ..core.request_number import next_request_number
from ..core.validate import check_fields, normalise_method_value, plain_message
from ..store.records import Changes
from .editors import ScopeEditor, TextEditor, editor_for
from .style import ERROR_STYLE

# Numbers and addresses a new contact (or agency) may be given in the same dialog.
NEW_LINES = {"contact": (("phone", "Phone"), ("mobile", "Mobile"), ("email", "Email"),
                         ("call_sign", "Call sign")),
             "agency": (("phone", "24/7 duty line"), ("email", "Email"))}
# The smallest window fieldcoord is made for: no dialog is larger, frame included.
SMALL_WINDOW = (1280, 720)
FRAME = (16, 48)           # what a window manager's frame and title bar add, at most
FORM_WIDTH = 600           # a record form's width when its content asks for no more


def _error_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(ERROR_STYLE)
    label.setAccessibleName("Error")
    label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    label.hide()
    return label


def room(widget: QWidget | None = None) -> tuple[int, int]:
    """The largest (width, height) a dialog may take: a 1280x720 window, or the screen's free
    area when that is smaller, less the frame the window manager adds."""
    width, height = SMALL_WINDOW
    screen = widget.screen() if widget is not None else None
    screen = screen or QGuiApplication.primaryScreen()
    if screen is not None:
        free = screen.availableGeometry()
        width, height = min(width, free.width()), min(height, free.height())
    return width - FRAME[0], height - FRAME[1]


def ask_discard(parent: QWidget, what: str) -> bool:
    """'Discard changes?': True when the user chooses to throw away what they typed."""
    box = QMessageBox(QMessageBox.Question, "Discard changes?",
                      f"Discard the changes to this {what}?", QMessageBox.NoButton, parent)
    box.setInformativeText("What you typed is lost. Keep editing to go back to the form.")
    discard = box.addButton("Discard changes", QMessageBox.DestructiveRole)
    keep = box.addButton("Keep editing", QMessageBox.RejectRole)
    box.setDefaultButton(keep)
    box.setEscapeButton(keep)
    box.exec()
    return box.clickedButton() is discard


class RecordDialog(QDialog):
    """Add a record of `kind`, or edit `record`; `saved_id` holds the id after Save."""

    def __init__(self, store, kind: str, record=None, preset: dict | None = None, parent=None):
        super().__init__(parent)
        self.store = store
        self.kind = K.KINDS[kind]
        self.record = record
        self.saved_id: str | None = None
        self.changes = Changes()              # what Save wrote: the records to show afresh
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self.labels: dict[str, str] = {}
        self._proposed: str | None = None
        verb = "Edit" if record else "New"
        self.setWindowTitle(f"{verb} {self.kind.label}" +
                            (f" — {record.title}" if record and record.title else ""))
        self.setAccessibleName(self.windowTitle())
        outer = QVBoxLayout(self)
        self.message = _error_label()
        outer.addWidget(self.message)
        self.scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.body = body = QWidget()
        column = QVBoxLayout(body)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        column.addLayout(self.form)
        column.addStretch(1)
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
        self.buttons.rejected.connect(self.cancel)
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
        if self.kind.name == "request":
            # the workflow's next steps only (a new request may be recorded in any state)
            now = record.values.get("status") if record else None
            steps = (now, *workflow.next_states(now)) if record else workflow.STATES
            status = self.editors["status"]
            status.limit_to(tuple(dict.fromkeys(s for s in steps if s)), workflow.label)
            status.setToolTip("A request moves requested, acknowledged, committed, en route, on "
                              "scene, demobilized, returned; cancelled or unable to fill while "
                              "nothing has moved")
        if self.kind.name == "request" and not record:
            self._numbers = None
            agency = self.editors["requesting_agency"]
            agency.currentIndexChanged.connect(lambda _i: self.propose_number())
            agency.editTextChanged.connect(lambda _t: self.propose_number())
            self.propose_number()
        self._initial = self._values()
        self._fit()
        first = next((w for w in self.editors.values() if w.isEnabled()), None)
        if first is not None:
            first.setFocus()

    # ------------------------------------------------------------ layout
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
        self.labels[name] = label.rstrip(" *")

    def _fit(self) -> None:
        """As large as the form asks for, within a 1280x720 window: a longer form scrolls
        vertically (the editors wrap rather than widen it)."""
        most_w, most_h = room(self.parentWidget() or self)
        self.body.ensurePolished()
        self.body.layout().activate()
        body = self.body.sizeHint()
        bar = self.scroll.verticalScrollBar().sizeHint().width()
        margins = self.layout().contentsMargins()
        chrome_w = margins.left() + margins.right() + bar + 4
        chrome_h = (margins.top() + margins.bottom() + self.layout().spacing() * 2
                    + self.buttons.sizeHint().height() + 4)
        width = min(max(FORM_WIDTH, body.width() + chrome_w), most_w)
        height = min(body.height() + chrome_h, most_h)
        self.setMaximumSize(max(most_w, width), max(most_h, height))
        self.resize(width, height)

    def _grow(self) -> None:
        """Make room for messages just shown, as far as a 1280x720 window allows (the form
        scrolls for the rest)."""
        self.layout().activate()
        self.body.layout().activate()
        viewport = self.scroll.viewport()
        body = self.body.layout()
        needed = (body.heightForWidth(viewport.width()) if body.hasHeightForWidth()
                  else self.body.sizeHint().height())
        missing = needed - viewport.height()
        if self.message.isVisibleTo(self):
            missing += self.message.heightForWidth(self.message.width() or self.width())
        if missing > 0:
            most = room(self.parentWidget() or self)[1]
            self.resize(self.width(), min(self.height() + missing, max(most, self.height())))

    # ------------------------------------------------------------ values
    def _values(self) -> dict:
        return {name: w.value() for name, w in self.editors.items()}

    def changed(self) -> bool:
        """Whether anything differs from what the form opened with."""
        return self._values() != self._initial

    def propose_number(self) -> str | None:
        """A new request: offer the requesting agency's next number (its code, the year, the
        next sequence), or the home agency's while none is chosen. A number the user typed is
        left alone."""
        number = self.editors["number"]
        typed = number.value()
        if typed and typed != self._proposed:
            return None
        code = self._agency_code(self.editors["requesting_agency"].value()) or self.store.home
        if self._numbers is None:
            self._numbers = [r.values.get("number") for deleted in (False, True)
                             for r in self.store.list("request", deleted=deleted)]
        try:
            self._proposed = next_request_number(code, self._numbers)
        except ValueError:
            return None
        number.set_value(self._proposed)
        return self._proposed

    def _agency_code(self, value) -> str | None:
        if not value:
            return None
        text = str(value).strip()
        rid = text.lower() if ids.looks_like_id(text) else self.store.agency_id(text)
        if not rid:
            return None
        try:
            return self.store.get(rid, "agency").values.get("code")
        except FieldcoordError:
            return None

    # ------------------------------------------------------------ errors
    def clear_errors(self) -> None:
        self.message.hide()
        for label in self.errors.values():
            label.hide()

    def show_errors(self, errors: list[tuple[str | None, str]]) -> None:
        """Show each (field, message) under its field, worded with the field's label; a
        message that names no field of the form goes above it. The dialog grows to show them
        where the window allows; the topmost field refused gets the focus and is scrolled
        into view."""
        self.clear_errors()
        above, refused = [], set()
        for field, message in errors:
            if field in self.errors:
                label = self.errors[field]
                text = (message if field in dict(NEW_LINES.get(self.kind.name, ()))
                        else plain_message(self.kind, message, field))
                label.setText(label.text() + "\n" + text if label.isVisibleTo(self) else text)
                label.show()
                refused.add(field)
            else:
                above.append(plain_message(self.kind, message, field))
        if above:
            self.message.setText("\n".join(above))
            self.message.show()
        self._grow()
        first = next((name for name in self.editors if name in refused), None)
        if first is not None:
            self.editors[first].setFocus()
            self.scroll.ensureWidgetVisible(self.editors[first])

    def show_error(self, message: str, field: str | None) -> None:
        """Show one message next to the field it names (or above the form)."""
        self.show_errors([(field, message)])

    def check(self, values: dict) -> None:
        """Raise one ValidationError naming every value the form can tell is wrong without
        writing: each field, the sharing scope's form, dates out of order, and the numbers
        and addresses of a new contact. What needs the directory (references, partner codes)
        the store checks when it writes."""
        only = None
        if self.record is not None:
            only = {k for k, v in values.items() if v != self._initial.get(k)}
        fields = {k: v for k, v in values.items() if k in self.kind.field_map or k == "scope"}
        found = []
        try:
            check_fields(self.kind, fields, only)
        except ValidationError as e:
            found.append(e)
        if self.record is None:
            for key, label in NEW_LINES.get(self.kind.name, ()):
                if values.get(key):
                    try:
                        normalise_method_value(key, values[key], self.store.region)
                    except ValidationError as e:
                        problem = e.message.split(": ", 1)[-1]
                        found.append(ValidationError(f"{label}: {problem}", key))
        if found:
            raise ValidationError.combine(found)

    # ------------------------------------------------------------ buttons
    def save(self) -> None:
        self.clear_errors()
        values = self._values()
        try:
            self.check(values)
            self.saved_id, self.changes = self.store.write(lambda: self._write(values))
        except ValidationError as e:
            self.show_errors(e.errors)
            return
        except FieldcoordError as e:
            self.show_errors([(None, str(e))])
            return
        self.accept()

    def _write(self, values: dict) -> str:
        values = self.store.library_refs(self.kind, values)
        if self.record is None:
            return self.store.add(self.kind.name,
                                  {k: v for k, v in values.items() if v is not None})
        changed = {k: v for k, v in values.items() if v != self._initial.get(k)}
        if changed:
            self.store.edit(self.record.id, changed)
        return self.record.id

    def cancel(self) -> None:
        """Cancel or Esc: close at once when nothing was changed, else ask first."""
        if self.changed() and not ask_discard(self, self.kind.label):
            return
        self.reject()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key_Escape and event.modifiers() == Qt.NoModifier:
            event.accept()
            self.cancel()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event) -> None:
        # the window's close button asks as Cancel does; closing by program does not ask
        if event.spontaneous() and self.isVisible() and self.changed() \
                and not ask_discard(self, self.kind.label):
            event.ignore()
            return
        super().closeEvent(event)


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
        "agencies when a path exists.</p><p>License: GPL-3.0-or-later.</p>"
        f"<p>Log files (send them with a problem report): {html.escape(str(log_dir()))}</p>")


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
