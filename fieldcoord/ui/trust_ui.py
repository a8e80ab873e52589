# SPDX-License-Identifier: GPL-3.0-or-later
"""Agency keys in the app: confirming a partner's key by its fingerprint, a refused changed key,
the Keys section of the Sync page and the warning about unencrypted private keys (UI layer).

Thin over fieldcoord.store.identity (see docs/security.md): `identity.confirm` trusts a key,
`identity.describe` says what this replica holds. Both are quick, so they run on the GUI
thread's Store.
"""
from __future__ import annotations

import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core import kinds as K
from ..core.errors import FieldcoordError, ValidationError
from ..core.validate import normalise_field
from ..store import identity, trust
from .style import ERROR_STYLE

_FP = r"\d{5}(?: \d{5}){5}"
# the end of identity.UntrustedKey's message: "... fieldcoord keys trust MPD '12345 ...'"
_UNTRUSTED = re.compile(r"fieldcoord keys trust (\S+) '(" + _FP + r")'")
_AGENCY_IN = re.compile(r"(?:agency|key for|key of) ([A-Z0-9][A-Z0-9-]{1,11})\b")

NOTE_STYLE = ("background: #fff4d6; color: #5c4400; padding: 6px; border: 1px solid #e0c060; "
              "border-radius: 3px;")

KEYSTORE_TEXT = {
    "keyring": "in this computer's keyring (encrypted)",
    "file": "in an encrypted file beside the database (passphrase in FIELDCOORD_KEY_PASSPHRASE)",
    "database": "in the database file itself, unencrypted",
}
TRUST_TEXT = {"confirmed": "confirmed here",
              "endorsed": "vouched for by {home}"}


# ------------------------------------------------------------------------- reading messages
def untrusted_key_in(message: str | None) -> tuple[str, str] | None:
    """(agency, fingerprint) when `message` is an identity.UntrustedKey's (a sync outcome's
    error holds its text only); None otherwise."""
    m = _UNTRUSTED.search(message or "")
    return (m.group(1), m.group(2)) if m else None


def changed_key_in(message: str | None) -> dict | None:
    """What a refused changed key (identity.KeyChanged) names: {"agency", "presented",
    "confirmed"} (None when not found), or None when `message` is not about a changed key."""
    text = message or ""
    prints = re.findall(_FP, text)
    if not prints or not re.search(r"\brefus(?:ing|ed)\b", text):
        return None
    m = _AGENCY_IN.search(text)
    return {"agency": m.group(1) if m else None, "presented": prints[0],
            "confirmed": prints[1] if len(prints) > 1 else None}


def key_warning_text(store) -> str | None:
    """The Sync page's banner about where the private keys are, in plain words; None when they
    are kept safely."""
    warning = store.key_warning()
    if not warning:
        return None
    if store.keystore == "database":
        return ("This device's private keys are kept unencrypted in its database file (this "
                "computer had no keyring when fieldcoord was set up here), so anyone with a copy "
                "of the file could sign changes as this device. Keep the file on an encrypted "
                "disk, do not copy it to shared folders or USB sticks, and if this computer is "
                "lost, ask your administrator to revoke its device token.")
    return warning[:1].upper() + warning[1:] + "."


def _mono(size: float | None = None, bold: bool = False) -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.FixedFont)
    if size:
        font.setPointSizeF(size)
    font.setBold(bold)
    return font


def _heading(text: str) -> QLabel:
    """A dialog's heading: larger and bold."""
    heading = QLabel(text)
    font = heading.font()
    font.setPointSizeF(font.pointSizeF() * 1.3)
    font.setBold(True)
    heading.setFont(font)
    return heading


def _wrapped(text: str, rich: bool = False) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.RichText if rich else Qt.PlainText)
    label.setWordWrap(True)
    return label


def _fingerprint_box(fp: str, name: str) -> QLabel:
    """A fingerprint in large digits, three groups a line, to read out over the phone."""
    groups = fp.split()
    label = QLabel("   ".join(groups[:3]) + "\n" + "   ".join(groups[3:]))
    label.setFont(_mono(20, bold=True))
    label.setAlignment(Qt.AlignCenter)
    label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    label.setFrameShape(QFrame.StyledPanel)
    label.setMargin(10)
    label.setAccessibleName(name)
    label.setAccessibleDescription(fp)
    return label


