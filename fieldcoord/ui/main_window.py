# SPDX-License-Identifier: GPL-3.0-or-later
"""The main window: sidebar of pages, global search, menus, shortcuts and status bar (UI layer).

Pages are built when first shown, and a list reads only its first page of rows, so the window
opens fast on a directory of 100,000 contacts. Writes made from the window (dialogs, the card's
"mark verified") are passed on as the ids they changed, and each list updates those rows only.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from ..core.errors import FieldcoordError
from ..store import Store
from ..store.conflicts import open_count
from . import dialogs, fileops
from .alerts_panel import AlertsButton, AlertsPanel
from .export_dialog import open_export_dialog
from .first_run import FirstRunDialog, first_run  # noqa: F401  (File > New and Open, app.py)
from .import_wizard import open_import_wizard
from .navigation import Navigation
from .pages import OPENS_ON, PAGE_NAMES, SIDEBAR, TITLES
from .record_actions import RecordActions
from .search import SearchPanel
from .settings import settings
from .style import ERROR_STYLE
from .sync_pages import SyncPage, SyncStatus

DEFAULT_PAGE = "overview"


def store_status(store: Store) -> SyncStatus:
    """What the status bar shows when no Sync page reports: the store's own knowledge."""
    conflicts = open_count(store)
    try:
        last = store.conn.execute("SELECT max(last_sync) FROM peer").fetchone()[0]
    except Exception:
        last = None
    return SyncStatus(last_sync=last, conflicts=conflicts)


class SearchField(QLineEdit):
    """The global search box: arrow keys move in the results, Enter opens, Esc clears."""

    moved = Signal(int)
    entered = Signal()

    def keyPressEvent(self, event) -> None:
        key = event.key()
        if key in (Qt.Key_Down, Qt.Key_Up):
            self.moved.emit(1 if key == Qt.Key_Down else -1)
        elif key in (Qt.Key_Return, Qt.Key_Enter):
            self.entered.emit()
        elif key == Qt.Key_Escape:
            self.clear()
        else:
            super().keyPressEvent(event)


