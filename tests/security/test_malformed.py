# SPDX-License-Identifier: GPL-3.0-or-later
"""Malformed messages pushed to a hub as an attacker would write them: each is refused whole with
400 and a reason, never a 500, and changes nothing. Deep nesting, numbers SQLite cannot store,
non-finite numbers, broken Unicode, and entries for tables that hold no records. What a newer
peer may send (a kind of record or a field this version does not know) still goes through."""
import json
import uuid
import zlib

import pytest
import requests

from fieldcoord.core import hlc as clock
from fieldcoord.hub import tokens
from fieldcoord.hub.server import start_in_thread
from fieldcoord.store import Store, trust
from fieldcoord.store.exchange import Batch, entry_digest, outgoing, sites_of, vector
from fieldcoord.store.incoming import Entry
from fieldcoord.store.migrations import LATEST
from fieldcoord.sync import protocol
from fieldcoord.sync.engine import sync
from fieldcoord.sync.http import HttpPeer

NEWER = "9999_future_kinds"         # a migration newer than this fieldcoord's


@pytest.fixture
def hub(tmp_path):
    path = tmp_path / "hub.db"
    Store.create(path, "Clark County Fire", "CCF", device="hub").close()
    with Store.open(path) as s:
        with s.transaction():
            _, token = tokens.issue(s.conn, "CCF", "laptop")
    url, stop = start_in_thread(path)
    yield path, url, {"Authorization": f"Bearer {token}"}
    stop()


def enrolled_laptop(tmp_path, hub) -> Store:
    """A laptop of the hub's agency after its first sync: it holds a device certificate, so
    what it signs is verified and applied."""
    path, url, auth = hub
    laptop = Store.create(tmp_path / "enrolled.db", "Clark County Fire", "CCF",
                          device="enrolled", founder=False)
    peer = HttpPeer(url, auth["Authorization"].removeprefix("Bearer "))
    try:
        sync(laptop, peer)
    finally:
        peer.close()
    return laptop


def signed(store: Store, items: list) -> Batch:
    """Entries (table, record id, cells) next in `store`'s own stream for "all", their head
    signed with its device key: what a genuine device of any version sends."""
    store.sign_heads()                  # its stream's row settled, as before sending
    row = store.conn.execute(
        "SELECT t.seq, t.hash FROM stream t JOIN site s ON s.ord = t.origin "
        "WHERE s.uuid = ? AND t.audience = 'all'", (store.site_uuid,)).fetchone()
    seq, h = (row[0], bytes(row[1])) if row else (0, trust.ZERO)
    hlc = clock.pack(clock.wall_ms())
    out = []
    for tbl, rid, cells in items:
        seq, hlc = seq + 1, hlc + 1
        e = Entry(store.site_uuid, "all", seq, hlc, tbl, rid, hlc, store.site_uuid, cells)
        h = trust.chain(h, entry_digest(e))
        out.append(e)
    sig = trust.sign_head(store.device_seed(), store.site_uuid, "all", seq, h)
    return Batch(out, {(store.site_uuid, "all"): [(seq, sig)]})


def laptop_batch(tmp_path, name: str, **fields) -> tuple[str, dict]:
    """(site, batch) of a new laptop's first push: its agency record, then one contact."""
    laptop = Store.create(tmp_path / f"{name}.db", "Clark County Fire", "CCF", device=name)
    laptop.add("contact", {"name": "Dana Whitfield", "agency": "CCF", **fields})
    laptop.sign_heads()   # the newest entries are signed when sent
    entries = list(outgoing(laptop.conn, {k: 0 for k in vector(laptop.conn)}))[0]
    batch = protocol.encode_batch(entries, sites_of(laptop.conn, entries))
    site = laptop.site_uuid
    laptop.close()
    return site, batch


def push_text(url, auth, text: str) -> requests.Response:
    return requests.post(url + "/v1/push", data=zlib.compress(text.encode("utf-8")),
                         headers=auth, timeout=30)


def message_text(site: str, batch: dict, schema: str = LATEST) -> str:
    return json.dumps({"protocol": protocol.PROTOCOL, "schema": schema, "site": site,
                       "batch": batch})


def refused(r: requests.Response, reason: str) -> bool:
    return r.status_code == 400 and reason in r.json()["error"]


def dump(path) -> str:
    with Store.open(path) as s:
        return s.dump()


# --------------------------------------------------------------------------- nesting
def test_deep_nesting_is_refused_before_parsing(hub, tmp_path):
    path, url, auth = hub
    before = dump(path)
    head = f'{{"protocol": {protocol.PROTOCOL}, "schema": "{LATEST}", "site": "x", "batch": '
    for deep in ("[" * 200_000 + "]" * 200_000, '{"a": ' * 200_000 + "1" + "}" * 200_000,
                 # brackets hidden in strings do not make nesting look shallow
                 '["]", ' * 100 + "1" + ', "["]' * 100):
        r = push_text(url, auth, head + deep + "}")
        assert refused(r, "deeper than 64 levels"), r.text
    r = push_text(url, auth, head + "[" * 200_000 + "}")
    assert refused(r, "not a fieldcoord message")
    assert dump(path) == before
    # what strings hold is not nesting: a value full of brackets and quotes goes through
    laptop = enrolled_laptop(tmp_path, hub)
    laptop.add("contact", {"name": "Dana Whitfield", "agency": "CCF", "notes": '[{"\\' * 5_000})
    sync(laptop, HttpPeer(url, auth["Authorization"].removeprefix("Bearer ")))
    laptop.close()
    with Store.open(path) as s:
        assert s.conn.execute("SELECT notes FROM contact").fetchone()[0] == '[{"\\' * 5_000