# ------------------------------------------------------------------------------- dialogs
class ConfirmKeyDialog(QDialog):
    """"Confirm the key of agency MPD": the fingerprint in large digits to compare over the
    phone; "The fingerprints match: trust MPD" calls identity.confirm. The dialog stays open
    with the reason when the key cannot be trusted."""

    def __init__(self, store, agency: str, fingerprint: str, source: str,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.agency, self.fingerprint = agency, fingerprint
        self.setWindowTitle(f"Confirm the key of agency {agency}")
        layout = QVBoxLayout(self)
        layout.addWidget(_heading(f"Confirm the key of agency {agency}"))
        layout.addWidget(_wrapped(
            f"{source} is signed with the key of agency {agency}, and nobody has confirmed "
            f"that key on this device yet. Until someone does, nothing from {agency} is "
            "accepted here."))
        layout.addWidget(_wrapped(
            f"Call {agency}'s liaison or administrator on a number you already know (not one "
            "that came with this key) and ask them to read out their agency's key fingerprint: "
            "fieldcoord shows it on the Sync page under Keys, or with “fieldcoord keys”. "
            "Compare it with these digits, group by group:"))
        self.fingerprint_label = _fingerprint_box(fingerprint, f"Fingerprint of {agency}'s key")
        layout.addWidget(self.fingerprint_label)
        layout.addWidget(_wrapped(
            f"If every group matches, trust {agency}: its changes are then accepted and checked "
            "against this key from now on. If any digit differs, click Cancel and tell your "
            f"administrator: someone else may be posing as {agency}."))
        self.message = _wrapped("")
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setVisible(False)
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox()
        self.trust_button = self.buttons.addButton(
            f"The fingerprints match: trust {agency}", QDialogButtonBox.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.Cancel)
        # Enter must not trust a key: the safe answer is the default one
        self.trust_button.setAutoDefault(False)
        self.cancel_button.setDefault(True)
        self.buttons.accepted.connect(self.confirm)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)

    def confirm(self) -> bool:
        """Trust the key (identity.confirm) and close; on a refusal, say why and stay open."""
        try:
            identity.confirm(self.store, self.agency, fingerprint=self.fingerprint)
        except (FieldcoordError, trust.TrustError) as e:
            self.message.setText(f"{self.agency}'s key was not trusted: {e}")
            self.message.setVisible(True)
            self.trust_button.setEnabled(False)
            return False
        self.accept()
        return True


class KeyChangedDialog(QDialog):
    """A partner (or the agency's hub) presented a key other than the one confirmed here: the
    sync or import was refused. Plain words and both fingerprints; nothing to accept here."""

    def __init__(self, message: str, source: str, parent: QWidget | None = None):
        super().__init__(parent)
        prints, m = re.findall(_FP, message or ""), _AGENCY_IN.search(message or "")
        found = {"agency": m.group(1) if m else None,
                 "presented": prints[0] if prints else None,
                 "confirmed": prints[1] if len(prints) > 1 else None}
        agency = found["agency"]
        who = f"agency {agency}" if agency else "a partner agency"
        self.setWindowTitle(f"The key of {who} has changed")
        layout = QVBoxLayout(self)
        layout.addWidget(_heading(f"The key of {who} has changed"))
        layout.addWidget(_wrapped(
            f"{source} came with a key for {who} other than the one confirmed on this device, "
            "so this device refused it: nothing was received from it."))
        if found.get("presented"):
            grid = QGridLayout()
            rows = [("Presented now", found["presented"])]
            if found.get("confirmed"):
                rows.append(("Confirmed here", found["confirmed"]))
            for r, (title, fp) in enumerate(rows):
                grid.addWidget(QLabel(title), r, 0)
                value = QLabel(fp)
                value.setFont(_mono(14, bold=True))
                value.setTextInteractionFlags(Qt.TextSelectableByMouse)
                value.setAccessibleName(f"{title}: fingerprint")
                grid.addWidget(value, r, 1)
            grid.setColumnStretch(2, 1)
            layout.addLayout(grid)
        name = agency or "the partner"
        layout.addWidget(_wrapped(
            f"This happens when {name} replaced its key, and also when someone else poses as "
            f"{name}. Call {name}'s administrator on a number you already know and ask whether "
            "they replaced their key. Only if they did: select "
            f"{name} under Sync > Keys, click Forget, then sync or import again and confirm the "
            "new fingerprint they read out to you."))
        details = _wrapped(f"Details: {message}")
        details.setForegroundRole(QPalette.PlaceholderText)      # muted text
        details.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout.addWidget(details)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)


