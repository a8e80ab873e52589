# SPDX-License-Identifier: GPL-3.0-or-later
"""Moving about the main window: pages built on first use, the sidebar, Back through pages,
records and searches, and which list and record are current (UI layer).

A part of MainWindow (main_window.py), which holds the stack of pages, the sidebar, the search
field and the history these methods share.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea, QWidget

from .conflicts_page import ConflictsPage
from .pages import PAGE_NAMES, PAGES, Page
from .settings import settings


class Navigation:
    """Pages, sidebar and history of the main window."""

    def page(self, name: str) -> QWidget:
        """The page called `name`, built on first use."""
        if name not in self.pages:
            if name in PAGES:
                page = Page(self.store, name)
                for lst in page.lists:
                    self._wire_detail(lst.detail)
                    lst.new_requested.connect(self.new_record)
                    lst.table.doubleClicked.connect(lambda _i: self.edit_record())
            elif name == "overview":
                from .overview import OverviewPage
                page = OverviewPage(self.store)
                page.open_list.connect(self.open_filtered)
                page.alert_activated.connect(self.open_alert)
                self.overview_page = page
            elif name == "agenda":
                from .agenda_page import AgendaPage
                page = AgendaPage(self.store)
                page.open_requested.connect(self.open_record)
            elif name == "conflicts":
                page = ConflictsPage(self.store.path)
                page.changed.connect(self._on_external_change)
                self.conflicts_page = page
            else:
                raise KeyError(f"no page named {name}")
            self.pages[name] = page
            self._add_to_stack(page, scroll=not isinstance(page, Page))
        return self.pages[name]

    def _add_to_stack(self, page: QWidget, scroll: bool) -> None:
        """Pages with fixed layouts scroll rather than widen the window."""
        if scroll:
            holder = QScrollArea()
            holder.setWidget(page)
            holder.setWidgetResizable(True)
            holder.setFrameShape(QScrollArea.NoFrame)
            self._containers[page] = holder
            self.stack.addWidget(holder)
        else:
            self.stack.addWidget(page)

    def _show_page(self, page: QWidget) -> None:
        self.stack.setCurrentWidget(self._containers.get(page, page))

    def shown_page(self) -> QWidget:
        """The page on screen (the search panel while searching)."""
        current = self.stack.currentWidget()
        for page, holder in self._containers.items():
            if holder is current:
                return page
        return current

    def go(self, name: str, remember_history: bool = True) -> QWidget:
        """Show page `name` (one of PAGE_NAMES)."""
        if name not in PAGE_NAMES:
            raise ValueError(f"no page {name}; pages are: {', '.join(PAGE_NAMES)}")
        if remember_history and self.current_page and (
                name != self.current_page or self.stack.currentWidget() is self.search_panel):
            self._push_history()
        page = self.page(name)
        self.current_page = name
        self._show_page(page)
        if isinstance(page, Page):
            page.ensure_loaded()
        elif hasattr(page, "refresh") and page is not self.sync_page:
            page.refresh()
        item = self._sidebar_items[name]
        if self.sidebar.currentItem() is not item:
            self.sidebar.blockSignals(True)
            self.sidebar.setCurrentItem(item)
            self.sidebar.blockSignals(False)
        editable = isinstance(page, Page)
        for a in (self.new_action, self.edit_action, self.delete_action, self.restore_action):
            a.setEnabled(editable)
        if self.remember:
            settings.page = name
        self.page_changed.emit(name)
        return page

    def _on_sidebar(self, item, _prev) -> None:
        name = item.data(Qt.UserRole) if item else None
        if name:
            if self.search.text():
                self.search.blockSignals(True)
                self.search.clear()
                self.search.blockSignals(False)
            self.go(name)

    def _push_history(self) -> None:
        if self.stack.currentWidget() is self.search_panel:
            entry = ("search", self.search.text())
        else:
            page = self.pages.get(self.current_page)
            rid = page.current().current_id() if isinstance(page, Page) else None
            entry = (self.current_page, rid)
        if not self.history or self.history[-1] != entry:
            self.history.append(entry)
            del self.history[:-50]
        self.back_action.setEnabled(True)

    def back(self) -> None:
        """Return to the previous page, record or search."""
        if not self.history:
            return
        name, value = self.history.pop()
        self.back_action.setEnabled(bool(self.history))
        if name == "search":
            self.search.blockSignals(True)
            self.search.setText(value or "")
            self.search.blockSignals(False)
            self._on_search_text(value or "")
            self.search_panel.run()
            return
        if self.search.text():
            self.search.blockSignals(True)
            self.search.clear()
            self.search.blockSignals(False)
        page = self.go(name, remember_history=False)
        if value and isinstance(page, Page):
            kind = page.current().kind.name
            page.show_record(kind, value)

    def open_filtered(self, name: str, filters: dict) -> None:
        """Show a list narrowed by `filters` ({field: value}); {"id": ...} opens one record."""
        if "id" in filters:
            self.open_record(filters["id"])
            return
        page = self.go(name)
        if isinstance(page, Page):
            page.current().apply_filters(filters)

    def current_list(self):
        page = self.pages.get(self.current_page)
        if self.stack.currentWidget() is self.search_panel or not isinstance(page, Page):
            return None
        return page.current()

    def selected_id(self) -> str | None:
        if self.stack.currentWidget() is self.search_panel:
            rec = self.search_panel.detail.record
            return rec.id if rec else None
        lst = self.current_list()
        return lst.current_id() if lst else None
