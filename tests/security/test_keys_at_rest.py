# SPDX-License-Identifier: GPL-3.0-or-later
"""Private keys at rest, databases from before keys existed, and peers of the old protocol."""
import json

import pytest
import requests

from fieldcoord.hub import tokens
from fieldcoord.hub.server import start_in_thread
from fieldcoord.store import Store, identity, keys, trust
from fieldcoord.store.db import connect
from fieldcoord.store.migrations import migrate
from fieldcoord.sync import protocol
from fieldcoord.sync.engine import StorePeer, sync


@pytest.fixture
def key_keyring(memory_keyring, monkeypatch):
    """A keyring that encrypts, and nothing that chooses another place for private keys."""
    monkeypatch.delenv("FIELDCOORD_KEYSTORE", raising=False)
    monkeypatch.delenv(keys.PASSPHRASE_ENV, raising=False)
    keys._cache.clear()
    yield memory_keyring
    keys._cache.clear()


def _meta_keys(path):
    conn = connect(path)
    try:
        return [k for (k,) in conn.execute("SELECT key FROM meta WHERE key LIKE 'key:%'")]
    finally:
        conn.close()


def test_with_a_keyring_the_private_keys_are_only_there(tmp_path, key_keyring):
    s = Store.create(tmp_path / "a.db", "Clark County Fire", "CCF")
    assert s.keystore == "keyring" and s.key_warning() is None
    assert {u.split("/")[1] for (_, u) in key_keyring.secrets} == {"device", "agency", "box"}
    s.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
    s.close()
    assert _meta_keys(tmp_path / "a.db") == []
    raw = (tmp_path / "a.db").read_bytes()
    for secret in key_keyring.secrets.values():
        assert secret.encode() not in raw


