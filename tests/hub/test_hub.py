# SPDX-License-Identifier: GPL-3.0-or-later
"""The hub over real HTTP: device tokens, sync of laptops and partner hubs, refusals."""
import json

import pytest
import requests

from fieldcoord.core.errors import ValidationError
from fieldcoord.hub import tokens
from fieldcoord.hub.server import check_tls, start_in_thread
from fieldcoord.store import Store, identity
from fieldcoord.store.exchange import outgoing, sites_of, vector
from fieldcoord.sync import protocol
from fieldcoord.sync.engine import sync
from fieldcoord.sync.http import HttpPeer, PeerError


@pytest.fixture
def hub(tmp_path):
    path = tmp_path / "hub.db"
    Store.create(path, "Clark County Fire", "CCF", device="hub").close()
    url, stop = start_in_thread(path)
    yield path, url
    stop()


def token_for(hub_path, agency="CCF", device="laptop"):
    with Store.open(hub_path) as s:
        with s.transaction():
            _, token = tokens.issue(s.conn, agency, device)
    return token


def test_two_laptops_converge_through_the_hub(hub, tmp_path):
    path, url = hub
    a = Store.create(tmp_path / "a.db", "Clark County Fire", "CCF", device="a")
    b = Store.create(tmp_path / "b.db", "Clark County Fire", "CCF", device="b")
    pa, pb = HttpPeer(url, token_for(path, device="a")), HttpPeer(url, token_for(path, device="b"))
    cid = a.add("contact", {"name": "Dana Whitfield", "agency": "CCF", "phone": "360 555 0100"})
    sync(a, pa)
    sync(b, pb)
    assert b.get(cid).title == "Dana Whitfield"
    a.edit(cid, {"title": "Captain"})
    b.edit(cid, {"title": "Chief"})
    for _ in range(2):
        sync(a, pa)
        sync(b, pb)
    assert a.dump() == b.dump()
    with Store.open(path) as h:
        assert h.dump() == a.dump()
    assert len(json.loads(a.dump())["conflicts"]) == 1
    # a no-op sync is one round trip and a few hundred bytes
    pa.round_trips = pa.bytes_sent = pa.bytes_received = 0
    result = sync(a, pa)
    assert not result.changed and pa.round_trips == 1
    assert pa.bytes_sent + pa.bytes_received < 8192


@pytest.mark.parametrize("header", [None, "Bearer nope", "Bearer fc1_" + "x" * 43, "Basic abc"])
def test_requests_without_a_valid_token_get_401(hub, header):
    path, url = hub
    before = Store.open(path).dump()
    body = protocol.pack({"batch": {"sites": [], "entries": []}, "site": "x"})
    headers = {"Authorization": header} if header else {}
    for route in ("/v1/hello", "/v1/pull", "/v1/push"):
        r = requests.post(url + route, data=body, headers=headers, timeout=10)
        assert r.status_code == 401 and "token" in r.json()["error"]
    assert Store.open(path).dump() == before


def test_a_revoked_token_is_refused(hub, tmp_path):
    path, url = hub
    token = token_for(path)
    laptop = Store.create(tmp_path / "l.db", "Clark County Fire", "CCF")
    sync(laptop, HttpPeer(url, token))
    with Store.open(path) as s:
        with s.transaction():
            tid = [t.id for t in tokens.listing(s.conn)][0]
            tokens.revoke(s.conn, tid)
        stored = s.conn.execute("SELECT hash FROM device_token").fetchone()[0]
    assert token not in stored and len(stored) == 64
    with pytest.raises(PeerError) as err:
        sync(laptop, HttpPeer(url, token))
    assert err.value.status == 401