class MainWindow(Navigation, RecordActions, QMainWindow):
    """The app's window over one open Store."""

    page_changed = Signal(str)

    def __init__(self, store: Store, remember: bool = True, start_page: str | None = None):
        super().__init__()
        self.store = store
        self.remember = remember
        self.pages: dict[str, QWidget] = {}
        self._containers: dict[QWidget, QWidget] = {}
        self.history: list[tuple[str, str | None]] = []
        self.current_page: str | None = None
        self._status = SyncStatus()
        self.setWindowTitle(("DEMO — " if store.demo else "")
                            + f"fieldcoord — {store.home} — {store.path.name}")
        self.setAccessibleName("fieldcoord")
        self._build_toolbar()
        self._build_body()
        self._build_menus()
        self._build_status()
        self._build_alerts()
        self.conflicts_page = None            # built when first shown
        self.overview_page = None             # built when first shown
        self.sync_page = SyncPage(store.path)
        self.sync_page.status.connect(self._on_sync_status)
        self.sync_page.changed.connect(self._on_external_change)
        self.pages["sync"] = self.sync_page
        self._add_to_stack(self.sync_page, scroll=True)
        self._on_sync_status(self.sync_page.last_status or store_status(store))
        page = start_page or ((settings.page or DEFAULT_PAGE)
                              if remember else DEFAULT_PAGE)
        if remember:
            geometry = settings.geometry
            if geometry is not None:
                self.restoreGeometry(geometry)
            else:
                self.resize(1280, 800)
        self.go(page if page in PAGE_NAMES else DEFAULT_PAGE, remember_history=False)

    @property
    def db_path(self) -> Path:
        return self.store.path

    # ------------------------------------------------------------------ layout
    def _build_toolbar(self) -> None:
        bar = self.addToolBar("Main")
        bar.setObjectName("main-toolbar")
        bar.setMovable(False)
        self.back_action = QAction("← Back", self)
        self.back_action.setShortcuts([QKeySequence(QKeySequence.Back),
                                       QKeySequence("Alt+Left")])
        self.back_action.setToolTip("Back to the previous page or record (Alt+Left)")
        self.back_action.triggered.connect(self.back)
        self.back_action.setEnabled(False)
        self.demo_badge = None
        if self.store.demo:
            self.demo_badge = QLabel(" DEMO ")
            self.demo_badge.setAccessibleName("Demo directory")
            self.demo_badge.setToolTip(f"{self.store.path}: the demo directory, fictional Harbor "
                                       "County. Nothing here is real, and it is not synced "
                                       "unless you confirm.")
            self.demo_badge.setStyleSheet("background: #b9770e; color: white; font-weight: bold;"
                                          " border-radius: 3px; padding: 2px 6px;")
            bar.addWidget(self.demo_badge)
        bar.addAction(self.back_action)
        self.new_action = QAction("New", self)
        self.new_action.setShortcut(QKeySequence.New)
        self.new_action.setToolTip("New record on this page (Ctrl+N)")
        self.new_action.triggered.connect(self.new_record)
        self.edit_action = QAction("Edit", self)
        self.edit_action.setShortcut(QKeySequence("Ctrl+E"))
        self.edit_action.setToolTip("Edit the selected record (Ctrl+E)")
        self.edit_action.triggered.connect(self.edit_record)
        self.delete_action = QAction("Delete", self)
        self.delete_action.setShortcut(QKeySequence.Delete)
        self.delete_action.setToolTip("Delete the selected record (Del); it can be restored")
        self.delete_action.triggered.connect(self.delete_record)
        self.restore_action = QAction("Restore", self)
        self.restore_action.setShortcut(QKeySequence("Ctrl+Shift+R"))
        self.restore_action.triggered.connect(self.restore_record)
        for a in (self.new_action, self.edit_action, self.delete_action):
            bar.addAction(a)
        spacer = QWidget()
        spacer.setFixedWidth(12)
        bar.addWidget(spacer)
        self.search = SearchField()
        self.search.setPlaceholderText("Search people, agencies, numbers, call signs, resources, "
                                       "requests, agreements, events…  (Ctrl+K)")
        self.search.setAccessibleName("Search")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(220)
        self.search.textChanged.connect(self._on_search_text)
        self.search.moved.connect(lambda step: self.search_panel.move(step))
        self.search.entered.connect(self._on_search_enter)
        bar.addWidget(self.search)
        self.search_action = QAction("Search", self)
        self.search_action.setShortcuts([QKeySequence("Ctrl+K"), QKeySequence.Find])
        self.search_action.triggered.connect(self.focus_search)
        self.addAction(self.search_action)
        spacer2 = QWidget()
        spacer2.setFixedWidth(12)
        bar.addWidget(spacer2)
        self.sync_action = QAction("Sync now", self)
        self.sync_action.setShortcuts([QKeySequence("Ctrl+Shift+S"), QKeySequence("F5")])
        self.sync_action.setToolTip("Sync with your peers now (Ctrl+Shift+S)")
        self.sync_action.triggered.connect(self.sync_now)
        bar.addAction(self.sync_action)
        self.alerts_button = AlertsButton()
        bar.addWidget(self.alerts_button)

    def _build_alerts(self) -> None:
        """The alerts panel, docked on the right, shown or hidden by the toolbar's button."""
        self.alerts_panel = AlertsPanel(self.store)
        self.alerts_dock = QDockWidget("Needs attention", self)
        self.alerts_dock.setObjectName("alerts")
        self.alerts_dock.setWidget(self.alerts_panel)
        self.alerts_dock.setFeatures(QDockWidget.DockWidgetClosable
                                     | QDockWidget.DockWidgetMovable)
        self.addDockWidget(Qt.RightDockWidgetArea, self.alerts_dock)
        self.alerts_panel.counted.connect(self.alerts_button.show_count)
        self.alerts_panel.activated.connect(self.open_alert)
        self.alerts_button.toggled.connect(self.alerts_dock.setVisible)
        self.alerts_dock.visibilityChanged.connect(self._on_alerts_visible)
        shown = settings.alerts_shown if self.remember else False
        self.alerts_dock.setVisible(shown)
        self.alerts_button.setChecked(shown)
        self.alerts_panel.refresh()

    def _on_alerts_visible(self, visible: bool) -> None:
        if self.alerts_button.isChecked() != visible:
            self.alerts_button.setChecked(visible)
        if self.remember and not self.isHidden():
            settings.alerts_shown = visible

    def open_call_list(self):
        from .calls import open_call_list
        return open_call_list(self)

    def open_alert(self, alert) -> None:
        """Open what an alert is about: its record, or the page that shows it."""
        if alert.record:
            self.open_record(alert.record)
        elif alert.page:
            self.go(alert.page)

    def _build_body(self) -> None:
        split = QSplitter(Qt.Horizontal)
        self.sidebar = QListWidget()
        self.sidebar.setAccessibleName("Pages")
        self.sidebar.setMinimumWidth(120)
        self.sidebar.setMaximumWidth(220)
        self.sidebar.setFrameShape(QListWidget.NoFrame)
        self.sidebar.setSpacing(1)
        self._sidebar_items: dict[str, QListWidgetItem] = {}
        for heading, names in SIDEBAR:
            head = QListWidgetItem(heading.upper())
            head.setFlags(Qt.NoItemFlags)
            font = head.font()
            font.setBold(True)
            font.setPointSizeF(font.pointSizeF() * 0.85)
            head.setFont(font)
            self.sidebar.addItem(head)
            for _i, name in enumerate(names):
                item = QListWidgetItem("   " + TITLES[name])
                item.setData(Qt.UserRole, name)
                index = PAGE_NAMES.index(name) + 1
                if index <= 9:
                    item.setToolTip(f"{TITLES[name]} (Ctrl+{index})")
                self.sidebar.addItem(item)
                self._sidebar_items[name] = item
        self.sidebar.currentItemChanged.connect(self._on_sidebar)
        self.stack = QStackedWidget()
        self.search_panel = SearchPanel(self.store)
        self.search_panel.open_requested.connect(self.open_record)
        self._wire_detail(self.search_panel.detail)
        self.stack.addWidget(self.search_panel)
        split.addWidget(self.sidebar)
        split.addWidget(self.stack)
        split.setStretchFactor(1, 1)
        split.setSizes([170, 1100])
        self.setCentralWidget(split)
        self.setTabOrder(self.search, self.sidebar)
        self.setTabOrder(self.sidebar, self.stack)

    def _build_menus(self) -> None:
        m = self.menuBar().addMenu("&File")
        self._menu_action(m, "&New database…", self.new_database)
        self._menu_action(m, "&Open database…", self.open_database, QKeySequence.Open)
        m.addSeparator()
        self._menu_action(m, "&Import…", self.import_files, QKeySequence("Ctrl+I"))
        self._menu_action(m, "E&xport…", self.export_files, QKeySequence("Ctrl+Shift+E"))
        self._menu_action(m, "Export &bundle for a partner…", self.export_bundle)
        self._menu_action(m, "Import b&undle…", self.import_bundle)
        m.addSeparator()
        self._menu_action(m, "&Print / Export PDF of an ICS form…",
                          lambda: fileops.start_print(self), QKeySequence.Print)
        m.addSeparator()
        self._menu_action(m, "&Quit", self.close, QKeySequence.Quit)
        m = self.menuBar().addMenu("&Edit")
        for a in (self.new_action, self.edit_action, self.delete_action, self.restore_action):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.search_action)
        m.addSeparator()
        self._menu_action(m, "Alert &thresholds…", lambda: self.alerts_panel.edit_thresholds())
        m = self.menuBar().addMenu("&Go")
        m.addAction(self.back_action)
        self._menu_action(m, "&Duty-line check…", self.open_call_list,
                          QKeySequence("Ctrl+Shift+L"))
        m.addSeparator()
        for i, name in enumerate(PAGE_NAMES):
            shortcut = QKeySequence(f"Ctrl+{i + 1}") if i < 9 else None
            self._menu_action(m, TITLES[name], lambda _=False, n=name: self.go(n), shortcut)
        m = self.menuBar().addMenu("&Sync")
        m.addAction(self.sync_action)
        self._menu_action(m, "Sync page", lambda: self.go("sync"))
        self._menu_action(m, "Conflicts", lambda: self.go("conflicts"))
        m = self.menuBar().addMenu("&Help")
        self._menu_action(m, "&About fieldcoord", lambda: dialogs.about(self))

    def _menu_action(self, menu, text: str, slot, shortcut=None) -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(shortcut)
        a.triggered.connect(slot)
        menu.addAction(a)
        return a

    def _build_status(self) -> None:
        bar = self.statusBar()
        self.online_label = QLabel()
        self.online_label.setAccessibleName("Connection")
        self.last_sync_label = QLabel()
        self.last_sync_label.setAccessibleName("Last sync")
        self.pending_label = QLabel()
        self.pending_label.setAccessibleName("Pending changes")
        self.conflicts_button = QPushButton()
        self.conflicts_button.setFlat(True)
        self.conflicts_button.setAccessibleName("Open conflicts")
        self.conflicts_button.setToolTip("Show the Conflicts page")
        self.conflicts_button.clicked.connect(lambda: self.go("conflicts"))
        for w in (self.online_label, self.last_sync_label, self.pending_label,
                  self.conflicts_button):
            bar.addPermanentWidget(w)

    def _wire_detail(self, pane) -> None:
        pane.open_requested.connect(self.open_record)
        pane.edit_requested.connect(self.edit_record)
        pane.delete_requested.connect(self.delete_record)
        pane.restore_requested.connect(self.restore_record)
        pane.step_requested.connect(self.step_record)
        pane.add_requested.connect(self.new_record)
        pane.changed.connect(lambda ids: self.records_changed(None, ids))
        pane.copied.connect(lambda text: self.statusBar().showMessage(f"Copied {text}", 4000))

    # ------------------------------------------------------------------ search
    def focus_search(self) -> None:
        self.search.setFocus(Qt.ShortcutFocusReason)
        self.search.selectAll()

    def _on_search_text(self, text: str) -> None:
        if text.strip():
            if self.stack.currentWidget() is not self.search_panel:
                self.stack.setCurrentWidget(self.search_panel)
                for a in (self.new_action, self.restore_action):
                    a.setEnabled(False)
                for a in (self.edit_action, self.delete_action):
                    a.setEnabled(True)
            self.search_panel.set_text(text)
        elif self.current_page:
            self.search_panel.set_text("")
            self.go(self.current_page, remember_history=False)

    def _on_search_enter(self) -> None:
        if self.stack.currentWidget() is self.search_panel:
            self.search_panel.open_current()

    def open_record(self, rid: str) -> None:
        """Go to the page of record `rid` and show it (a line opens on its contact)."""
        try:
            rec = self.store.get(rid)
        except FieldcoordError as e:
            self.statusBar().showMessage(str(e), 5000)
            return
        page_name, kind, via = OPENS_ON[rec.kind]
        target = rec.id
        if rec.kind == "method" and not rec.values.get("contact"):
            page_name, kind, via = "agencies", "agency", "agency"
        if via and rec.values.get(via):
            target = rec.values[via]
        was_search = self.stack.currentWidget() is self.search_panel
        if was_search:
            self._push_history()
        page = self.go(page_name, remember_history=not was_search)
        page.show_record(kind, target)

    # ------------------------------------------------------------------ files
    def import_files(self):
        """File > Import…: the import wizard (preview, column mapping, dry run, report)."""
        return open_import_wizard(self, self.db_path,
                                  on_done=lambda _report, ids: self.records_changed(None, ids))

    def export_files(self):
        """File > Export…, preset to the search shown, if any, or to the page's format."""
        searching = self.stack.currentWidget() is self.search_panel
        return open_export_dialog(self, self.db_path,
                                  search=self.search.text().strip() if searching else None,
                                  page=None if searching else self.current_page)

    # ------------------------------------------------------------------ sync
    def sync_now(self) -> None:
        self.go("sync")
        self.sync_page.sync_now()

    def export_bundle(self) -> None:
        self.sync_page.export_bundle()

    def import_bundle(self) -> None:
        self.sync_page.import_bundle()

    def _on_sync_status(self, status: SyncStatus) -> None:
        self._status = status
        if hasattr(self, "alerts_panel"):
            self.alerts_panel.refresh_soon()          # conflicts, refusals, peers reached
        online = status.online
        self.online_label.setText({True: "● Online", False: "○ Offline",
                                   "no token": "○ No token: cannot sync"}.get(
            online, "○ Offline · working locally"))
        self.online_label.setToolTip(status.message)
        last = status.last_sync
        self.last_sync_label.setText(f"Last sync: {_short_time(last) if last else 'never'}")
        pending = status.pending
        self.pending_label.setText("" if pending is None else
                                   f"{pending:,} change{'s' if pending != 1 else ''} pending")
        n = status.conflicts or 0
        self.conflicts_button.setText(f"{n} open conflict{'s' if n != 1 else ''}")
        self.conflicts_button.setStyleSheet(ERROR_STYLE if n else "")
        if status.message and not status.quiet:
            self.statusBar().showMessage(status.message, 8000)

    # ------------------------------------------------------------------ databases
    def new_database(self) -> None:
        path = fileops.save_file_name(self, "New database", "fieldcoord.db",
                                      "fieldcoord database (*.db)")
        if path:
            if Path(path).exists():
                QMessageBox.warning(self, "New database", f"{path} exists already: use Open.")
                return
            store = first_run(Path(path), self)
            if store is not None:
                self.switch_store(store)

    def open_database(self) -> None:
        path = fileops.open_file_name(self, "Open database",
                                      "fieldcoord database (*.db);;All files (*)")
        if path:
            store = first_run(Path(path), self)
            if store is not None:
                self.switch_store(store)

    def switch_store(self, store: Store) -> MainWindow:
        """Replace this window by one on `store` (the old store is closed)."""
        window = MainWindow(store, remember=self.remember)
        window.resize(self.size())
        window.move(self.pos())
        window.show()
        self._replacement = window
        self.close()
        return window

    def closeEvent(self, event) -> None:
        self.search_panel.timer.stop()
        self.search_panel.detail_timer.stop()
        if getattr(self, "_index_timer", None) is not None:
            self._index_timer.stop()
        self.wait_for_idle_work()
        self.alerts_panel.stop()
        for page in self.pages.values():
            for lst in getattr(page, "lists", ()):
                lst.model.wait_for_reads()
        if self.remember:
            settings.geometry = self.saveGeometry()
        for page in (self.sync_page, self.conflicts_page):
            if page is not None and hasattr(page, "shutdown"):
                page.shutdown()          # stops its checks, cancels and waits, closes its Store
        super().closeEvent(event)
        if getattr(self, "_replacement", None) is not None:
            self.store.close()


def _short_time(iso: str) -> str:
    return iso.replace("T", " ").rstrip("Z")[:16] + (" UTC" if iso.endswith("Z") else "")