def test_unpack_refuses_deep_nesting_for_bundles_and_clients_too():
    def message(body: str) -> bytes:
        return zlib.compress(f'{{"protocol": {protocol.PROTOCOL}, "x": {body}}}'.encode())
    with pytest.raises(protocol.ProtocolError, match="deeper than 64"):
        protocol.unpack(message("[" * 200_000 + "]" * 200_000))
    assert protocol.unpack(message("[" * 63 + "]" * 63))["x"]
    with pytest.raises(protocol.ProtocolError, match="deeper than 64"):
        protocol.unpack(message("[" * 64 + "]" * 64))
    for number, reason in (("NaN", "not a number"), ("-Infinity", "not a number"),
                           ("1e999", "too large"), (str(2**63), "outside signed 64 bits")):
        with pytest.raises(protocol.ProtocolError, match=reason):
            protocol.unpack(message(number))
    assert protocol.unpack(message(str(2**63 - 1)))["x"] == 2**63 - 1
    assert protocol.unpack(message(str(-2**63)))["x"] == -2**63
    # a replaced clock sent relative to a UUIDv7's time may go below, but not past -2**64
    assert protocol.unpack(message(str(-2**64)))["x"] == -2**64
    with pytest.raises(protocol.ProtocolError, match="outside signed 64 bits"):
        protocol.unpack(message(str(-2**64 - 1)))


# --------------------------------------------------------------------------- numbers, text
@pytest.mark.parametrize("part, index, value, reason", [
    ("hlc", 0, "18446744073709551616", "outside signed 64 bits"),          # a clock of 2**64
    ("seq", 1, "9223372036854775808", "outside signed 64 bits"),
    ("value", None, "-9223372036854775809", "outside signed 64 bits"),
    ("value", None, "1" + "0" * 5000, "outside signed 64 bits"),
    ("value", None, "NaN", "not a number"),
    ("value", None, "Infinity", "not a number"),
    ("value", None, "1e999", "too large"),
    ("value", None, '"\\ud800"', "not Unicode"),
    # each clock difference fits, their sum does not
    ("hlc", 1, str(2**63 - 1), "outside signed 64 bits"),
])
def test_numbers_and_text_sqlite_cannot_store_are_refused(hub, tmp_path, part, index, value,
                                                          reason):
    path, url, auth = hub
    before = dump(path)
    site, batch = laptop_batch(tmp_path, "laptop")
    if part == "value":
        batch["value"][1][batch["field"][1].index("name")] = "@@"
    else:
        batch[part][index] = "@@"
    r = push_text(url, auth, message_text(site, batch).replace('"@@"', value))
    assert refused(r, reason), r.text
    assert dump(path) == before


# --------------------------------------------------------------------------- tables
INTERNAL = ["sqlite_master", "sqlite_sequence", "change", "stream", "site", "meta", "head",
            "agency_key", "conflict", "peer", "device_token", "sync_event", "clock",
            "search_doc", "search_fts", "search_fts_data", "search_digits", "search_digits_idx",
            "_sqlite_migrations", "line_check"]


@pytest.mark.parametrize("table", INTERNAL)
def test_entries_for_the_databases_own_tables_are_refused(hub, tmp_path, table):
    path, url, auth = hub
    before = dump(path)
    site, batch = laptop_batch(tmp_path, "laptop")
    batch["table"][1] = table
    for schema in (LATEST, NEWER):          # whatever version the sender claims
        r = push_text(url, auth, message_text(site, batch, schema))
        assert refused(r, f"entry 1 of the batch is for table '{table}', which holds no "
                          "records"), r.text
    assert dump(path) == before


def test_a_newer_peers_kinds_and_fields_are_kept_other_tables_refused(hub, tmp_path):
    path, url, auth = hub
    laptop = enrolled_laptop(tmp_path, hub)
    cid = laptop.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
    sync(laptop, HttpPeer(url, auth["Authorization"].removeprefix("Bearer ")))
    note = str(uuid.uuid4())
    batch = signed(laptop, [("field_note", note, {"text": ["Staging at gate 3"], "_cl": [1]}),
                            ("contact", cid, {"callsign_ext": ["ENGINE 7"]})])
    text = json.dumps({"protocol": protocol.PROTOCOL, "site": laptop.site_uuid,
                       "batch": protocol.encode_batch(batch, sites_of(laptop.conn, batch))})
    # a newer peer's new kind of record, kept to be passed on (also when a hub of this version
    # relays it: the batch then names this version's schema); and a field this version does
    # not know, on a known kind of record, kept as before
    r = push_text(url, auth, text.replace('"protocol"', f'"schema": "{LATEST}", "protocol"'))
    assert r.status_code == 200, r.text
    assert protocol.unpack(r.content)["applied"] >= 1
    with Store.open(path) as h:
        assert h.conn.execute("SELECT count(*) FROM change WHERE tbl = 'field_note'"
                              ).fetchone()[0] == 1
        extra = h.conn.execute("SELECT _extra FROM contact WHERE id = ?", (cid,)).fetchone()[0]
    assert json.loads(extra) == {"callsign_ext": "ENGINE 7"}
    laptop.close()
