# SPDX-License-Identifier: GPL-3.0-or-later
"""The record pages of the main window: a filtered list and the detail pane (UI layer)."""
from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..core import kinds as K
from ..store.alerts import Thresholds
from .detail import DetailPane
from .models import ID_ROLE, RecordTableModel
from .query import VERIFIED_FILTER, ListSpec, RecordQuery, choices_for


def _pages() -> dict[str, tuple[str, list[tuple[str, ListSpec]]]]:
    out: dict[str, tuple[str, list[tuple[str, ListSpec]]]] = {}
    for k in K.KINDS.values():
        if k.page is not None:
            p = k.page
            out.setdefault(p.name, (p.title, []))[1].append(
                (p.tab, ListSpec(k.name, p.columns, p.filters, p.default_sort, p.descending)))
    return out


def _groups() -> tuple[tuple[str, tuple[str, ...]], ...]:
    groups: dict[str, list[str]] = {}
    for k in K.KINDS.values():
        if k.page is not None and k.page.name not in groups.setdefault(k.page.group, []):
            groups[k.page.group].append(k.page.name)
    return tuple((group, tuple(names)) for group, names in groups.items())


# The record pages, from the kinds (core/kinds.py) in the order they are declared:
# page name -> (sidebar label, [(tab label, list)]), and the sidebar's groups of them.
PAGES = _pages()
PAGE_GROUPS = _groups()
# Every page of the window, the record pages first, and the sidebar's groups of them.
PAGE_NAMES = ("overview", "agenda", *PAGES, "conflicts", "sync")
SIDEBAR = (("Home", ("overview", "agenda")), *PAGE_GROUPS, ("Sharing", ("conflicts", "sync")))
TITLES = {"overview": "Overview", "agenda": "Agenda",
          **{name: spec[0] for name, spec in PAGES.items()},
          "conflicts": "Conflicts", "sync": "Sync"}
STALE = "stale"
SCOPE_CHOICES = (("private to this agency", "private"), ("shared with all", "all"),
                 ("shared with some partners", "partners"))


