# SPDX-License-Identifier: GPL-3.0-or-later
"""The batch encoding: whatever a replica sends decodes to the same entries, and a damaged
batch is refused whole with a ProtocolError, never another exception."""
import base64
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldcoord.core import ids
from fieldcoord.store.incoming import Entry
from fieldcoord.sync import protocol

SITES = [str(uuid.UUID(int=i * 7919 + 1)) for i in range(4)]
HLC = st.integers(0, 2 ** 63 - 1)
SITE = st.sampled_from(SITES)
VALUE = st.one_of(st.none(), st.text(max_size=20), st.integers(-10 ** 12, 10 ** 12),
                  st.floats(allow_nan=False, allow_infinity=False),
                  st.lists(st.text(max_size=5), max_size=3))
CELL = st.one_of(
    st.tuples(VALUE).map(list),
    st.tuples(VALUE, HLC, SITE).map(list),
    st.tuples(VALUE, st.none(), st.none()).map(list),
    st.tuples(VALUE, HLC, SITE, HLC, SITE).map(list),
    st.tuples(VALUE, HLC, SITE, HLC, SITE,
              st.lists(st.tuples(HLC, SITE).map(list), min_size=1, max_size=3)).map(list))
NAME = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True)
UUID7 = st.builds(lambda ms, rnd: str(uuid.UUID(int=(ms << 80) | (7 << 76) | (rnd & ((1 << 76) - 1))
                                               & ~(3 << 62) | (2 << 62))),
                  st.integers(0, 2 ** 48 - 1), st.integers(0, 2 ** 76 - 1))
BOUND = st.builds(
    lambda site, owner, ms, n: protocol._uuid_text(
        ((ms << 16) | (8 << 12) | n).to_bytes(8, "big")
        + ids.bound_tail(site, owner, ms, n).to_bytes(8, "big")),
    SITE, st.sampled_from(["CCF", "MPD", "ccf", "X"]), st.integers(0, 2 ** 48 - 1),
    st.integers(0, 0xFFF))
DIGEST = st.binary(min_size=32, max_size=32).map(lambda b: {"_d": [b.hex()]})


def _entry(origin, audience, seq, tx, tbl, rid, hlc, site, cells, status, digest):
    # a refused or withheld change travels as its digest, never its cells
    return Entry(origin, audience, seq, tx, tbl, rid, hlc, site,
                 digest if status else {k: v for k, v in cells.items() if k != "_d"}, status)


ENTRY = st.builds(
    _entry, origin=SITE, audience=st.sampled_from(["all", "CCF", "CCF,MPD"]),
    seq=st.integers(1, 10 ** 9), tx=HLC, tbl=st.sampled_from(["contact", "agency"]),
    rid=st.one_of(st.uuids().map(str), UUID7, BOUND, st.sampled_from(
        [str(uuid.UUID(int=0)), str(uuid.UUID(int=2 ** 128 - 1)),
         str(uuid.UUID(int=(2 ** 63) << 64)), str(uuid.UUID(int=(2 ** 63 - 1) << 64))])),
    hlc=HLC, site=SITE,
    cells=st.dictionaries(NAME, CELL, max_size=6), status=st.sampled_from([0, 1]),
    digest=DIGEST)


@settings(max_examples=100, deadline=None)
@given(st.lists(ENTRY, max_size=30))
def test_a_batch_decodes_to_what_was_sent(entries):
    sites = {u: ("CCF", f"device {i}", bytes([i]) * 100 if i % 2 else None)
             for i, u in enumerate(SITES)}
    message = protocol.unpack(protocol.pack({"batch": protocol.encode_batch(entries, sites)}))
    got, got_sites = protocol.decode_batch(message["batch"])
    assert got == entries
    assert got_sites == sites


@settings(max_examples=150, deadline=None)
@given(st.lists(ENTRY, min_size=1, max_size=8), st.data())
def test_a_damaged_batch_is_refused_whole(entries, data):
    sites = {u: ("CCF", None, None) for u in SITES}
    batch = protocol.encode_batch(entries, sites)
    part = data.draw(st.sampled_from(sorted(batch)))
    junk = data.draw(st.one_of(st.none(), st.text(max_size=4), st.integers(-5, 5),
                               st.lists(st.integers(-2, 2), max_size=3), st.just({})))
    if isinstance(batch[part], list) and batch[part] and data.draw(st.booleans()):
        i = data.draw(st.integers(0, len(batch[part]) - 1))
        batch[part][i] = junk
    else:
        batch[part] = junk
    try:
        protocol.decode_batch(batch)
    except protocol.ProtocolError:
        pass                          # refused with a reason
    # a damage that still decodes must be one the protocol cannot tell from a real batch


