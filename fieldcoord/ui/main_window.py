# SPDX-License-Identifier: GPL-3.0-or-later
"""A first main window: the home agency, what the directory holds, and search (UI layer)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit,
                               QListWidget, QListWidgetItem, QMainWindow, QMessageBox,
                               QPushButton, QVBoxLayout, QWidget)

from ..core import kinds as K
from ..core.errors import FieldcoordError
from ..store import Store

OVERVIEW_KINDS = ("agency", "contact", "resource", "request", "agreement", "operation", "plan",
                  "channel", "event", "log")


def _counted(n: int, kind: K.Kind) -> str:
    return f"{n} {kind.label if n == 1 else kind.plural}"


class MainWindow(QMainWindow):
    """Shows the directory's counts and finds records as you type."""

    def __init__(self, store: Store):
        super().__init__()
        self.store = store
        self.setWindowTitle(f"fieldcoord — {store.home}")
        central = QWidget()
        layout = QVBoxLayout(central)
        home = store.get(store.agency_id(store.home) or "", "agency") \
            if store.agency_id(store.home) else None
        title = QLabel(f"<h2>{home.title if home else store.home}</h2>"
                       f"<p>Home agency {store.home} · database {store.path}</p>")
        title.setTextFormat(Qt.RichText)
        layout.addWidget(title)
        counts = " · ".join(_counted(store.count(k), K.KINDS[k]) for k in OVERVIEW_KINDS)
        self.counts = QLabel(counts)
        self.counts.setWordWrap(True)
        layout.addWidget(self.counts)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search agencies, contacts, phone numbers, resources, "
                                       "channels…")
        self.search.setAccessibleName("Search")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_search_changed)
        layout.addWidget(self.search)
        self.results = QListWidget()
        self.results.setAccessibleName("Search results")
        layout.addWidget(self.results, 1)
        self.setCentralWidget(central)
        self._show_directory()
        self.statusBar().showMessage("Offline · all changes are kept on this device")

    def _show_directory(self) -> None:
        """With no search text: the partner agencies, to browse."""
        for rec in self.store.list("agency"):
            v = rec.values
            detail = " · ".join(str(x).replace("_", " ") for x in
                                (v.get("code"), v.get("level"), v.get("discipline"),
                                 v.get("jurisdiction")) if x)
            item = QListWidgetItem(f"{rec.title} — {detail}")
            item.setData(Qt.UserRole, rec.id)
            self.results.addItem(item)

    def _on_search_changed(self, text: str) -> None:
        self.results.clear()
        if not text.strip():
            self._show_directory()
            return
        for hit in self.store.search(text, limit=50):
            item = QListWidgetItem(f"{K.KINDS[hit.kind].label.capitalize()}: {hit.title}"
                                   + (f" — {hit.subtitle}" if hit.subtitle else ""))
            item.setData(Qt.UserRole, hit.id)
            self.results.addItem(item)


class FirstRunDialog(QDialog):
    """Create the user's agency or open the demo directory."""

    def __init__(self, db: Path):
        super().__init__()
        self.setWindowTitle("Welcome to fieldcoord")
        self.choice = None
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"No database yet at {db}.\nCreate your agency's directory, or "
                                "explore the demo region first."))
        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setAccessibleName("Agency name")
        self.code = QLineEdit()
        self.code.setAccessibleName("Agency code")
        self.code.setPlaceholderText("e.g. CCF")
        form.addRow("Agency name", self.name)
        form.addRow("Agency code", self.code)
        layout.addLayout(form)
        buttons = QDialogButtonBox()
        create = buttons.addButton("Create my agency", QDialogButtonBox.AcceptRole)
        demo = QPushButton("Open the demo directory")
        buttons.addButton(demo, QDialogButtonBox.ActionRole)
        buttons.addButton(QDialogButtonBox.Cancel)
        create.clicked.connect(lambda: self._done("create"))
        demo.clicked.connect(lambda: self._done("demo"))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _done(self, choice: str) -> None:
        self.choice = choice
        self.accept()


def first_run(db: Path) -> Store | None:
    """Open the database, or ask how to create it; None when the user cancels."""
    if db.exists():
        try:
            return Store.open(db)
        except FieldcoordError as e:
            QMessageBox.critical(None, "fieldcoord", str(e))
            return None
    while True:
        dialog = FirstRunDialog(db)
        if dialog.exec() != QDialog.Accepted:
            return None
        try:
            if dialog.choice == "demo":
                from ..demo import DEMO_HOME_CODE, DEMO_HOME_NAME, load_demo
                store = Store.create(db, DEMO_HOME_NAME, DEMO_HOME_CODE)
                load_demo(store)
                return store
            return Store.create(db, dialog.name.text(), dialog.code.text())
        except FieldcoordError as e:
            QMessageBox.warning(dialog, "fieldcoord", str(e))
