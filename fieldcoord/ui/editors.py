# SPDX-License-Identifier: GPL-3.0-or-later
"""Input widgets for record fields, chosen from the field's type in core.kinds (UI layer).

Every editor offers `value()` (text as the user typed it, or None when empty; the store
validates and normalises) and `set_value(stored)`. References are searchable combo boxes,
several references a searchable picker with the chosen records listed by name, enums are
combo boxes (starting on the field's default when it has one), dates are typed (with a
calendar to pick from) and may stay empty. No editor asks for more width than a form of a
small window offers: combo boxes do not grow with their longest entry, long text wraps.
"""
from __future__ import annotations

from PySide6.QtCore import QDate, QDateTime, QEvent, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCalendarWidget,
    QComboBox,
    QCompleter,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core import ids
from ..core import kinds as K
from ..core.format import display_number
from ..core.library import load_nifog_channels
from ..store.store import LIBRARY_PREFIX

LONG_TEXT = {"notes", "terms", "objectives", "activation_triggers", "activation_procedure",
             "safecom_notes", "remarks", "responsibilities", "description", "purpose",
             "reimbursement", "substitutes"}
# A reference list longer than this is searched as the user types instead of listed whole.
SMALL_LIST = 3000
# Characters a combo box is wide enough for, whatever its longest entry (the form is as wide
# as the dialog allows; the entries show in full in the drop-down list).
COMBO_CHARS = 16


def _narrow(combo: QComboBox) -> None:
    """Keep a combo box from widening the form to its longest entry."""
    combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(COMBO_CHARS)
    combo.view().setTextElideMode(Qt.ElideNone)


class TextEditor(QLineEdit):
    def value(self):
        return self.text().strip() or None

    def set_value(self, v) -> None:
        if isinstance(v, float):
            v = display_number(v)
        self.setText("" if v is None else str(v))


class LongTextEditor(QPlainTextEdit):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setTabChangesFocus(True)
        self.setLineWrapMode(QPlainTextEdit.WidgetWidth)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setFixedHeight(64)

    def value(self):
        return self.toPlainText().strip() or None

    def set_value(self, v) -> None:
        self.setPlainText("" if v is None else str(v))


class EnumEditor(QComboBox):
    """One of the field's choices. A field with a default (a request's status starts as
    'requested') lists its choices only, starting on the default; an optional field without
    one starts blank."""

    def __init__(self, fld: K.Field, parent=None):
        super().__init__(parent)
        _narrow(self)
        self.blank = not fld.required and fld.default is None
        if self.blank:
            self.addItem("", None)
        for c in fld.choices:
            self.addItem(c.replace("_", " "), c)
        if fld.default is not None:
            self.set_value(fld.default)

    def value(self):
        return self.currentData()

    def limit_to(self, choices: tuple[str, ...], label=None) -> None:
        """Offer only `choices` (a workflow's next steps), keeping the value shown."""
        keep = self.currentData()
        self.clear()
        self.blank = False
        for c in choices:
            self.addItem(label(c) if label else c.replace("_", " "), c)
        self.set_value(keep)

    def _index_of(self, v) -> int:
        for i in range(self.count()):
            if self.itemData(i) == v:
                return i
        return -1

    def set_value(self, v) -> None:
        i = self._index_of(v)
        if i < 0 and v is None:
            # a stored record without a value, in a list without a blank: shown as it is
            self.insertItem(0, "", None)
            self.blank, i = True, 0
        elif i < 0:
            # a value this version does not list (from a newer partner): kept, not replaced
            self.addItem(str(v).replace("_", " "), v)
            i = self.count() - 1
        self.setCurrentIndex(i)


