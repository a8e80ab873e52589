# SPDX-License-Identifier: GPL-3.0-or-later
"""The peer and bundle dialogs of the Sync page, thin over fieldcoord.sync.peers (UI layer)."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import FieldcoordError, ValidationError
from ..sync.peers import (
    PeerInfo,
    check_peer_url,
    check_trust,
    keyring_problem,
    peer_trust,
    save_peer,
)
from ..sync.tls import read_ca_file, show_fingerprint
from . import fileops
from .style import ERROR_STYLE
from .tasks import Task

_NOTE_STYLE = ("background: #fff4d6; color: #5c4400; padding: 6px; border: 1px solid #e0c060; "
               "border-radius: 3px;")


# ------------------------------------------------------------------------------------- dialogs
def _error_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(ERROR_STYLE)
    label.setVisible(False)
    return label


class PeerDialog(QDialog):
    """Add a peer, or change a peer's address, token or certificate trust; errors show next to
    their field. Once saved, an https:// peer's certificate is checked in the background: the
    dialog closes when it is trusted (or the hub does not answer now) and otherwise shows the
    certificate and offers to pin it."""

    def __init__(self, store, peer: PeerInfo | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.adding = peer is None
        self.saved_name: str | None = None
        self._stored_ca, stored_pin = peer_trust(store, peer.name) if peer else (None, None)
        self._check: Task | None = None
        self._presented = None               # the certificate a refused hub presented
        self._closed = False
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
        self.trust = QComboBox()
        self.trust.setAccessibleName("Certificate trust")
        self.trust.addItem("Trusted by this computer (a public certificate)", "system")
        self.trust.addItem("Signed by my agency's own CA (a CA file)", "ca")
        self.trust.addItem("Pinned: only the certificate with this fingerprint", "pin")
        self.trust.setToolTip("For an https:// hub with a certificate from your agency's own "
                              "certificate authority, or a self-signed one")
        self.ca_file = QLineEdit()
        self.ca_file.setAccessibleName("CA file")
        self.ca_file.setPlaceholderText("keep the CA stored for this peer" if self._stored_ca
                                        else "the CA certificate (PEM) from your agency")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_ca)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_file, 1)
        ca_row.addWidget(browse)
        self.pin = QLineEdit(show_fingerprint(stored_pin) if stored_pin else "")
        self.pin.setAccessibleName("Certificate fingerprint")
        self.pin.setPlaceholderText("SHA-256 fingerprint, such as 3F:A2:…")
        self.errors = {f: _error_label() for f in ("name", "url", "token", "ca", "pin")}
        for label, widget, f in (("Name", self.name, "name"), ("Address", self.url, "url"),
                                 ("Device token", self.token, "token"),
                                 ("Certificate", self.trust, None), ("CA file", ca_row, "ca"),
                                 ("Fingerprint", self.pin, "pin")):
            box = QVBoxLayout()
            box.setSpacing(2)
            if isinstance(widget, QWidget):
                box.addWidget(widget)
            else:
                box.addLayout(widget)
            if f:
                box.addWidget(self.errors[f])
            form.addRow(label, box)
        self.form = form
        layout.addLayout(form)
        self.keyring_note = QLabel()
        self.keyring_note.setWordWrap(True)
        self.keyring_note.setAccessibleName("Keyring message")
        self.keyring_note.setStyleSheet(_NOTE_STYLE)
        layout.addWidget(self.keyring_note)
        self.allow_plaintext = QCheckBox("Keep the token there anyway, unencrypted")
        self.allow_plaintext.toggled.connect(self._update_keyring_note)
        layout.addWidget(self.allow_plaintext)
        self.status = QLabel()
        self.status.setVisible(False)
        layout.addWidget(self.status)
        self.cert_panel = QFrame()
        self.cert_panel.setObjectName("hubCertificate")
        self.cert_panel.setStyleSheet(f"QFrame#hubCertificate {{ {_NOTE_STYLE} }}")
        panel = QVBoxLayout(self.cert_panel)
        self.cert_text = QLabel()
        self.cert_text.setWordWrap(True)
        self.cert_text.setAccessibleName("Hub certificate")
        self.cert_text.setTextInteractionFlags(Qt.TextSelectableByMouse)
        panel.addWidget(self.cert_text)
        panel_buttons = QHBoxLayout()
        self.pin_button = QPushButton("Pin this certificate")
        self.pin_button.clicked.connect(self._pin_presented)
        later = QPushButton("Keep the peer unpinned")
        later.clicked.connect(self.accept)
        panel_buttons.addStretch(1)
        panel_buttons.addWidget(later)
        panel_buttons.addWidget(self.pin_button)
        panel.addLayout(panel_buttons)
        self.cert_panel.setVisible(False)
        layout.addWidget(self.cert_panel)
        self.message = _error_label()
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.name.textChanged.connect(self._update_keyring_note)
        self.trust.currentIndexChanged.connect(self._update_trust_rows)
        self.trust.setCurrentIndex(2 if stored_pin else 1 if self._stored_ca else 0)
        self._update_trust_rows()
        self._update_keyring_note()

    def _update_keyring_note(self) -> None:
        """Say where the token would be kept when that is not an encrypting keyring; the token
        can always be typed, and is kept unencrypted only once the box is ticked."""
        problem = keyring_problem(self.name.text().strip() or "hub", store=self.store)
        self.allow_plaintext.setVisible(bool(problem) or self.allow_plaintext.isChecked())
        self.keyring_note.setText(problem or "")
        self.keyring_note.setVisible(bool(problem))

    def _update_trust_rows(self) -> None:
        mode = self.trust.currentData()
        self.form.setRowVisible(4, mode == "ca")
        self.form.setRowVisible(5, mode == "pin")

    def _browse_ca(self) -> None:
        name = fileops.open_file_name(self, "CA certificate",
                                      "Certificates (*.pem *.crt *.cer);;All files (*)",
                                      self.ca_file.text())
        if name:
            self.ca_file.setText(name)

    def _trust_settings(self) -> tuple[str | None, str | None]:
        """(CA bundle, pin) as chosen; ValidationError next to the field otherwise."""
        mode = self.trust.currentData()
        if mode == "ca":
            path = self.ca_file.text().strip()
            if path:
                return read_ca_file(path), None
            if self._stored_ca:
                return self._stored_ca, None
            raise ValidationError("choose the CA file your agency's administrator gave you",
                                  field="ca")
        if mode == "pin":
            if not self.pin.text().strip():
                raise ValidationError("paste the fingerprint of the hub's certificate",
                                      field="pin")
            return None, self.pin.text()
        return None, None

    def show_error(self, message: str, fld: str | None) -> None:
        for label in self.errors.values():
            label.setVisible(False)
        self.message.setVisible(False)
        label = self.errors.get(fld or "", self.message)
        label.setText(message)
        label.setVisible(True)

    def save(self) -> bool:
        """Validate and save; on a problem, show it next to its field and stay open. An https://
        peer's certificate is then checked in the background before the dialog closes."""
        if self._check is not None and self._check.is_running():
            return False
        try:
            tls_ca, tls_pin = self._trust_settings()
            name = save_peer(self.store, self.name.text(), self.url.text(), self.token.text(),
                             self.adding, tls_ca=tls_ca, tls_pin=tls_pin,
                             allow_plaintext=self.allow_plaintext.isChecked())
        except ValidationError as e:
            self.show_error(e.message, e.field)
            return False
        except FieldcoordError as e:              # the keyring refused the token
            self.show_error(str(e), "token")
            return False
        self.saved_name = name
        self.adding = False                       # saved: from now on a change of this peer
        self.name.setReadOnly(True)
        for label in (*self.errors.values(), self.message):
            label.setVisible(False)
        url = check_peer_url(self.url.text())
        if urlsplit(url).scheme != "https":
            self.accept()
            return True
        self._start_check(name, url, *peer_trust(self.store, name))
        return True

    def _start_check(self, name: str, url: str, tls_ca: str | None, tls_pin: str | None) -> None:
        self.cert_panel.setVisible(False)
        self.status.setText("Saved. Checking the hub's certificate…")
        self.status.setVisible(True)
        self.buttons.button(QDialogButtonBox.Save).setEnabled(False)
        self._check = Task(lambda progress, cancel: check_trust(name, url, tls_ca, tls_pin),
                           "Checking the hub's certificate")
        self._check.succeeded.connect(self._on_checked)
        self._check.failed.connect(self._on_check_failed)
        self._check.start()

    def _on_checked(self, result) -> None:
        if self._closed:
            return
        self.status.setVisible(False)
        self.buttons.button(QDialogButtonBox.Save).setEnabled(True)
        if result.state != "refused":
            self.accept()
            return
        self._presented = cert = result.certificate
        mode = self.trust.currentData()
        if cert is None:
            lines = [result.message]
        elif mode == "pin":
            lines = ["The hub presents a different certificate from the fingerprint you "
                     "entered. Ask the hub's administrator whether the certificate was "
                     "replaced; pin it only if they confirm this fingerprint:"] + cert.lines()
        else:
            lines = [("The hub's certificate does not verify against the CA file you chose."
                      if mode == "ca" else "This computer does not trust the hub's certificate "
                      "(a self-signed certificate, or one from your agency's own CA).")
                     + " Compare its fingerprint with the one the hub's administrator gives "
                     "you, and pin it only if they match:"] + cert.lines()
        self.cert_text.setText("\n".join(lines))
        self.pin_button.setVisible(cert is not None)
        self.cert_panel.setVisible(True)

    def _on_check_failed(self, message: str) -> None:
        if self._closed:
            return
        self.status.setVisible(False)
        self.buttons.button(QDialogButtonBox.Save).setEnabled(True)
        self.show_error(f"The peer is saved, but its certificate could not be checked: {message}",
                        None)

    def _pin_presented(self) -> None:
        """Keep the certificate the hub presented as this peer's pin, and close."""
        if self._presented is None or not self.saved_name:
            return
        try:
            save_peer(self.store, self.saved_name, self.url.text(), "", False,
                      tls_pin=self._presented.fingerprint)
        except FieldcoordError as e:
            self.show_error(str(e), None)
            return
        self.trust.setCurrentIndex(2)
        self.pin.setText(show_fingerprint(self._presented.fingerprint))
        self.accept()

    def reject(self) -> None:
        """Cancel; once the peer is saved, closing keeps it (the page then shows it)."""
        if self.saved_name:
            self.accept()
        else:
            super().reject()

    def done(self, result: int) -> None:
        self._closed = True
        if self._check is not None:
            self._check.cancel()              # its answer is no longer wanted
        super().done(result)


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
        # a partner first: a bundle for one's own devices carries private records too
        from ..store import identity
        for code, name in sorted((r.values.get("code") or "", r.title)
                                 for r in store.list("agency")):
            if code and code != store.home:
                note = "" if identity.trusted_key(store.conn, code) else \
                    " (its key is not confirmed yet: see Keys on the Sync page)"
                self.agency.addItem(f"{code} — {name}{note}", code)
        self.agency.addItem(f"{store.home}'s own devices (everything, private records "
                            "included)", "")
        self.agency.setCurrentIndex(0)
        form.addRow("For", self.agency)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Export")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        name = fileops.save_file_name(self, "Bundle file", self.file.text(),
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
    name = fileops.open_file_name(
        parent, "Import a bundle or a receipt",
        "fieldcoord bundles and receipts (*.fcb *.json);;All files (*)")
    return Path(name) if name else None


def show_lines(parent: QWidget | None, title: str, lines: list[str], warn: bool = False) -> None:
    box = QMessageBox(QMessageBox.Warning if warn else QMessageBox.Information, title,
                      lines[0] if lines else "", QMessageBox.Ok, parent)
    if len(lines) > 1:
        box.setInformativeText("\n".join(lines[1:]))
    box.setTextInteractionFlags(Qt.TextSelectableByMouse)
    box.open()
