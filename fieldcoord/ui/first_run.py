# SPDX-License-Identifier: GPL-3.0-or-later
"""First start: create the user's agency or open the demo directory (UI layer)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit,
                               QMessageBox, QPushButton, QVBoxLayout)

from .. import __version__
from ..core.errors import FieldcoordError
from ..store import Store


class FirstRunDialog(QDialog):
    """Create the user's agency or open the demo directory."""

    def __init__(self, db: Path, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Welcome to fieldcoord")
        self.choice = None
        layout = QVBoxLayout(self)
        intro = QLabel(f"<h3>Welcome to fieldcoord {__version__}</h3>"
                       f"<p>No database yet at {db}.<br>Create your agency's directory, or "
                       "explore the demo region (Harbor County) first.</p>")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setAccessibleName("Agency name")
        self.name.setPlaceholderText("e.g. Clark County Fire")
        self.code = QLineEdit()
        self.code.setAccessibleName("Agency code")
        self.code.setPlaceholderText("e.g. CCF")
        form.addRow("Agency name", self.name)
        form.addRow("Agency code", self.code)
        layout.addLayout(form)
        self.error = QLabel()
        self.error.setStyleSheet("color: #c0392b;")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
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


def first_run(db: Path, parent=None) -> Store | None:
    """Open the database, or ask how to create it; None when the user cancels."""
    if db.exists():
        try:
            return Store.open(db)
        except FieldcoordError as e:
            QMessageBox.critical(parent, "fieldcoord", str(e))
            return None
    while True:
        dialog = FirstRunDialog(db, parent)
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