class DateEditor(QWidget):
    """A date (or date and time) typed as text (YYYY-MM-DD, or YYYY-MM-DD HH:MM; "today" and
    "now" too), empty for none, with a button that opens a calendar on the date shown (today
    when empty). What is typed is checked by the store, which names the field when it is not a
    date. Tab leaves it as any text field."""

    def __init__(self, with_time: bool, parent=None):
        super().__init__(parent)
        self.with_time = with_time
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("YYYY-MM-DD HH:MM" if with_time else "YYYY-MM-DD")
        self.edit.setClearButtonEnabled(True)
        self.calendar_button = QToolButton()
        self.calendar_button.setText("▾")
        self.calendar_button.setToolTip("Choose on a calendar (Alt+Down)")
        self.calendar_button.setAccessibleName("Choose a date on a calendar")
        self.calendar_button.setFocusPolicy(Qt.NoFocus)
        self.calendar_button.clicked.connect(self.open_calendar)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.calendar_button)
        self.setFocusProxy(self.edit)
        self.edit.installEventFilter(self)
        self.calendar: QCalendarWidget | None = None

    def eventFilter(self, obj, event) -> bool:
        if obj is self.edit and event.type() == QEvent.KeyPress and \
                event.key() == Qt.Key_Down and event.modifiers() & Qt.AltModifier:
            self.open_calendar()
            return True
        return super().eventFilter(obj, event)

    def _shown_date(self) -> QDate:
        got = QDate.fromString(self.edit.text().strip()[:10], "yyyy-MM-dd")
        return got if got.isValid() else QDate.currentDate()

    def open_calendar(self) -> None:
        """A calendar on the date shown (today when none); choosing a day fills the field."""
        cal = self.calendar = QCalendarWidget(self)
        cal.setWindowFlags(Qt.Popup)
        cal.setAttribute(Qt.WA_DeleteOnClose)
        cal.setSelectedDate(self._shown_date())
        cal.activated.connect(self._picked)
        cal.clicked.connect(self._picked)
        cal.move(self.edit.mapToGlobal(self.edit.rect().bottomLeft()))
        cal.show()
        cal.setFocus()

    def _picked(self, day: QDate) -> None:
        text = self.edit.text().strip()
        clock = text[10:].strip() if self.with_time and len(text) > 10 else ""
        self.edit.setText(day.toString("yyyy-MM-dd") + (f" {clock}" if clock else ""))
        if self.calendar is not None:
            self.calendar.close()
            self.calendar = None
        self.edit.setFocus()

    def value(self):
        text = self.edit.text().strip()
        return text or None

    def set_value(self, v) -> None:
        if not v:
            self.edit.clear()
            return
        text = str(v)
        self.edit.setText(text[:16].replace("T", " ") if self.with_time and len(text) > 10
                          else text[:10] if not self.with_time else text)

    def set_today(self) -> None:
        if self.with_time:
            self.edit.setText(QDateTime.currentDateTime().toString("yyyy-MM-dd HH:mm"))
        else:
            self.edit.setText(QDate.currentDate().toString("yyyy-MM-dd"))