def _edits_of(rids):
    return [Entry(SITES[0], "all", i + 1, 5, "contact", rid, 5, SITES[0], {"name": ["A"]})
            for i, rid in enumerate(rids)]


def test_record_ids_travel_as_time_steps_and_random_bytes():
    # ids made one after another (a bulk load's): their first halves differ by a step or two
    rids = [f"019ae7c4-68bb-8{n:03x}-b2da-98bb61a66{n:03x}" for n in range(5)]
    batch = protocol.encode_batch(_edits_of(rids), {SITES[0]: ("CCF", None, None)})
    steps, tails, makers = batch["record"]
    assert steps[1:] == [1, 1, 1, 1] and makers == [None] * 5
    assert len(base64.b64decode(tails)) == 5 * 8
    assert [e.rid for e in protocol.decode_batch(batch)[0]] == rids


def _bound(site, owner, n):
    return ids.new_bound_id(site, owner) if n is None else protocol._uuid_text(
        ((1764825000123 << 16) | (8 << 12) | n).to_bytes(8, "big")
        + ids.bound_tail(site, owner, 1764825000123, n).to_bytes(8, "big"))


def test_a_bound_id_travels_as_its_maker_instead_of_its_hash():
    sites = {SITES[0]: ("CCF", None, None), SITES[1]: ("MPD", None, None)}
    rids = [_bound(SITES[0], "CCF", n) for n in range(3)] + [_bound(SITES[2], "CCF", 3),
                                                             _bound(SITES[0], "MPD", 4)]
    batch = protocol.encode_batch(_edits_of(rids), sites)
    steps, tails, makers = batch["record"]
    # made by the writer for its agency, or for another agency of the batch: named; by a site
    # the batch does not name: sent whole
    assert makers == [[0, "CCF"]] * 3 + [None, [0, "MPD"]]
    assert len(base64.b64decode(tails)) == 8
    assert [e.rid for e in protocol.decode_batch(batch)[0]] == rids
    # another maker names another id: a sender cannot pass one record off as another's
    other = {**batch, "record": [steps, tails, [[1, "CCF"]] + makers[1:]]}
    got = [e.rid for e in protocol.decode_batch(other)[0]]
    assert got[0] != rids[0] and got[1:] == rids[1:]
    assert not ids.made_by(got[0], SITES[0], "CCF") and ids.made_by(got[0], SITES[1], "CCF")


def test_an_edit_names_the_maker_of_the_record_it_edits():
    # a laptop edits records its hub made: the hub's site is named by the version replaced
    hub, laptop = SITES[0], SITES[1]
    sites = {hub: ("CCF", "hub", None), laptop: ("CCF", "laptop", None)}
    rids = [_bound(hub, "CCF", n) for n in range(4)]
    edits = [Entry(laptop, "all", i + 1, 9, "contact", rid, 9, laptop, {"title": ["T", 5, hub]})
             for i, rid in enumerate(rids)]
    batch = protocol.encode_batch(edits, sites)
    assert batch["record"][2] == [[0, "CCF"]] * 4 and batch["record"][1] == ""
    assert protocol.decode_batch(batch)[0] == edits


@pytest.mark.parametrize("maker", [[2, "CCF"], [-1, "CCF"], [True, "CCF"], [0, "ccf"],
                                   [0, "C"], [0, 7], [0], "0,CCF", 0])
def test_a_damaged_maker_refuses_the_batch(maker):
    rids = [_bound(SITES[0], "CCF", n) for n in range(3)]
    batch = protocol.encode_batch(_edits_of(rids), {SITES[0]: ("CCF", None, None)})
    steps, tails, makers = batch["record"]
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_batch({**batch, "record": [steps, tails, [maker] + makers[1:]]})


def test_a_maker_for_an_id_that_is_not_bound_refuses_the_batch():
    rids = [str(uuid.uuid4())]
    batch = protocol.encode_batch(_edits_of(rids), {SITES[0]: ("CCF", None, None)})
    steps, _, _ = batch["record"]
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_batch({**batch, "record": [steps, "", [[0, "CCF"]]]})