def test_a_malformed_batch_is_refused_whole(hub):
    path, url = hub
    before = Store.open(path).dump()
    auth = {"Authorization": f"Bearer {token_for(path)}"}
    empty = {part: [] for part in ("origin", "audience", "seq", "tx", "table", "hlc", "site",
                                   "status", "field", "value", "version")}
    bad = protocol.pack({"site": "x", "batch": {"sites": [["not-a-uuid", "CCF", "x"]], "n": 0,
                                                "record": "", **empty}})
    r = requests.post(url + "/v1/push", data=bad, headers=auth, timeout=10)
    assert r.status_code == 400 and "site" in r.json()["error"]
    # a good entry and a bad one: neither is applied
    laptop = Store.create(path.parent / "bad.db", "Clark County Fire", "CCF")
    laptop.add("contact", {"name": "Good Entry", "agency": "CCF"})
    laptop.add("contact", {"name": "Bad Entry", "agency": "CCF"})
    laptop.sign_heads()   # the newest entries are signed when sent
    entries = list(outgoing(laptop.conn, {k: 0 for k in vector(laptop.conn)}))[0]
    batch = protocol.encode_batch(entries, sites_of(laptop.conn, entries))
    batch["table"][-1] = "no such table!"
    bad = protocol.pack({"site": laptop.site_uuid, "batch": batch})
    r = requests.post(url + "/v1/push", data=bad, headers=auth, timeout=10)
    assert r.status_code == 400 and "malformed" in r.json()["error"]
    r = requests.post(url + "/v1/push", data=b"garbage", headers=auth, timeout=10)
    assert r.status_code == 400 and "not a fieldcoord message" in r.json()["error"]
    assert Store.open(path).dump() == before


def test_a_partner_hub_receives_only_what_it_may_see(hub, tmp_path):
    path, url = hub
    with Store.open(path) as h:
        h.add("agency", {"name": "Metro Police Department", "code": "MPD"})
        h.add("contact", {"name": "Informant Line", "agency": "CCF", "scope": "private"})
        h.add("contact", {"name": "Duty Officer", "agency": "CCF", "scope": "MPD"})
    mpd = Store.create(tmp_path / "mpd.db", "Metro Police Department", "MPD", device="mpd-hub")
    peer = HttpPeer(url, token_for(path, agency="MPD", device="mpd-hub"))
    with Store.open(path) as h:
        peer.key_fingerprint = identity.describe(h)["agency_fingerprint"]
    sync(mpd, peer)
    names = [c["name"] for c in json.loads(mpd.dump())["contact"]]
    assert names == ["Duty Officer"] and "Informant" not in mpd.dump()


def test_plain_http_only_on_loopback(tmp_path):
    check_tls("127.0.0.1", None, None, False)
    check_tls("::1", None, None, False)
    with pytest.raises(ValidationError, match="refusing plain HTTP"):
        check_tls("0.0.0.0", None, None, False)
    check_tls("0.0.0.0", None, None, True)
    with pytest.raises(ValidationError, match="both --cert and --key"):
        check_tls("0.0.0.0", tmp_path / "c.pem", None, False)


def test_a_hub_restored_from_a_backup_gets_back_what_it_lost(tmp_path):
    from fieldcoord.hub.server import restore
    path = tmp_path / "hub.db"
    Store.create(path, "Clark County Fire", "CCF", device="hub").close()
    backup = tmp_path / "backup.db"
    restore(path, backup)                     # a backup taken before anything happened
    laptop = Store.create(tmp_path / "l.db", "Clark County Fire", "CCF")
    token = token_for(path)
    url, stop = start_in_thread(path)
    try:
        peer = HttpPeer(url, token)
        laptop.add("contact", {"name": "Dana", "agency": "CCF"})
        first = sync(laptop, peer)
        epoch = first.peer.epoch
    finally:
        stop()
    restore(backup, path)                     # the hub's disk died; the old backup goes back
    with Store.open(path) as h:
        assert "Dana" not in h.dump()
    token = token_for(path, device="laptop-again")      # the backup predates the token
    url, stop = start_in_thread(path)
    try:
        result = sync(laptop, HttpPeer(url, token))
    finally:
        stop()
    assert result.peer.epoch != epoch and result.sent.applied >= 2
    with Store.open(path) as h:
        assert "Dana" in h.dump()