class RefEditor(QComboBox):
    """A searchable choice of a referenced record: type part of its name (or agency code)."""

    def __init__(self, store, fld: K.Field, parent=None):
        super().__init__(parent)
        self.store = store
        self.target = K.KINDS[fld.ref]
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.NoInsert)
        _narrow(self)
        self.setMaxVisibleItems(15)
        self.lineEdit().setPlaceholderText("type to search" if not fld.required else "required")
        self.completer().setFilterMode(Qt.MatchContains)
        self.completer().setCompletionMode(QCompleter.PopupCompletion)
        self.completer().setCaseSensitivity(Qt.CaseInsensitive)
        self.addItem("", None)
        self._small = store.count(self.target.name) <= SMALL_LIST
        if self._small:
            for label, rid in self._options(""):
                self.addItem(label, rid)
        if self.target.name == "channel":
            self._add_library_channels()
        else:
            self._timer = QTimer(self)
            self._timer.setSingleShot(True)
            self._timer.setInterval(150)
            self._timer.timeout.connect(self._refill)
            self.lineEdit().textEdited.connect(lambda _t: self._timer.start())

    def _add_library_channels(self) -> None:
        """The national interoperability channels this directory does not hold yet: picking
        one adds it as a channel of this agency when the record is saved."""
        held = {r[0].casefold() for r in self.store.conn.execute(
            "SELECT name FROM channel WHERE _cl % 2 = 1 AND name IS NOT NULL")}
        for ch in load_nifog_channels():
            if ch.name.casefold() not in held:
                self.addItem(f"{ch.name} — national channel, {ch.function.replace('_', ' ')} "
                             f"({ch.band}, NIFOG)", LIBRARY_PREFIX + ch.name)

    def _label(self, rid: str) -> str:
        try:
            rec = self.store.get(rid, self.target.name)
        except Exception:
            return rid
        if self.target.name == "agency":
            return f"{rec.values.get('code')} — {rec.title}"
        extra = ""
        if "agency" in self.target.field_map and rec.values.get("agency"):
            try:
                extra = f" ({self.store.get(rec.values['agency']).values.get('code')})"
            except Exception:
                extra = ""
        return f"{rec.title}{extra}"

    def _options(self, text: str, limit: int = SMALL_LIST) -> list[tuple[str, str]]:
        conn, k = self.store.conn, self.target
        if k.name == "agency":
            rows = conn.execute("SELECT id, code || ' — ' || name FROM agency WHERE _cl % 2 = 1 "
                                "AND (? = '' OR name LIKE ? OR code LIKE ?) ORDER BY code "
                                f"LIMIT {limit}", (text, f"%{text}%", f"{text}%")).fetchall()
        elif text and k.name in K.SEARCHABLE:
            return [(f"{h.title}" + (f" ({h.subtitle})" if h.subtitle else ""), h.id)
                    for h in self.store.search(text, kind=k.name, limit=30)]
        elif "agency" in k.field_map:
            # a person, resource or channel with its agency's code: "Engine 31 (HCFD3)"
            rows = conn.execute(
                f'SELECT t.id, t."{k.title_field}" || coalesce(\' (\' || a.code || \')\', \'\') '
                f'FROM "{k.table}" t LEFT JOIN agency a ON a.id = t.agency '
                f'WHERE t._cl % 2 = 1 AND (? = \'\' OR t."{k.title_field}" LIKE ?) '
                f'ORDER BY t."{k.title_field}" COLLATE NOCASE, a.code LIMIT {limit}',
                (text, f"%{text}%")).fetchall()
        else:
            rows = conn.execute(
                f'SELECT id, "{k.title_field}" FROM "{k.table}" WHERE _cl % 2 = 1 AND '
                f'(? = \'\' OR "{k.title_field}" LIKE ?) ORDER BY "{k.title_field}" '
                f"COLLATE NOCASE LIMIT {limit}", (text, f"%{text}%")).fetchall()
        return [(str(label or rid), rid) for rid, label in rows]

    def _refill(self) -> None:
        text = self.currentText().strip()
        if len(text) < 2:
            return
        chosen = self.currentData()
        self.blockSignals(True)
        self.clear()
        self.addItem("", None)
        for label, rid in self._options(text, 30):
            self.addItem(label, rid)
        self.setEditText(text)
        self.blockSignals(False)
        if chosen is None and self.count() > 1:
            self.showPopup()

    def value(self):
        text = self.currentText().strip()
        if not text:
            return None
        i = self.findText(text, Qt.MatchFixedString)
        if i > 0:
            return self.itemData(i)
        # a code or id typed in full: the store resolves it, or says it knows no such record
        return text.split(" — ")[0]

    def set_value(self, v) -> None:
        if not v:
            self.setCurrentIndex(0)
            return
        i = self.findData(v)
        if i < 0:
            self.addItem(self._label(v), v)
            i = self.count() - 1
        self.setCurrentIndex(i)