class ListPage(QWidget):
    """One kind's records: filters, the table, and the selected record's details."""

    selected = Signal(str)
    new_requested = Signal(str, dict)        # kind, preset

    def __init__(self, store, spec: ListSpec, parent=None):
        super().__init__(parent)
        self.store = store
        self.spec = spec
        self.kind = K.KINDS[spec.kind]
        self.query = RecordQuery(store.conn, spec)
        self.model = RecordTableModel(self.query, self, db_path=store.path)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 0)
        bar = QHBoxLayout()
        self.filters: dict[str, QComboBox] = {}
        for name in spec.filters:
            combo = QComboBox()
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(7)
            if name == "scope":
                label = "Sharing"
                combo.addItem("Any sharing", None)
                for text, value in SCOPE_CHOICES:
                    combo.addItem(text, value)
            elif name == VERIFIED_FILTER:
                label = "Verification"
                combo.addItem("Any verification", None)
                combo.addItem("Stale lines", STALE)
                combo.setItemData(1, "Lines not verified within the stale threshold "
                                  "(Settings > Alert thresholds)", Qt.ToolTipRole)
            else:
                fld = self.kind.field_map[name]
                label = fld.title
                combo.addItem(f"Any {label.lower()}" if fld.type != K.REF or len(label) < 12
                              else "Any agency", None)
                if fld.type == K.REF:
                    combo.setEditable(True)
                    combo.setInsertPolicy(QComboBox.NoInsert)
                    combo.completer().setFilterMode(Qt.MatchContains)
                    combo.completer().setCaseSensitivity(Qt.CaseInsensitive)
                    combo.setMinimumContentsLength(11)
                for text, value in choices_for(store.conn, spec.kind, name):
                    combo.addItem(text, value)
            combo.setAccessibleName(f"Filter by {label.lower()}")
            combo.setToolTip(f"Show only records with this {label.lower()}")
            combo.currentIndexChanged.connect(lambda _i, n=name: self._on_filter(n))
            self.filters[name] = combo
            bar.addWidget(combo)
        self.deleted = QCheckBox("Deleted")
        self.deleted.setToolTip("Show deleted records, to restore them")
        self.deleted.setAccessibleName("Show deleted records")
        self.deleted.toggled.connect(self._on_deleted)
        bar.addWidget(self.deleted)
        bar.addStretch(1)
        self.count_label = QLabel()
        self.count_label.setAccessibleName("Number of records")
        bar.addWidget(self.count_label)
        self.new_button = QPushButton(f"New {self.kind.label}")
        self.new_button.setAccessibleName(f"New {self.kind.label}")
        self.new_button.clicked.connect(lambda: self.new_requested.emit(self.kind.name,
                                                                        self.preset()))
        bar.addWidget(self.new_button)
        layout.addLayout(bar)
        self.splitter = QSplitter(Qt.Horizontal)
        self.table = QTableView()
        self.table.setAccessibleName(f"{self.kind.plural.capitalize()} list")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        # Tab goes on to the detail pane (rows are chosen with the arrow keys)
        self.table.setTabKeyNavigation(False)
        copy = QShortcut(QKeySequence.Copy, self.table, context=Qt.WidgetShortcut)
        copy.activated.connect(self.copy_selected)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(
            self.table.fontMetrics().height() + 8)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setSortIndicator(self.query.sort_column,
                                Qt.DescendingOrder if self.query.descending else Qt.AscendingOrder)
        header.sortIndicatorChanged.connect(self._on_sort)
        self.detail = DetailPane(store)
        holder = QScrollArea()
        holder.setWidget(self.detail)
        holder.setWidgetResizable(True)
        holder.setFrameShape(QScrollArea.NoFrame)
        holder.setMinimumWidth(240)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(holder)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        layout.addWidget(self.splitter, 1)
        self.model.counted.connect(self._on_counted)
        self.model.loading.connect(self._on_loading)
        self.table.selectionModel().currentRowChanged.connect(self._on_current)
        self._loaded = False

    # ------------------------------------------------------------ loading
    def ensure_loaded(self) -> None:
        """Read the first page (done when the page is first shown, not when it is made)."""
        if not self._loaded:
            self._loaded = True
            self.model.reload()
            self._size_columns()
            if self.model.rowCount() and not self.detail.record:
                self.table.selectRow(0)
            # half each: the contact card's numbers and Copy buttons fit in full
            width = max(self.splitter.width(), 900)
            self.splitter.setSizes([width // 2, width - width // 2])

    def _size_columns(self) -> None:
        fm = self.table.fontMetrics()
        widths = {"name": 26, "title": 26, "description": 34, "text": 60, "agency": 10,
                  "assignment": 24, "operation": 20, "remarks": 30, "hazard": 30, "system": 22,
                  "code": 10, "best_number": 24, "call_sign": 12, "duty_line": 18,
                  "jurisdiction": 22, "type_name": 24, "location": 20}
        samples = {K.DATE: "2026-11-24", K.DATETIME: "2026-11-24 19:00", K.REAL: "851.0125"}
        by_type = {K.ENUM: 13, K.INT: 6, K.REF: 11}
        for i, col in enumerate(self.spec.columns):
            fld = self.kind.field_map.get(col)
            heading = fm.horizontalAdvance(self.query.titles[i]) + 28
            if fld is not None and fld.type in samples and col not in widths:
                width = fm.horizontalAdvance(samples[fld.type]) + 18
            else:
                chars = widths.get(col, by_type.get(fld.type, 14) if fld else 14)
                width = fm.horizontalAdvance("M") * chars * 2 // 3
            self.table.setColumnWidth(i, max(width, heading))

    def reload(self) -> None:
        self.model.reload()

    def preset(self) -> dict:
        """Values a new record starts with: the filters in force."""
        out = {}
        for name, combo in self.filters.items():
            value = combo.currentData()
            if isinstance(value, (list, tuple)):        # a group of values: one of them only
                value = value[0] if len(value) == 1 else None
            if name not in ("scope", VERIFIED_FILTER) and value is not None:
                out[name] = value
        return out

    def _on_filter(self, name: str) -> None:
        combo = self.filters[name]
        value = combo.currentData()
        if value is None and combo.isEditable() and combo.currentText() and \
                combo.currentIndex() != 0:
            return
        if value == STALE:
            days = Thresholds.load(self.query.conn).stale_days
            value = (dt.date.today() - dt.timedelta(days=days)).isoformat()
        self.query.set_filter(name, value)
        self.model.reload()

    def apply_filters(self, filters: dict) -> None:
        """Show only the records with these field values (the other filters cleared)."""
        for name, combo in self.filters.items():
            combo.blockSignals(True)
            index = combo.findData(filters[name]) if name in filters else 0
            combo.setCurrentIndex(max(index, 0))
            combo.blockSignals(False)
        self.query.filters.clear()
        for name, value in filters.items():
            self.query.set_filter(name, value)
        self.model.reload()

    def _on_deleted(self, on: bool) -> None:
        self.query.deleted = on
        self.model.reload()

    def _on_sort(self, column: int, order) -> None:
        if not self.query.sortable(column):
            header = self.table.horizontalHeader()
            header.blockSignals(True)
            header.setSortIndicator(self.query.sort_column, Qt.DescendingOrder
                                    if self.query.descending else Qt.AscendingOrder)
            header.blockSignals(False)
            return
        self.model.sort(column, order)

    def _on_counted(self, n: int) -> None:
        what = self.kind.label if n == 1 else self.kind.plural
        self.count_label.setText(f"{n:,} {'deleted ' if self.query.deleted else ''}{what}")

    def _on_loading(self, busy: bool) -> None:
        if busy:
            self.count_label.setText("Reading…")
        self.table.setEnabled(not busy)

    def _on_current(self, current, _previous) -> None:
        if current.isValid():
            rid = self.model.data(current, ID_ROLE)
            self.detail.show_record(rid)
            self.selected.emit(rid)

    # ------------------------------------------------------------ records
    def copy_selected(self) -> str | None:
        """Ctrl+C on the list: a contact's or an agency's first line (24/7 lines first, then
        numbers), or the record's title; returns what was copied."""
        rec = self.detail.record
        if rec is None:
            return None
        from . import present
        text = rec.title
        if rec.kind in ("contact", "agency"):
            lines = present.lines_of(self.detail.store, rec.id, rec.kind)
            if lines:
                text = lines[0].copy_text
        QGuiApplication.clipboard().setText(text)
        self.detail.copied.emit(text)
        return text

    def current_id(self) -> str | None:
        return self.detail.record.id if self.detail.record else None

    def show_record(self, rid: str) -> None:
        """Select `rid` if it is among the rows read, and show it in the detail pane."""
        self.ensure_loaded()
        row = self.model.row_of(rid)
        if row >= 0:
            index = self.model.index(row, 0)
            self.table.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.ClearAndSelect | QItemSelectionModel.Rows)
            self.table.scrollTo(index)
        else:
            self.table.clearSelection()
        self.detail.show_record(rid)

    def records_changed(self, ids) -> None:
        """Bring the rows and the detail of these records up to date (nothing else is read).

        The record shown stays selected, wherever its row went (a saved request whose number
        moved it in the list); when its row left the list, the row that took its place is.
        """
        if not self._loaded:
            return
        shown = self.detail.record.id if self.detail.record is not None else None
        self.model.update_records(ids)
        row = self.model.row_of(shown) if shown else -1
        if row >= 0 and self.table.currentIndex().row() != row:
            self.show_record(shown)
            return
        current = self.detail.record
        if current is not None:
            self.detail.show_record(current.id)


class Page(QWidget):
    """A sidebar page: one list, or several in tabs (Comms: channels and comms plans)."""

    def __init__(self, store, name: str, parent=None):
        super().__init__(parent)
        self.name = name
        self.title, lists = PAGES[name]
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.lists = [ListPage(store, spec) for _, spec in lists]
        if len(self.lists) == 1:
            layout.addWidget(self.lists[0])
            self.tabs = None
        else:
            self.tabs = QTabWidget()
            for (label, _), lst in zip(lists, self.lists):
                self.tabs.addTab(lst, label)
            self.tabs.currentChanged.connect(lambda _i: self.current().ensure_loaded())
            layout.addWidget(self.tabs)

    def current(self) -> ListPage:
        return self.tabs.currentWidget() if self.tabs else self.lists[0]

    def ensure_loaded(self) -> None:
        self.current().ensure_loaded()

    def list_for(self, kind: str) -> ListPage | None:
        for lst in self.lists:
            if lst.kind.name == kind:
                return lst
        return None

    def show_record(self, kind: str, rid: str) -> None:
        lst = self.list_for(kind) or self.current()
        if self.tabs:
            self.tabs.setCurrentWidget(lst)
        lst.show_record(rid)

    def records_changed(self, kinds: set, ids: set) -> None:
        for lst in self.lists:
            lst.records_changed(ids)


# record kind -> (page, kind shown there, field leading to the shown record)
OPENS_ON = {name: (page.name, shown, via)
            for name in K.KINDS for page, shown, via in (K.home_of(name),)}
