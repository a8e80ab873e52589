# SPDX-License-Identifier: GPL-3.0-or-later
"""The peer and bundle dialogs of the Sync page, thin over fieldcoord.sync.peers (UI layer)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QMessageBox, QPushButton,
                               QVBoxLayout, QWidget)

from ..core.errors import FieldcoordError, ValidationError
from ..sync.peers import PeerInfo, keyring_problem, save_peer


# ------------------------------------------------------------------------------------- dialogs
def _error_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet("color: #c0392b;")
    label.setVisible(False)
    return label


class PeerDialog(QDialog):
    """Add a peer, or change a peer's address or token; errors show next to their field."""

    def __init__(self, store, peer: PeerInfo | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.adding = peer is None
        self.saved_name: str | None = None
        self.setWindowTitle("Add a peer" if self.adding else f"Peer {peer.name}")
        layout = QVBoxLayout(self)
        intro = QLabel("A peer is your agency's hub, or a partner agency's hub, that this "
                       "device syncs with. Its administrator gives you its address and a "
                       "device token.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.name = QLineEdit(peer.name if peer else "")
        self.name.setAccessibleName("Peer name")
        self.name.setPlaceholderText("hub")
        self.name.setReadOnly(not self.adding)
        self.url = QLineEdit(peer.url if peer else "")
        self.url.setAccessibleName("Peer address")
        self.url.setPlaceholderText("https://hub.example:8765")
        self.token = QLineEdit()
        self.token.setAccessibleName("Device token")
        self.token.setEchoMode(QLineEdit.Password)
        self.token.setPlaceholderText("paste the device token" if self.adding else
                                      "leave empty to keep the stored token")
        self.errors = {f: _error_label() for f in ("name", "url", "token")}
        for label, widget, f in (("Name", self.name, "name"), ("Address", self.url, "url"),
                                 ("Device token", self.token, "token")):
            box = QVBoxLayout()
            box.setSpacing(2)
            box.addWidget(widget)
            box.addWidget(self.errors[f])
            form.addRow(label, box)
        layout.addLayout(form)
        self.keyring_note = QLabel()
        self.keyring_note.setWordWrap(True)
        self.keyring_note.setAccessibleName("Keyring message")
        self.keyring_note.setStyleSheet("background: #fff4d6; color: #5c4400; padding: 6px; "
                                        "border: 1px solid #e0c060; border-radius: 3px;")
        layout.addWidget(self.keyring_note)
        self.message = _error_label()
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.name.textChanged.connect(self._update_keyring_note)
        self._update_keyring_note()

    def _update_keyring_note(self) -> None:
        problem = keyring_problem(self.name.text().strip() or "hub")
        self.keyring_note.setText(problem or "")
        self.keyring_note.setVisible(bool(problem))
        self.token.setEnabled(not problem)

    def show_error(self, message: str, fld: str | None) -> None:
        for label in self.errors.values():
            label.setVisible(False)
        self.message.setVisible(False)
        label = self.errors.get(fld or "", self.message)
        label.setText(message)
        label.setVisible(True)

    def save(self) -> bool:
        """Validate and save; on a problem, show it next to its field and stay open."""
        try:
            self.saved_name = save_peer(self.store, self.name.text(), self.url.text(),
                                        self.token.text(), self.adding)
        except ValidationError as e:
            self.show_error(e.message, e.field)
            return False
        except FieldcoordError as e:              # the keyring refused the token
            self.show_error(str(e), "token")
            return False
        self.accept()
        return True


class ExportBundleDialog(QDialog):
    """Choose the bundle file and the agency it is for."""

    def __init__(self, store, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export a bundle")
        layout = QVBoxLayout(self)
        intro = QLabel("A bundle carries changes on a file (a USB stick) to a partner with no "
                       "network between you. Choose an agency to include only what it may see.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        row = QHBoxLayout()
        self.file = QLineEdit()
        self.file.setAccessibleName("Bundle file")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row.addWidget(self.file, 1)
        row.addWidget(browse)
        box = QVBoxLayout()
        box.addLayout(row)
        self.file_error = _error_label()
        box.addWidget(self.file_error)
        form.addRow("File", box)
        self.agency = QComboBox()
        self.agency.setAccessibleName("For agency")
        self.agency.addItem("My agency's own devices (everything, private records included)",
                            "")
        for code, name in sorted((r.values.get("code") or "", r.title)
                                 for r in store.list("agency")):
            if code:
                self.agency.addItem(f"{code} — {name}", code)
        form.addRow("For", self.agency)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Export")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Bundle file", self.file.text(),
                                              "fieldcoord bundles (*.fcb);;All files (*)")
        if name:
            self.file.setText(name)

    def choice(self) -> tuple[Path, str | None]:
        return Path(self.file.text().strip()), self.agency.currentData() or None

    def _accept(self) -> None:
        text = self.file.text().strip()
        problem = ("choose where to write the bundle" if not text else
                   f"no such folder: {Path(text).parent}" if not Path(text).parent.is_dir()
                   else None)
        if problem:
            self.file_error.setText(problem)
            self.file_error.setVisible(True)
            return
        self.accept()


def choose_bundle_to_import(parent: QWidget | None) -> Path | None:
    name, _ = QFileDialog.getOpenFileName(
        parent, "Import a bundle or a receipt", "",
        "fieldcoord bundles and receipts (*.fcb *.json);;All files (*)")
    return Path(name) if name else None


def show_lines(parent: QWidget | None, title: str, lines: list[str], warn: bool = False) -> None:
    box = QMessageBox(QMessageBox.Warning if warn else QMessageBox.Information, title,
                      lines[0] if lines else "", QMessageBox.Ok, parent)
    if len(lines) > 1:
        box.setInformativeText("\n".join(lines[1:]))
    box.setTextInteractionFlags(Qt.TextSelectableByMouse)
    box.open()