class RefsEditor(QWidget):
    """Several referenced records (a request's committed resources): search for one by name
    and add it (Enter, or Add); the chosen ones are listed by name, and Remove (or Delete)
    takes one off. `value()` is their ids in the order chosen."""

    def __init__(self, store, fld: K.Field, parent=None):
        super().__init__(parent)
        self.target = K.KINDS[fld.ref]
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        row = QHBoxLayout()
        self.picker = RefEditor(store, K.Field(fld.name, K.REF, ref=fld.ref))
        self.picker.lineEdit().setPlaceholderText(f"type to search {self.target.plural}, "
                                                  "Enter adds")
        self.picker.setAccessibleName(f"Add to {fld.title.lower()}")
        self.picker.activated.connect(lambda _i: self.add_current())
        self.picker.lineEdit().installEventFilter(self)
        self.add_button = QPushButton("Add")
        self.add_button.setAutoDefault(False)
        self.add_button.setAccessibleName(f"Add the {self.target.label} to "
                                          f"{fld.title.lower()}")
        self.add_button.clicked.connect(self.add_current)
        row.addWidget(self.picker, 1)
        row.addWidget(self.add_button)
        layout.addLayout(row)
        lower = QHBoxLayout()
        self.chosen = QListWidget()
        self.chosen.setAccessibleName(fld.title)
        self.chosen.setSelectionMode(QAbstractItemView.SingleSelection)
        self.chosen.setWordWrap(True)
        self.chosen.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.chosen.setFixedHeight(self.fontMetrics().height() * 4 + 10)
        self.chosen.installEventFilter(self)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setAutoDefault(False)
        self.remove_button.setAccessibleName(f"Remove the selected {self.target.label}")
        self.remove_button.setEnabled(False)
        self.remove_button.clicked.connect(self.remove_selected)
        self.chosen.itemSelectionChanged.connect(
            lambda: self.remove_button.setEnabled(bool(self.chosen.selectedItems())))
        lower.addWidget(self.chosen, 1)
        lower.addWidget(self.remove_button, 0, Qt.AlignTop)
        layout.addLayout(lower)
        self.setFocusProxy(self.picker)

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.KeyPress:
            key = event.key()
            if obj is self.picker.lineEdit() and key in (Qt.Key_Return, Qt.Key_Enter) \
                    and self.picker.currentText().strip():
                self.add_current()          # Enter adds; on an empty search it saves the form
                return True
            if obj is self.chosen and key in (Qt.Key_Delete, Qt.Key_Backspace):
                self.remove_selected()
                return True
        return super().eventFilter(obj, event)

    def ids(self) -> list[str]:
        return [self.chosen.item(i).data(Qt.UserRole) for i in range(self.chosen.count())]

    def add(self, rid: str, label: str | None = None) -> None:
        """Add record `rid` to the list (once)."""
        if rid in self.ids():
            return
        item = QListWidgetItem(label or self.picker._label(rid))
        item.setData(Qt.UserRole, rid)
        self.chosen.addItem(item)

    def add_current(self) -> bool:
        """Add the record shown in the search box; False when the text names none."""
        text = self.picker.currentText().strip()
        if not text:
            return False
        i = self.picker.findText(text, Qt.MatchFixedString)
        if i > 0:
            self.add(self.picker.itemData(i), self.picker.itemText(i))
        elif ids.looks_like_id(text):
            self.add(text.lower())           # an id typed or pasted in full
        else:
            self.picker.showPopup()          # not one of the list: choose from it
            return False
        self.picker.setCurrentIndex(0)
        self.picker.setEditText("")
        return True

    def remove_selected(self) -> None:
        for item in self.chosen.selectedItems():
            self.chosen.takeItem(self.chosen.row(item))

    def value(self):
        return self.ids() or None

    def set_value(self, v) -> None:
        self.chosen.clear()
        for rid in v or []:
            self.add(rid)


class ScopeEditor(QComboBox):
    """Who may see the record: private, all partners, or listed agency codes (+edit)."""

    CHOICES = (("all", "all partners"), ("all+edit", "all partners, who may edit"),
               ("private", "private to this agency"))

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.NoInsert)
        _narrow(self)
        for value, label in self.CHOICES:
            self.addItem(value, value)
            self.setItemData(self.count() - 1, label, Qt.ToolTipRole)
        self.lineEdit().setPlaceholderText("all, private, or agency codes such as MPD,CSO+edit")
        self.setToolTip("Sharing scope: 'all' (every partner), 'private' (this agency only), or "
                        "agency codes such as MPD,CSO; add +edit to let them edit")

    def value(self):
        return self.currentText().strip() or None

    def set_value(self, v) -> None:
        self.setEditText(v or "")


def editor_for(store, fld: K.Field) -> QWidget:
    """The input widget for one field."""
    if fld.type == K.ENUM:
        w = EnumEditor(fld)
    elif fld.type == K.REF:
        w = RefEditor(store, fld)
    elif fld.type == K.REFS:
        w = RefsEditor(store, fld)
    elif fld.type in (K.DATE, K.DATETIME):
        w = DateEditor(fld.type == K.DATETIME)
    elif fld.type == K.TEXT and fld.name in LONG_TEXT:
        w = LongTextEditor()
    else:
        w = TextEditor()
        hint = {K.INT: "a whole number", K.REAL: "a number", K.LAT: "-90 to 90",
                K.LON: "-180 to 180", K.EMAIL: "name@example.org", K.URL: "example.org",
                K.PHONE: "(360) 555-0100",
                K.CODE: "2-12 letters or digits, e.g. MPD"}.get(fld.type)
        if hint:
            w.setPlaceholderText(hint)
    w.setAccessibleName(fld.title)
    return w