class TrustKeyDialog(QDialog):
    """Trust a partner's key by the fingerprint its liaison read out: an agency code and a
    fingerprint, each with its error next to it."""

    def __init__(self, store, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.trusted: tuple[str, str] | None = None
        self.setWindowTitle("Trust a partner's key")
        layout = QVBoxLayout(self)
        layout.addWidget(_wrapped(
            "Ask the partner agency's liaison or administrator, on a number you already know, "
            "to read out their agency's key fingerprint (Sync page > Keys, or “fieldcoord "
            "keys”), and type it here. Their changes are then accepted and checked against "
            "that key."))
        form = QFormLayout()
        self.code = QLineEdit()
        self.code.setAccessibleName("Agency code")
        self.code.setPlaceholderText("MPD")
        self.code.setMaxLength(12)
        self.fingerprint = QLineEdit()
        self.fingerprint.setAccessibleName("Key fingerprint")
        self.fingerprint.setPlaceholderText("12345 67890 12345 67890 12345 67890")
        self.fingerprint.setFont(_mono(12))
        self.errors = {}
        for title, widget, fld in (("Agency code", self.code, "code"),
                                   ("Fingerprint", self.fingerprint, "fingerprint")):
            box = QVBoxLayout()
            box.setSpacing(2)
            box.addWidget(widget)
            error = _wrapped("")
            error.setStyleSheet(ERROR_STYLE)
            error.setVisible(False)
            error.setAccessibleName(f"{title} error")
            self.errors[fld] = error
            box.addWidget(error)
            form.addRow(title, box)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.Cancel)
        self.trust_button = buttons.addButton("Trust this key", QDialogButtonBox.AcceptRole)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(480)

    def show_error(self, message: str, fld: str) -> None:
        for f, label in self.errors.items():
            label.setVisible(f == fld)
        self.errors[fld].setText(message)

    def save(self) -> bool:
        """Check both fields, trust the key; on a problem say it next to its field."""
        text = self.code.text().strip()
        if not text:
            self.show_error("give the partner agency's code, such as MPD", "code")
            return False
        agency = K.KINDS["agency"]
        try:
            code = normalise_field(agency, agency.field_map["code"], text)
        except ValidationError as e:
            self.show_error(e.message.removeprefix("agency code: "), "code")
            return False
        if not self.fingerprint.text().strip():
            self.show_error(f"type the fingerprint {code}'s liaison reads out to you",
                            "fingerprint")
            return False
        try:
            fp = trust.parse_fingerprint(self.fingerprint.text())
        except trust.TrustError as e:
            self.show_error(str(e), "fingerprint")
            return False
        try:
            fp = identity.confirm(self.store, code, fingerprint=fp)
        except identity.KeyChanged:
            held = next((p["fingerprint"] for p in identity.describe(self.store)["partners"]
                         if p["agency"] == code), None)
            self.show_error(f"{code} already has another confirmed key"
                            + (f" ({held})" if held else "") + f". If {code} really replaced "
                            "its key, select it in the list of partner keys and click Forget "
                            "first.", "fingerprint")
            return False
        except ValidationError as e:
            self.show_error(e.message, "code")
            return False
        except (FieldcoordError, trust.TrustError) as e:
            self.show_error(str(e), "fingerprint")
            return False
        self.trusted = (code, fp)
        self.accept()
        return True


