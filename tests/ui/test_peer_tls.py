# SPDX-License-Identifier: GPL-3.0-or-later
"""The add-peer dialog and TLS: a self-signed hub is checked in the background and its
certificate offered for pinning; a CA file or a fingerprint can be given; a keyring that keeps
tokens unencrypted is named and used only when the user says so."""
import threading
import time

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("cryptography.x509")

import certs  # noqa: E402
from PySide6.QtWidgets import QDialog  # noqa: E402

from fieldcoord.hub import tokens  # noqa: E402
from fieldcoord.hub.server import make_server  # noqa: E402
from fieldcoord.store import Store  # noqa: E402
from fieldcoord.sync import peers as ops  # noqa: E402
from fieldcoord.sync import runs  # noqa: E402
from fieldcoord.sync.tls import show_fingerprint  # noqa: E402


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory):
    """(certificate file, key file, SHA-256 fingerprint) for 127.0.0.1."""
    return certs.self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_hub(tmp_path, self_signed):
    """A hub of CCF with the self-signed certificate: (url, token)."""
    db = tmp_path / "hub.db"
    Store.create(db, "Clark County Fire", "CCF", device="hub").close()
    server, sock = make_server(db, "127.0.0.1", 0, self_signed[0], self_signed[1])
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    with Store.open(db) as s, s.transaction():
        token = tokens.issue(s.conn, "CCF", "laptop-1")[1]
    yield f"https://127.0.0.1:{sock.getsockname()[1]}", token
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def dialog(qtbot, tmp_path):
    """Opens the peer dialog on a laptop: (database, store, dialog); `peer` edits that peer."""
    from fieldcoord.ui.sync_dialogs import PeerDialog
    db = tmp_path / "laptop.db"
    Store.create(db, "Clark County Fire", "CCF", device="laptop-1").close()
    stores = []

    def open_dialog(peer=None):
        store = Store.open(db)
        stores.append(store)
        d = PeerDialog(store, peer)
        qtbot.addWidget(d)
        d.show()
        return db, store, d

    yield open_dialog
    for store in stores:
        store.close()


def test_a_self_signed_hub_is_checked_in_the_background_and_offered_for_pinning(
        qtbot, dialog, tls_hub, self_signed, memory_keyring):
    url, token = tls_hub
    db, store, d = dialog()
    d.name.setText("hub")
    d.url.setText(url)
    d.token.setText(token)
    started = time.monotonic()
    assert d.save() is True
    assert time.monotonic() - started < 2, "the check does not hold up the window"
    assert d._check.is_running() or d.cert_panel.isVisible()
    qtbot.waitUntil(d.cert_panel.isVisible, timeout=15000)
    text = d.cert_text.text()
    assert show_fingerprint(self_signed[2]) in text and "CN=hub.ccf.example" in text
    assert "does not trust" in text and "Traceback" not in text
    assert ops.peer_trust(store, "hub") == (None, None), "saved, not pinned yet"
    d.pin_button.click()
    assert d.result() == QDialog.Accepted and not d.isVisible()
    assert ops.peer_trust(store, "hub") == (None, self_signed[2])
    assert memory_keyring.tokens() == [token]
    (outcome,) = runs.sync_peers(db)
    assert outcome.error is None


def test_a_fingerprint_or_a_ca_file_is_checked_and_kept(qtbot, dialog, tls_hub, self_signed,
                                                        memory_keyring, tmp_path):
    url, token = tls_hub
    _, store, d = dialog()
    d.name.setText("hub")
    d.url.setText(url)
    d.token.setText(token)
    d.trust.setCurrentIndex(d.trust.findData("ca"))
    assert not d.pin.isVisible() and d.ca_file.isVisible()
    (tmp_path / "notes.txt").write_text("not a certificate")
    d.ca_file.setText(str(tmp_path / "notes.txt"))
    assert d.save() is False and "no certificate in PEM form" in d.errors["ca"].text()
    d.trust.setCurrentIndex(d.trust.findData("pin"))
    assert d.pin.isVisible() and not d.ca_file.isVisible()
    d.pin.setText("12:34")
    assert d.save() is False and d.errors["pin"].isVisible()
    assert store.conn.execute("SELECT count(*) FROM peer").fetchone()[0] == 0
    d.pin.setText(show_fingerprint(self_signed[2]).lower())
    assert d.save() is True
    qtbot.waitUntil(lambda: not d.isVisible(), timeout=15000)
    assert d.result() == QDialog.Accepted and not d.cert_panel.isVisible()
    assert ops.peer_trust(store, "hub") == (None, self_signed[2])
    # editing the peer shows its pin; a wrong one is refused as a changed certificate
    (info,) = ops.list_peers(store)
    _, _, e = dialog(info)
    assert e.trust.currentData() == "pin" and e.pin.text() == show_fingerprint(self_signed[2])
    e.pin.setText("ab" * 32)
    assert e.save() is True
    qtbot.waitUntil(e.cert_panel.isVisible, timeout=15000)
    assert "different certificate" in e.cert_text.text()
    e.reject()
    assert e.result() == QDialog.Accepted, "closing keeps the saved peer"


def test_a_plaintext_keyring_is_named_and_used_only_when_asked(qtbot, dialog,
                                                              plaintext_keyring):
    _, store, d = dialog()
    assert d.keyring_note.isVisible() and "unencrypted in a file" in d.keyring_note.text()
    assert "PlaintextKeyring" in d.keyring_note.text()
    assert d.allow_plaintext.isVisible() and d.token.isEnabled()
    d.name.setText("hub")
    d.url.setText("http://127.0.0.1:9")
    d.token.setText("secret-token")
    assert d.save() is False and d.errors["token"].isVisible(), "not stored unasked"
    assert plaintext_keyring.tokens() == []
    d.token.setText("")
    assert d.save() is True, "kept without its token"
    assert plaintext_keyring.tokens() == []
    _, _, d = dialog(ops.list_peers(store)[0])
    d.allow_plaintext.setChecked(True)
    assert d.token.isEnabled() and d.keyring_note.isVisible()
    d.token.setText("secret-token")
    assert d.save() is True
    assert plaintext_keyring.tokens() == ["secret-token"]
