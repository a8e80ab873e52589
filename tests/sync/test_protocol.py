# SPDX-License-Identifier: GPL-3.0-or-later
"""The batch encoding: whatever a replica sends decodes to the same entries, and a damaged
batch is refused whole with a ProtocolError, never another exception."""
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
DIGEST = st.binary(min_size=32, max_size=32).map(lambda b: {"_d": [b.hex()]})


def _entry(origin, audience, seq, tx, tbl, rid, hlc, site, cells, status, digest):
    # a refused or withheld change travels as its digest, never its cells
    return Entry(origin, audience, seq, tx, tbl, rid, hlc, site,
                 digest if status else {k: v for k, v in cells.items() if k != "_d"}, status)


ENTRY = st.builds(
    _entry, origin=SITE, audience=st.sampled_from(["all", "CCF", "CCF,MPD"]),
    seq=st.integers(1, 10 ** 9), tx=HLC, tbl=st.sampled_from(["contact", "agency"]),
    rid=st.one_of(st.uuids().map(str), UUID7), hlc=HLC, site=SITE,
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


def test_record_ids_travel_as_bytes():
    e = Entry(SITES[0], "all", 1, 5, "contact", str(uuid.uuid4()), 5, SITES[0], {"name": ["A"]})
    batch = protocol.encode_batch([e], {SITES[0]: ("CCF", None, None)})
    assert len(batch["record"]) == 24            # 16 bytes in base64
    with pytest.raises(protocol.ProtocolError):
        protocol.decode_batch({**batch, "record": batch["record"][:-4]})
