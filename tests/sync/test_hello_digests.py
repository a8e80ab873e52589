# SPDX-License-Identifier: GPL-3.0-or-later
"""Hello carries digests of the vector, not the vector: a laptop in step with its hub syncs in
one round trip of a few hundred bytes however many laptops' streams the hub holds; the answer
holds the streams of the buckets that differ, and what is rebuilt from it is the hub's vector.
A hub that lies about which buckets agree, or a caller sending garbage digests, is refused."""
import random
import uuid

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from serving import add_streams

from fieldcoord.hub import tokens
from fieldcoord.hub.server import start_in_thread
from fieldcoord.store import Store, identity
from fieldcoord.sync import protocol
from fieldcoord.sync.engine import sync
from fieldcoord.sync.http import HttpPeer

SITES = st.sampled_from([str(uuid.UUID(int=i * 7919 + 1, version=4)) for i in range(40)])
AUDIENCES = st.sampled_from(["all", "CCF", "MPD", "CCF,MPD"])
VECTORS = st.dictionaries(st.tuples(SITES, AUDIENCES), st.integers(1, 10**6), max_size=60)


@settings(max_examples=200, deadline=None)
@given(VECTORS, VECTORS)
def test_the_hubs_vector_is_rebuilt_from_digests_and_the_buckets_that_differ(ours, hubs):
    part, differ = protocol.vector_answer(hubs, protocol.vector_digests(ours))
    assert protocol.whole_vector(ours, part, differ) == hubs
    if ours == hubs:
        assert part == {} and differ == []


def test_an_answer_that_contradicts_its_digests_is_refused():
    ours = {(str(uuid.uuid4()), "CCF"): 5}
    key = next(iter(ours))
    with pytest.raises(protocol.ProtocolError, match="says agree"):
        protocol.whole_vector(ours, {key: 9}, [])         # a stream of an agreeing bucket
    with pytest.raises(protocol.ProtocolError, match="bucket numbers"):
        protocol.whole_vector(ours, {}, [protocol.VECTOR_BUCKETS])
    for bad in ("not base64!", "AAAA", 12, "A" * 5000):
        with pytest.raises(protocol.ProtocolError):
            protocol.differing_buckets(bad, ours)


@pytest.fixture
def region(tmp_path):
    """A hub of CCF holding 10,000 laptops' streams, and a laptop in step with it."""
    hub = tmp_path / "hub.db"
    Store.create(hub, "Clark County Fire", "CCF", device="hub").close()
    with Store.open(hub) as h, h.transaction():
        token = tokens.issue(h.conn, "CCF", "laptop-a")[1]
        fingerprint = identity.describe(h)["agency_fingerprint"]
    url, stop = start_in_thread(hub)
    laptop = tmp_path / "laptop.db"
    with Store.create(laptop, "Clark County Fire", "CCF", device="laptop-a") as s:
        s.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
        first = HttpPeer(url, token, "hub")
        first.key_fingerprint = fingerprint
        sync(s, first)
    rng = random.Random(7)
    sites = [(str(uuid.UUID(int=rng.getrandbits(128), version=4)), rng.randrange(1, 5000))
             for _ in range(10_000)]
    add_streams(hub, sites)
    add_streams(laptop, sites)

    def peer():
        p = HttpPeer(url, token, "hub")
        p.key_fingerprint = fingerprint
        return p
    yield hub, laptop, url, token, peer
    stop()


def test_a_laptop_in_step_syncs_in_one_small_round_trip(region):
    hub, laptop, url, token, peer = region
    with Store.open(laptop) as s:
        p = peer()
        result = sync(s, p)
    assert result.received.applied == 0 and result.sent.applied == 0
    assert p.round_trips == 1
    assert p.bytes_sent + p.bytes_received <= 4096, (p.bytes_sent, p.bytes_received)


def test_what_changed_on_the_hub_still_arrives(region, tmp_path):
    hub, laptop, url, token, peer = region
    with Store.open(hub) as h, h.transaction():
        other_token = tokens.issue(h.conn, "CCF", "laptop-b")[1]
    with Store.create(tmp_path / "b.db", "Clark County Fire", "CCF", device="laptop-b") as b:
        b.add("contact", {"name": "Avery Stone", "agency": "CCF"})
        p = HttpPeer(url, other_token, "hub")
        p.key_fingerprint = peer().key_fingerprint
        sync(b, p)
    with Store.open(laptop) as s:
        s.add("contact", {"name": "Casey Moreno", "agency": "CCF"})
        p = peer()
        result = sync(s, p)
        assert result.received.applied >= 1 and result.sent.applied >= 1
        assert "Avery Stone" in s.dump()
    with Store.open(hub) as h:
        assert "Casey Moreno" in h.dump()
    # the answer held one bucket's streams or so, not the region's
    assert p.bytes_received < 60_000


def test_an_older_caller_gets_the_whole_vector_and_garbage_digests_are_refused(region):
    hub, laptop, url, token, peer = region
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-fieldcoord"}
    site = str(uuid.uuid4())
    r = requests.post(url + "/v1/hello", headers=headers, timeout=30,
                      data=protocol.pack({"site": site, "agency": "CCF", "vector": []}))
    assert r.status_code == 200
    assert len(protocol.decode_vector(protocol.unpack(r.content)["vector"])) > 10_000
    r = requests.post(url + "/v1/hello", headers=headers, timeout=30,
                      data=protocol.pack({"site": site, "agency": "CCF", "buckets": "AAAA"}))
    assert r.status_code == 400 and "digests" in r.text


def test_a_hub_lying_about_which_buckets_agree_is_refused_and_nothing_is_taken(region,
                                                                               monkeypatch):
    """A relay hub that names streams in buckets it says agree (to make a laptop believe it
    lacks or holds what it does not) gets a PeerError, and the laptop's database is as it was."""
    from fieldcoord.hub import app
    from fieldcoord.sync.http import PeerError
    hub, laptop, url, token, peer = region

    real = protocol.vector_answer

    def lying(vector, buckets):
        part, differ = real(vector, buckets)
        key = next(iter(vector))
        return {**part, key: vector[key] + 1000}, [b for b in differ
                                                   if b != protocol.bucket_of(key)]
    monkeypatch.setattr(app.protocol, "vector_answer", lying)
    with Store.open(laptop) as s:
        before = s.dump()
        with pytest.raises(PeerError, match="not what the protocol says"):
            sync(s, peer())
        assert s.dump() == before
