# SPDX-License-Identifier: GPL-3.0-or-later
"""Global search: results as you type, grouped by kind; Enter opens the record (UI layer)."""
from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QSplitter, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from ..core import kinds as K
from ..core.errors import FieldcoordError
from .detail import DetailPane

DEBOUNCE_MS = 40          # keystrokes closer than this run one search, for the last of them
MIN_CHARS = 2             # one letter would match a good part of the directory
LIMIT = 50
GROUP_TITLES = {k.name: k.search.group for k in K.KINDS.values() if k.search is not None}


class SearchPanel(QWidget):
    """Results of the global search with the selected record's details beside them."""

    open_requested = Signal(str)          # Enter or double-click on a result
    searched = Signal(str, int)           # text, number of results (after they are shown)

    def __init__(self, store, parent=None):
        super().__init__(parent)
        self.store = store
        self.text = ""
        self._last_key = 0.0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 0)
        self.summary = QLabel()
        self.summary.setAccessibleName("Search summary")
        layout.addWidget(self.summary)
        split = QSplitter(Qt.Horizontal)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Result", "Details"])
        self.tree.setAccessibleName("Search results")
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setColumnWidth(0, 280)
        self.tree.itemActivated.connect(self._on_activated)
        self.tree.currentItemChanged.connect(self._on_current)
        self.detail = DetailPane(store)
        split.addWidget(self.tree)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout.addWidget(split, 1)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(self.run)
        # the detail of the current result follows once the results are on screen
        self.detail_timer = QTimer(self)
        self.detail_timer.setSingleShot(True)
        self.detail_timer.setInterval(30)
        self.detail_timer.timeout.connect(self._show_detail)

    def set_text(self, text: str) -> None:
        """Search for `text` at once after a pause in typing; during a burst of keystrokes
        (a paste, a fast typist) each one restarts a short wait and the last one searches."""
        now = time.monotonic()
        burst = now - self._last_key < DEBOUNCE_MS / 1000
        self._last_key = now
        self.text = text
        self.timer.setInterval(DEBOUNCE_MS if burst else 0)
        self.timer.start()

    def run(self) -> None:
        self.timer.stop()
        text = self.text.strip()
        self.tree.setUpdatesEnabled(False)
        self.tree.clear()
        hits = []
        if len(text) < MIN_CHARS:
            self.summary.setText("Type one more character to search." if text else "")
            self.tree.setUpdatesEnabled(True)
            self.searched.emit(text, 0)
            return
        if text:
            try:
                hits = self.store.search(text, limit=LIMIT)
            except FieldcoordError as e:
                self.summary.setText(str(e))
        groups: dict[str, list] = {}
        for h in hits:
            groups.setdefault(h.kind, []).append(h)
        bold = QFont()
        bold.setBold(True)
        first = None
        # in the order of each kind's best-ranked result (an agency whose code is being typed
        # ranks first: store.search)
        for kind in groups:
            items = groups[kind]
            head = QTreeWidgetItem([f"{GROUP_TITLES.get(kind, K.KINDS[kind].plural)} "
                                    f"({len(items)})", ""])
            head.setFont(0, bold)
            head.setFlags(Qt.ItemIsEnabled)
            head.setFirstColumnSpanned(True)
            self.tree.addTopLevelItem(head)
            for h in items:
                item = QTreeWidgetItem(["    " + h.title, h.subtitle])
                item.setData(0, Qt.UserRole, h.id)
                item.setToolTip(0, h.title)
                item.setToolTip(1, h.subtitle)
                self.tree.addTopLevelItem(item)
                first = first or item
        if first is not None:
            self.tree.setCurrentItem(first)
        self.tree.setUpdatesEnabled(True)
        if text and not hits:
            self.summary.setText(f"Nothing found for “{text}”. Search covers agencies, contacts, "
                                 "phone numbers, emails, call signs, resources, facilities, "
                                 "requests, agreements, operations, plans, channels, training, "
                                 "after-action items and the activity log.")
        elif text:
            self.summary.setText(f"{len(hits)} result{'s' if len(hits) != 1 else ''} for "
                                 f"“{text}” · ↑↓ to choose, Enter to open")
        self.searched.emit(text, len(hits))

    def result_ids(self) -> list[str]:
        out = []
        for i in range(self.tree.topLevelItemCount()):
            rid = self.tree.topLevelItem(i).data(0, Qt.UserRole)
            if rid:
                out.append(rid)
        return out

    def result_titles(self) -> list[str]:
        return [self.tree.topLevelItem(i).text(0).strip()
                for i in range(self.tree.topLevelItemCount())
                if self.tree.topLevelItem(i).data(0, Qt.UserRole)]

    def open_current(self) -> bool:
        if self.timer.isActive():
            self.run()
        item = self.tree.currentItem()
        if item is not None and item.data(0, Qt.UserRole):
            self.open_requested.emit(item.data(0, Qt.UserRole))
            return True
        return False

    def move(self, step: int) -> None:
        """Move the current result up or down (from the search field's arrow keys)."""
        ids = [i for i in range(self.tree.topLevelItemCount())
               if self.tree.topLevelItem(i).data(0, Qt.UserRole)]
        if not ids:
            return
        cur = self.tree.indexOfTopLevelItem(self.tree.currentItem()) \
            if self.tree.currentItem() else -1
        pos = ids.index(cur) if cur in ids else -1
        pos = max(0, min(len(ids) - 1, pos + step))
        self.tree.setCurrentItem(self.tree.topLevelItem(ids[pos]))

    def _on_activated(self, item, _col) -> None:
        rid = item.data(0, Qt.UserRole)
        if rid:
            self.open_requested.emit(rid)

    def _on_current(self, _item, _prev) -> None:
        self.detail_timer.start()

    def _show_detail(self) -> None:
        item = self.tree.currentItem()
        rid = item.data(0, Qt.UserRole) if item else None
        if rid:
            self.detail.show_record(rid)
        else:
            self.detail.clear()