def test_a_batch_of_development_builds_still_decodes():
    rids = [str(uuid.uuid4()) for _ in range(3)]
    batch = protocol.encode_batch(_edits_of(rids), {SITES[0]: ("CCF", None, None)})
    old = base64.b64encode(b"".join(uuid.UUID(r).bytes for r in rids)).decode()
    assert [e.rid for e in protocol.decode_batch({**batch, "record": old})[0]] == rids
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_batch({**batch, "record": old[:-4]})


def test_a_record_id_that_is_not_canonical_is_not_sent():
    for rid in ("A2B4C6D8-0000-4000-8000-000000000000", "not-an-id", f"{{{uuid.uuid4()}}}"):
        with pytest.raises(protocol.ProtocolError):
            protocol.encode_batch(_edits_of([rid]), {SITES[0]: ("CCF", None, None)})


@pytest.mark.parametrize("record", [
    [[1, 2], "A" * 32, [None] * 3],                # two steps, 24 bytes: three entries
    [[1, 2, 3], "A" * 20 + "==", [None] * 3],      # three steps, 15 bytes
    [[1, 2, 3], "A" * 32, [None] * 2],             # two makers
    [[1, 2, 3], "A" * 32, [None] * 4],
    [[1, 2, 2 ** 63], "A" * 32, [None] * 3],       # a step outside signed 64 bits
    [[1, 2, -(2 ** 63) - 1], "A" * 32, [None] * 3],
    [[1, True, 3], "A" * 32, [None] * 3],          # not a number
    [[1, 2.0, 3], "A" * 32, [None] * 3],
    [[1, "2", 3], "A" * 32, [None] * 3],
    [[1, 2, 3], "A" * 31 + "!", [None] * 3],       # not base64
    [[1, 2, 3], "A" * 32], [[1, 2, 3], "A" * 32, None], "A" * 32, {"steps": [1, 2, 3]},
    None, 3,
])
def test_damaged_record_ids_refuse_the_batch(record):
    rids = [str(uuid.uuid4()) for _ in range(3)]
    batch = protocol.encode_batch(_edits_of(rids), {SITES[0]: ("CCF", None, None)})
    assert protocol.decode_batch({**batch, "record": [[*batch["record"][0]],
                                                      batch["record"][1], [None] * 3]})[0]
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_batch({**batch, "record": record})


def test_a_relay_that_names_another_maker_for_an_id_gets_the_batch_refused(tmp_path):
    # A laptop edits a contact its hub made; a relay rewrites the id's maker in the batch it
    # passes on. The receiver computes another id from it, which the laptop's signed hash does
    # not cover: nothing of the batch is applied.
    from region import Region

    from fieldcoord.store.exchange import apply_batch, outgoing, sites_of, vector
    from fieldcoord.sync.engine import StorePeer, sync

    region = Region()
    hub = region.make(tmp_path / "hub.db", "CCF", device="ccf-hub")
    laptop = region.make(tmp_path / "laptop.db", "CCF", device="ccf-laptop")
    other = region.make(tmp_path / "other.db", "CCF", device="ccf-other")
    rid = hub.add("contact", {"name": "Ada Lovelace", "agency": "CCF", "title": "Chief"})
    for store in (laptop, other, laptop):
        sync(store, StorePeer(hub))
    before = dict(vector(laptop.conn))
    laptop.edit(rid, {"title": "Captain"})
    laptop.sign_heads()
    batch = next(outgoing(laptop.conn, {k: before.get(k, 0) for k in vector(laptop.conn)}))
    sites = sites_of(laptop.conn, batch)
    sites.setdefault(other.site_uuid, (other.home, "ccf-other", None))
    message = protocol.unpack(protocol.pack(protocol.encode_batch(batch, sites)))
    steps, tails, makers = message["record"]
    assert makers == [[list(sites).index(hub.site_uuid), "CCF"]]     # the hub made it
    forged = {**message, "record": [steps, tails, [[list(sites).index(other.site_uuid),
                                                    "CCF"]]]}
    entries, got_sites = protocol.decode_batch(forged)
    assert entries[0].rid != rid
    report = apply_batch(hub, entries, got_sites)
    assert report.applied == 0 and report.tampered
    assert hub.get(rid).values["title"] == "Chief"
    # the batch as sent applies
    entries, got_sites = protocol.decode_batch(message)
    assert apply_batch(hub, entries, got_sites).applied == 1
    assert hub.get(rid).values["title"] == "Captain"
    for store in (hub, laptop, other):
        store.close()