def test_without_a_keyring_an_encrypted_file_or_a_warning(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDCOORD_KEYSTORE", "file")
    monkeypatch.setenv(keys.PASSPHRASE_ENV, "correct horse battery staple")
    keys._cache.clear()
    path = tmp_path / "hub.db"
    s = Store.create(path, "Clark County Fire", "CCF")
    seed = s.device_seed()
    s.close()
    assert _meta_keys(path) == []
    stored = (tmp_path / "hub.db.keys").read_text()
    assert seed.hex() not in stored and (tmp_path / "hub.db.keys").stat().st_mode & 0o077 == 0
    keys._cache.clear()
    monkeypatch.setenv(keys.PASSPHRASE_ENV, "wrong")
    # the work goes on offline; what needs the key (signing what is sent) says why it cannot
    with Store.open(path) as again:
        again.add("contact", {"name": "X", "agency": "CCF"})
        with pytest.raises(keys.KeysUnavailable, match="does not open"):
            again.sign_heads()
    keys._cache.clear()
    monkeypatch.delenv(keys.PASSPHRASE_ENV)
    with Store.open(path) as again:
        with pytest.raises(keys.KeysUnavailable, match=keys.PASSPHRASE_ENV):
            again.sign_heads()
        assert again.dump().count('"X"') == 1
    keys._cache.clear()
    monkeypatch.setenv(keys.PASSPHRASE_ENV, "correct horse battery staple")
    with Store.open(path) as again:
        again.add("contact", {"name": "Sam Ortiz", "agency": "CCF"})
    # no keyring and no passphrase: in the database, and said so
    monkeypatch.setenv("FIELDCOORD_KEYSTORE", "database")
    plain = Store.create(tmp_path / "plain.db", "Clark County Fire", "CCF")
    assert "unencrypted" in plain.key_warning()
    plain.close()


def _v4_database(path):
    """A database as fieldcoord 0.1 left it: its own changes and a partner laptop's."""
    conn = connect(path)
    migrate(conn, stop_before="0005_trust")
    site, other = "5b0c2a54-1d1e-4c55-9a52-2f6d7c2f6f10", "6c1d3b65-2e2f-4d66-8b63-3f7e8d3f7f21"
    conn.executemany("INSERT INTO meta VALUES (?, ?)", {
        "home": "CCF", "site": site, "epoch": "e0", "device": "old-hub", "region": "US"}.items())
    conn.execute("INSERT INTO site VALUES (1, ?, 'CCF', 'old-hub')", (site,))
    conn.execute("INSERT INTO site VALUES (2, ?, 'CCF', 'old-laptop')", (other,))
    conn.execute("INSERT INTO clock VALUES (1, ?)", (1 << 40,))
    conn.execute("INSERT INTO stream (id, origin, audience, seq) VALUES (1, 1, 'all', 1), "
                 "(2, 2, 'all', 1)")
    from fieldcoord.core.ids import agency_id
    aid = agency_id("CCF")
    ver = json.dumps({"": [1 << 40, 1]})
    conn.execute("INSERT INTO agency (id, owner, scope, name, code, created_at, updated_at, _ver) "
                 "VALUES (?, 'CCF', 'all', 'Clark County Fire', 'CCF', 't', 't', ?)", (aid, ver))
    cells = json.dumps({"owner": ["CCF"], "scope": ["all"], "name": ["Clark County Fire"],
                        "code": ["CCF"], "_cl": [1]})
    conn.execute("INSERT INTO change VALUES (1, 1, ?, 'agency', ?, ?, 1, ?, 0)",
                 (1 << 40, aid, 1 << 40, cells))
    cid = "0190b8a4-0000-7000-8000-000000000001"
    conn.execute("INSERT INTO contact (id, owner, scope, name, agency, created_at, updated_at, "
                 "_ver) VALUES (?, 'CCF', 'all', 'Renée Dubois', ?, 't', 't', ?)",
                 (cid, aid, json.dumps({"": [(1 << 40) + 1, 2]})))
    cells = json.dumps({"owner": ["CCF"], "scope": ["all"], "name": ["Renée Dubois"],
                        "agency": [aid], "_cl": [1]})
    conn.execute("INSERT INTO change VALUES (2, 1, ?, 'contact', ?, ?, 2, ?, 0)",
                 ((1 << 40) + 1, cid, (1 << 40) + 1, cells))
    conn.close()
    return site, other, cid


def test_a_database_from_before_keys_gets_them_when_opened(tmp_path):
    path = tmp_path / "old.db"
    site, other, cid = _v4_database(path)
    with Store.open(path) as s:
        d = identity.describe(s)
        assert d["key_holder"] and d["enrolled"] and d["agency_fingerprint"]
        # its own stream is signed as it stands; a partner's claims are no longer taken
        sig, h = s.conn.execute("SELECT sig, hash FROM head WHERE stream = 1 AND seq = 1"
                                ).fetchone()
        assert trust.verify_head(trust.public(s.device_seed()), site, "all", 1, bytes(h),
                                 bytes(sig))
        assert s.conn.execute("SELECT agency, verified FROM site WHERE uuid = ?",
                              (other,)).fetchone() == (None, 0)
        # a new laptop of the agency receives what the upgraded replica signed
        laptop = Store.create(tmp_path / "new.db", "Clark County Fire", "CCF", founder=False)
        result = sync(laptop, StorePeer(s))
        assert result.received.applied >= 1
        assert laptop.agency_id("CCF")
        # the old partner's change waits until its writer, upgraded, signs its stream
        assert "Renée" not in laptop.dump()
        laptop.close()
    with Store.open(path) as again:         # opened again: nothing redone
        assert again.conn.execute("SELECT count(*) FROM head WHERE stream = 1").fetchone()[0] == 1


def test_a_peer_of_the_old_protocol_is_told_what_to_upgrade_to(tmp_path):
    path = tmp_path / "hub.db"
    Store.create(path, "Clark County Fire", "CCF").close()
    with Store.open(path) as s:
        with s.transaction():
            _, token = tokens.issue(s.conn, "CCF", "old-laptop")
    url, stop = start_in_thread(path)
    try:
        import zlib
        old = zlib.compress(json.dumps({"protocol": 2, "schema": "0004_ordering", "site":
                                        "5b0c2a54-1d1e-4c55-9a52-2f6d7c2f6f10", "agency": "CCF",
                                        "vector": []}).encode())
        r = requests.post(url + "/v1/hello", data=old, timeout=10,
                          headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 400
        assert "0.2.0" in r.json()["error"] and "upgrade" in r.json()["error"]
    finally:
        stop()
    assert protocol.RELEASE[protocol.PROTOCOL] == "0.2.0"


def test_a_service_gives_the_passphrase_in_a_file_or_a_systemd_credential(tmp_path,
                                                                          monkeypatch):
    """A hub run by systemd gets its passphrase as a credential file, never in its
    environment (which other processes of the same user can read)."""
    monkeypatch.setenv("FIELDCOORD_KEYSTORE", "file")
    monkeypatch.delenv(keys.PASSPHRASE_ENV, raising=False)
    secret = tmp_path / "passphrase"
    secret.write_text("correct horse battery staple\n")
    monkeypatch.setenv("FIELDCOORD_KEY_PASSPHRASE_FILE", str(secret))
    keys._cache.clear()
    path = tmp_path / "hub.db"
    with Store.create(path, "Clark County Fire", "CCF") as s:
        seed = s.device_seed()
    keys._cache.clear()
    keys._boxes.clear()
    monkeypatch.delenv("FIELDCOORD_KEY_PASSPHRASE_FILE")
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "fieldcoord-passphrase").write_text("correct horse battery staple")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    with Store.open(path) as s:
        assert s.device_seed() == seed
    keys._cache.clear()
    monkeypatch.setenv("FIELDCOORD_KEY_PASSPHRASE_FILE", str(tmp_path / "missing"))
    with Store.open(path) as s:
        with pytest.raises(keys.KeysUnavailable, match="cannot be read"):
            s.sign_heads()
    keys._cache.clear()
    monkeypatch.delenv("FIELDCOORD_KEY_PASSPHRASE_FILE")
    (creds / "fieldcoord-passphrase").write_text("wrong")
    with Store.open(path) as s:
        with pytest.raises(keys.KeysUnavailable, match="does not open"):
            s.sign_heads()
