# SPDX-License-Identifier: GPL-3.0-or-later
"""A keyring that keeps tokens unencrypted in a file is recognised and not used silently: the
token stays out of it unless the user accepts that, and the CLI and the app say so."""
import io
import sys

import keyring
import pytest
from keyring.backend import KeyringBackend

from fieldcoord.store import Store
from fieldcoord.sync import credentials
from fieldcoord.sync import peers as ops


class DictKeyring(KeyringBackend):
    """Secrets in a dictionary, through the keyring API."""
    priority = 1

    def __init__(self):
        super().__init__()
        self.secrets = {}

    def set_password(self, service, username, password):
        self.secrets[(service, username)] = password

    def get_password(self, service, username):
        return self.secrets.get((service, username))

    def delete_password(self, service, username):
        self.secrets.pop((service, username), None)

    def tokens(self) -> list:
        return [v for (service, _), v in self.secrets.items() if service == credentials.SERVICE]


class PlaintextKeyring(DictKeyring):
    """Stands for keyrings.alt's PlaintextKeyring: what it is given is kept as is."""


class AltKeyring(DictKeyring):
    """A backend of keyrings.alt, whatever its name."""


class EncryptedKeyring(DictKeyring):
    """Like keyrings.alt's EncryptedKeyring: a file, but encrypted."""


AltKeyring.__module__ = EncryptedKeyring.__module__ = "keyrings.alt.file"


@pytest.fixture
def plaintext():
    before = keyring.get_keyring()
    backend = PlaintextKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(before)


@pytest.fixture
def laptop(tmp_path):
    db = tmp_path / "laptop.db"
    Store.create(db, "Clark County Fire", "CCF", device="laptop-1").close()
    return db


def test_plaintext_backends_are_recognised():
    assert credentials._plaintext(PlaintextKeyring()).endswith("PlaintextKeyring")
    assert credentials._plaintext(AltKeyring()) == "keyrings.alt.file.AltKeyring"
    assert credentials._plaintext(EncryptedKeyring()) is None
    assert credentials._plaintext(DictKeyring()) is None


def test_a_chain_of_keyrings_is_judged_by_the_one_that_stores(monkeypatch):
    from keyring.backends import chainer
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [PlaintextKeyring(), DictKeyring()])
    assert credentials._plaintext(chainer.ChainerBackend()).endswith("PlaintextKeyring")
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [DictKeyring(), PlaintextKeyring()])
    assert credentials._plaintext(chainer.ChainerBackend()) is None


def test_the_token_is_not_stored_there_unless_allowed(plaintext):
    with pytest.raises(credentials.PlaintextKeyring, match="unencrypted") as e:
        credentials.store_token("site", "hub", "secret-token")
    assert "FIELDCOORD_TOKEN_HUB" in str(e.value)
    assert plaintext.tokens() == []
    credentials.store_token("site", "hub", "secret-token", allow_plaintext=True)
    assert plaintext.tokens() == ["secret-token"]


def test_keyring_problem_says_so_and_save_peer_keeps_the_peer_without_the_token(plaintext,
                                                                               laptop):
    problem = ops.keyring_problem("mpd-hub")
    assert "unencrypted in a file" in problem and "FIELDCOORD_TOKEN_MPD_HUB" in problem
    assert ops.keyring_is_plaintext()
    assert ops.keyring_problem("hub", allow_plaintext=True) is None
    with Store.open(laptop) as s:
        ops.save_peer(s, "hub", "http://127.0.0.1:9", "secret-token", adding=True)
        assert s.conn.execute("SELECT name FROM peer").fetchall() == [("hub",)]
        assert plaintext.tokens() == []
        ops.save_peer(s, "hub", "http://127.0.0.1:9", "secret-token", adding=False,
                      allow_plaintext=True)
        assert plaintext.tokens() == ["secret-token"]


def cli(db, *args, stdin="", monkeypatch=None):
    from fieldcoord.cli import main
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    code = main(["--db", str(db), *args])
    monkeypatch.undo()
    return code, out.getvalue(), err.getvalue()


def test_peer_add_warns_and_keeps_the_token_out_unless_told(plaintext, laptop, monkeypatch):
    code, out, err = cli(laptop, "peer", "add", "hub", "http://127.0.0.1:9", "--token-stdin",
                         stdin="secret-token\n", monkeypatch=monkeypatch)
    assert code == 0, err
    assert err.count("\n") == 1 and err.startswith("warning: token not stored")
    assert "--allow-plaintext-keyring" in err and "FIELDCOORD_TOKEN_HUB" in err
    assert "token not stored" in out and plaintext.tokens() == []
    with Store.open(laptop) as s:
        assert s.conn.execute("SELECT name FROM peer").fetchall() == [("hub",)]
    code, out, err = cli(laptop, "peer", "add", "hub", "http://127.0.0.1:9", "--token-stdin",
                         "--allow-plaintext-keyring", stdin="secret-token\n",
                         monkeypatch=monkeypatch)
    assert code == 0, err
    assert err.count("\n") == 1 and "stored unencrypted" in err
    assert plaintext.tokens() == ["secret-token"]