# ------------------------------------------------------------------------------ Keys section
class KeysBox(QGroupBox):
    """The Sync page's Keys section: this agency's and this device's fingerprints, where the
    private keys are, and the partner keys trusted here (with Trust… and Forget)."""

    changed = Signal(str)          # a partner key was trusted or forgotten: what happened

    def __init__(self, store_of, parent: QWidget | None = None):
        super().__init__("Keys", parent)
        self._store_of = store_of          # the page's Store, opened when first needed
        self.partners: list[dict] = []
        self.home = ""
        outer = QVBoxLayout(self)
        mine = QGridLayout()
        mine.setHorizontalSpacing(14)
        mine.setVerticalSpacing(6)
        self.agency_title, self.agency_fp, self.agency_state = QLabel(), QLabel(), _wrapped("")
        self.device_title, self.device_fp, self.device_state = QLabel(), QLabel(), _wrapped("")
        self.keystore_label = _wrapped("")
        for r, (title, fp, state) in enumerate(((self.agency_title, self.agency_fp,
                                                 self.agency_state),
                                                (self.device_title, self.device_fp,
                                                 self.device_state))):
            fp.setFont(_mono(11, bold=True))
            fp.setTextInteractionFlags(Qt.TextSelectableByMouse)
            mine.addWidget(title, r, 0)
            mine.addWidget(fp, r, 1)
            mine.addWidget(state, r, 2)
        self.agency_fp.setAccessibleName("This agency's key fingerprint")
        self.device_fp.setAccessibleName("This device's key fingerprint")
        mine.addWidget(QLabel("Private keys"), 2, 0)
        self.keystore_label.setAccessibleName("Where private keys are kept")
        mine.addWidget(self.keystore_label, 2, 1, 1, 2)
        mine.setColumnStretch(2, 1)
        outer.addLayout(mine)

        right = outer
        right.addSpacing(4)
        right.addWidget(QLabel("<b>Partner keys trusted here</b>"))
        self.table = QTableWidget(0, 3)
        self.table.setAccessibleName("Partner keys")
        self.table.setHorizontalHeaderLabels(["Agency", "Fingerprint", "Trusted because"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        right.addWidget(self.table)
        self.empty_label = _wrapped(
            "No partner keys yet. You are asked to confirm a partner's key the first time "
            "you sync with its hub or import its bundle; or trust it here beforehand.")
        self.empty_label.setForegroundRole(QPalette.PlaceholderText)
        right.addWidget(self.empty_label)
        buttons = QHBoxLayout()
        self.trust_button = QPushButton("Trust a partner's key…")
        self.trust_button.clicked.connect(self.trust_partner)
        self.forget_button = QPushButton("Forget")
        self.forget_button.setToolTip("Stop trusting the selected partner's key (after its "
                                      "agency replaced it)")
        self.forget_button.clicked.connect(self.forget_partner)
        buttons.addWidget(self.trust_button)
        buttons.addWidget(self.forget_button)
        buttons.addStretch(1)
        right.addLayout(buttons)
        self.trust_dialog: TrustKeyDialog | None = None

    def refresh(self) -> None:
        """Re-read the keys (identity.describe)."""
        d = identity.describe(self._store_of())
        self.home = home = d["agency"]
        self.agency_title.setText(f"Agency {home}")
        self.agency_fp.setText(d["agency_fingerprint"] or "—")
        self.agency_state.setText(
            "not known yet: sync with your agency's hub to be enrolled"
            if not d["agency_fingerprint"] else
            "held on this device · read it out to partners" if d["key_holder"] else
            f"held by {home}'s hub · read it out to partners")
        self.device_title.setText(f"This device ({d['device']})")
        self.device_fp.setText(d["device_fingerprint"] or "—")
        self.device_state.setText(
            f"✓ certified by {home}" if d["enrolled"] else
            f"not certified yet: sync with {home}'s hub (with this device's token); until "
            "then partners do not accept what it writes")
        self.keystore_label.setText(KEYSTORE_TEXT.get(d["keystore"] or "",
                                                      d["keystore"] or "unknown"))
        self.keystore_label.setStyleSheet("color: #9a6700;" if d["warning"] else "")
        self.keystore_label.setToolTip(d["warning"] or "")
        self.partners = d["partners"]
        self.table.setRowCount(len(self.partners))
        for r, p in enumerate(self.partners):
            how = TRUST_TEXT.get(p["trust"], p["trust"]).format(home=home)
            if not p["seen"]:
                how += " · key not received yet"
            for c, text in enumerate((p["agency"], p["fingerprint"], how)):
                item = QTableWidgetItem(text)
                if c == 1:
                    item.setFont(_mono())
                self.table.setItem(r, c, item)
        self.table.setVisible(bool(self.partners))
        self.empty_label.setVisible(not self.partners)
        # as tall as its rows (up to six; it scrolls beyond)
        self.table.resizeRowsToContents()
        rows = sum(self.table.rowHeight(r) for r in range(min(len(self.partners), 6)))
        self.table.setFixedHeight(rows + self.table.horizontalHeader().sizeHint().height()
                                  + 2 * self.table.frameWidth() + 2)
        self._update_buttons()

    def selected(self) -> dict | None:
        rows = self.table.selectionModel().selectedRows()
        return self.partners[rows[0].row()] if rows else None

    def _update_buttons(self) -> None:
        self.forget_button.setEnabled(self.selected() is not None)

    def trust_partner(self) -> None:
        """Open "Trust a partner's key" (window-modal; the section refreshes when it closes)."""
        dialog = TrustKeyDialog(self._store_of(), self)
        self.trust_dialog = dialog

        def done(result: int) -> None:
            if result and dialog.trusted:
                code, fp = dialog.trusted
                self.refresh()
                self.changed.emit(f"Trusting {code}'s key {fp}")
        dialog.finished.connect(done)
        dialog.open()

    def forget_partner(self) -> bool:
        """Stop trusting the selected partner's key, after a question."""
        p = self.selected()
        if p is None:
            return False
        code = p["agency"]
        more = (f" {self.home}'s hub vouches for this key: forget it on the hub too, or it comes "
                "back at the next sync with the hub." if p["trust"] == "endorsed" else "")
        answer = QMessageBox.question(
            self, "Forget a partner's key",
            f"Stop trusting {code}'s key ({p['fingerprint']})? Nothing new from {code} is "
            f"accepted until its key is confirmed again; you are asked to confirm it at the "
            f"next sync with {code} or import of its bundle. Do this only after {code}'s "
            f"administrator told you they replaced their key.{more}")
        if answer != QMessageBox.Yes:
            return False
        store = self._store_of()
        with store.transaction():
            store.conn.execute("DELETE FROM agency_key WHERE code = ? AND trust != 'home'",
                               (code,))
        self.refresh()
        self.changed.emit(f"Forgot {code}'s key")
        return True
