# SPDX-License-Identifier: GPL-3.0-or-later
"""A keyring that keeps tokens unencrypted in a file is recognised and not used silently: the
token stays out of it unless the user accepts that, and the CLI and the app say so."""
import io
import sys

import pytest
from memkeyring import MemoryKeyring, PlaintextKeyring

from fieldcoord.core.errors import ValidationError
from fieldcoord.store import Store
from fieldcoord.sync import credentials
from fieldcoord.sync import peers as ops


class AltKeyring(MemoryKeyring):
    """A backend of keyrings.alt, whatever its name."""


class EncryptedKeyring(MemoryKeyring):
    """Like keyrings.alt's EncryptedKeyring: a file, but encrypted."""


AltKeyring.__module__ = EncryptedKeyring.__module__ = "keyrings.alt.file"


@pytest.fixture
def laptop(tmp_path):
    db = tmp_path / "laptop.db"
    Store.create(db, "Clark County Fire", "CCF", device="laptop-1").close()
    return db


def test_plaintext_backends_are_recognised():
    assert credentials._plaintext(PlaintextKeyring()).endswith("PlaintextKeyring")
    assert credentials._plaintext(AltKeyring()) == "keyrings.alt.file.AltKeyring"
    assert credentials._plaintext(EncryptedKeyring()) is None
    assert credentials._plaintext(MemoryKeyring()) is None


def test_a_chain_of_keyrings_is_judged_by_the_one_that_stores(monkeypatch):
    from keyring.backends import chainer
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [PlaintextKeyring(), MemoryKeyring()])
    assert credentials._plaintext(chainer.ChainerBackend()).endswith("PlaintextKeyring")
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [MemoryKeyring(), PlaintextKeyring()])
    assert credentials._plaintext(chainer.ChainerBackend()) is None


def test_the_token_is_not_stored_there_unless_allowed(plaintext_keyring):
    with pytest.raises(credentials.PlaintextKeyring, match="unencrypted") as e:
        credentials.store_token("site", "hub", "secret-token")
    assert "FIELDCOORD_TOKEN_HUB" in str(e.value)
    assert plaintext_keyring.tokens() == []
    credentials.store_token("site", "hub", "secret-token", allow_plaintext=True)
    assert plaintext_keyring.tokens() == ["secret-token"]


def test_keyring_problem_says_so_and_save_peer_stores_the_token_only_when_allowed(
        plaintext_keyring, laptop):
    problem = ops.keyring_problem("mpd-hub")
    assert "unencrypted in a file" in problem and "FIELDCOORD_TOKEN_MPD_HUB" in problem
    assert ops.keyring_is_plaintext()
    assert ops.keyring_problem("hub", allow_plaintext=True) is None
    with Store.open(laptop) as s:
        with pytest.raises(ValidationError) as e:
            ops.save_peer(s, "hub", "http://127.0.0.1:9", "secret-token", adding=True)
        assert e.value.field == "token" and "FIELDCOORD_TOKEN_HUB" in e.value.message
        assert s.conn.execute("SELECT name FROM peer").fetchall() == [], "nothing half-saved"
        ops.save_peer(s, "hub", "http://127.0.0.1:9", "", adding=True)
        assert s.conn.execute("SELECT name FROM peer").fetchall() == [("hub",)]
        assert plaintext_keyring.tokens() == []
        ops.save_peer(s, "hub", "http://127.0.0.1:9", "secret-token", adding=False,
                      allow_plaintext=True)
        assert plaintext_keyring.tokens() == ["secret-token"]


def cli(db, *args, stdin="", monkeypatch=None):
    from fieldcoord.cli import main
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    code = main(["--db", str(db), *args])
    monkeypatch.undo()
    return code, out.getvalue(), err.getvalue()


def test_peer_add_warns_and_keeps_the_token_out_unless_told(plaintext_keyring, laptop,
                                                           monkeypatch):
    code, out, err = cli(laptop, "peer", "add", "hub", "http://127.0.0.1:9", "--token-stdin",
                         stdin="secret-token\n", monkeypatch=monkeypatch)
    assert code == 0, err
    assert err.count("\n") == 1 and err.startswith("warning: token not stored")
    assert "--allow-plaintext-keyring" in err and "FIELDCOORD_TOKEN_HUB" in err
    assert "token not stored" in out and plaintext_keyring.tokens() == []
    with Store.open(laptop) as s:
        assert s.conn.execute("SELECT name FROM peer").fetchall() == [("hub",)]
    code, out, err = cli(laptop, "peer", "add", "hub", "http://127.0.0.1:9", "--token-stdin",
                         "--allow-plaintext-keyring", stdin="secret-token\n",
                         monkeypatch=monkeypatch)
    assert code == 0, err
    assert err.count("\n") == 1 and "stored unencrypted" in err
    assert plaintext_keyring.tokens() == ["secret-token"]


def test_without_any_keyring_peer_add_keeps_the_token_in_the_database_only_when_told(
        laptop, monkeypatch):
    import keyring.core
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    keyring.core.init_backend()
    try:
        code, out, err = cli(laptop, "peer", "add", "hub", "http://127.0.0.1:9",
                             "--token-stdin", stdin="secret-token\n", monkeypatch=monkeypatch)
        assert code == 0 and "token not stored" in out and "No keyring" in err
        with Store.open(laptop) as s:
            with pytest.raises(Exception, match="FIELDCOORD_TOKEN_HUB"):
                credentials.load_token(s.site_uuid, "hub", s)
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
        code, out, err = cli(laptop, "peer", "add", "hub", "http://127.0.0.1:9",
                             "--token-stdin", "--allow-plaintext-keyring",
                             stdin="secret-token\n", monkeypatch=monkeypatch)
        assert code == 0 and "token in the database" in out
        assert f"stored unencrypted in {laptop}" in err
        with Store.open(laptop) as s:
            assert credentials.load_token(s.site_uuid, "hub", s) == "secret-token"
    finally:
        monkeypatch.undo()
        keyring.core.init_backend()
