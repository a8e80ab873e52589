# SPDX-License-Identifier: GPL-3.0-or-later
"""First start: create the user's agency or open the demo directory (UI layer)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from .. import __version__
from ..core.errors import FieldcoordError, ValidationError
from ..store import Store
from .style import ERROR_STYLE

LABELS = {"name": "Agency name", "code": "Agency code"}


class FirstRunDialog(QDialog):
    """Create the user's agency or open the demo directory."""

    def __init__(self, db: Path, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Welcome to fieldcoord")
        self.choice = None
        layout = QVBoxLayout(self)
        intro = QLabel(f"<h3>Welcome to fieldcoord {__version__}</h3>"
                       f"<p>No database yet at {db}.<br>Create your agency's directory, or "
                       "explore the demo region (Harbor County) first: it opens in a file of "
                       f"its own ({db.with_name('demo.db').name}), marked DEMO, and is never "
                       "sent to a partner unless you confirm.</p>")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setAccessibleName("Agency name")
        self.name.setPlaceholderText("e.g. Clark County Fire")
        self.code = QLineEdit()
        self.code.setAccessibleName("Agency code")
        self.code.setPlaceholderText("e.g. CCF")
        self.errors: dict[str, QLabel] = {}
        for key, edit in (("name", self.name), ("code", self.code)):
            box = QWidget()
            lay = QVBoxLayout(box)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.setSpacing(2)
            lay.addWidget(edit)
            self.errors[key] = self._error_label(f"Error in {LABELS[key].lower()}")
            lay.addWidget(self.errors[key])
            form.addRow(LABELS[key], box)
        layout.addLayout(form)
        self.error = self._error_label("Error")
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

    @staticmethod
    def _error_label(name: str) -> QLabel:
        label = QLabel()
        label.setStyleSheet(ERROR_STYLE)
        label.setWordWrap(True)
        label.setAccessibleName(name)
        label.hide()
        return label

    def _done(self, choice: str) -> None:
        self.choice = choice
        self.accept()

    def show_error(self, message: str, field: str | None = None) -> None:
        """Show why the directory could not be made under the field at fault (or below the
        form); what was typed stays, and that field gets the focus."""
        for label in (*self.errors.values(), self.error):
            label.hide()
        label = self.errors.get(field, self.error)
        label.setText(message)
        label.show()
        if field in self.errors:
            edit = self.name if field == "name" else self.code
            edit.setFocus()
            edit.selectAll()


def _message(e: FieldcoordError) -> tuple[str, str | None]:
    """(message worded with the dialog's labels, field) of a refusal."""
    field = e.field if isinstance(e, ValidationError) and e.field in LABELS else None
    text = str(e)
    if field and text.startswith(f"agency {field}:"):
        problem = text.split(":", 1)[1].strip()
        text = f"{LABELS[field]}{' ' if problem.startswith('is ') else ': '}{problem}"
    return text, field


def upgrade(db: Path, parent=None) -> str | None:
    """Bring a database of an earlier version to this one on a worker thread, behind a dialog
    that says so (making the search documents again takes seconds for a large directory; the
    window would otherwise not appear meanwhile). Returns what went wrong, or None."""
    from PySide6.QtCore import QEventLoop, Qt

    from ..store.db import connect
    from ..store.migrations import migrate, pending
    from .tasks import Task
    if not pending(db):
        return None

    def work(progress, cancel) -> None:
        conn = connect(db)
        try:
            migrate(conn)
        finally:
            conn.close()

    dialog = QProgressDialog("Updating the database for this version of fieldcoord…", None,
                             0, 0, parent)
    dialog.setWindowTitle("fieldcoord")
    dialog.setWindowModality(Qt.ApplicationModal)
    dialog.setMinimumDuration(300)
    dialog.setValue(0)                  # (starts the wait after which it shows itself)
    task = Task(work, "Updating the database", parent)
    loop = QEventLoop()
    task.finished.connect(loop.quit)
    task.start()
    if task.is_running():
        loop.exec()
    dialog.close()
    return task.error


def first_run(db: Path, parent=None) -> Store | None:
    """Open the database, or ask how to create it; None when the user cancels."""
    if db.exists():
        problem = upgrade(db, parent)
        if problem:
            QMessageBox.critical(parent, "fieldcoord", problem)
            return None
        try:
            return Store.open(db)
        except FieldcoordError as e:
            QMessageBox.critical(parent, "fieldcoord", str(e))
            return None
    dialog = FirstRunDialog(db, parent)      # one dialog: what was typed survives an error
    while True:
        if dialog.exec() != QDialog.Accepted:
            return None
        try:
            if dialog.choice == "demo":
                return open_demo(db)
            return Store.create(db, dialog.name.text(), dialog.code.text())
        except FieldcoordError as e:
            text, field = _message(e)
            dialog.show_error(text, field)
            QMessageBox.warning(dialog, "fieldcoord", text)


def open_demo(db: Path) -> Store:
    """The demo directory, in its own file beside `db` (made and filled the first time): never
    the user's own database, and marked so that nothing of it is synced unasked."""
    from ..demo import DEMO_HOME_CODE, DEMO_HOME_NAME, demo_path, load_demo
    path = demo_path(db)
    if path.exists():
        return Store.open(path)
    store = Store.create(path, DEMO_HOME_NAME, DEMO_HOME_CODE)
    try:
        load_demo(store)
    except BaseException:
        store.close()
        path.unlink(missing_ok=True)
        raise
    return store
