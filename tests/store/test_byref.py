# SPDX-License-Identifier: GPL-3.0-or-later
"""A record's creation is logged by reference to its row: the log reads back every value the
record was created with, whatever was written since, partners receive and verify exactly what a
full copy would have given them, and nothing a partner sends is read as such a reference."""
import json
import random
import sqlite3

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fieldcoord.core import compact
from fieldcoord.core import kinds as K
from fieldcoord.store import Store, byref, identity
from fieldcoord.store.incoming import malformed
from fieldcoord.sync import snapshot
from fieldcoord.sync.engine import StorePeer, sync


def stored(store, rid):
    """(stored cells text, cells as every reader reads them) of the record's creation."""
    store.take_recent()
    return store.conn.execute(
        "SELECT cells, fc_cells(site, hlc, tbl, rid, cells) FROM change WHERE rid = ? "
        "ORDER BY hlc LIMIT 1", (rid,)).fetchone()


def created_with(store, rid):
    """The cells a full copy of the record's creation holds, from the record as read now."""
    rec = store.get(rid)
    out = {"owner": [rec.owner], "scope": [rec.scope]}
    for f in K.KINDS[rec.kind].fields:
        if rec.values.get(f.name) is not None:
            out[f.name] = [rec.values[f.name]]
    out["_cl"] = [1]
    return out


def test_a_creation_refers_to_its_row_and_reads_back_whole(store):
    mpd = store.add("agency", {"name": "Metro Police Department", "code": "MPD",
                               "discipline": "law"})
    rid = store.add("contact", {"name": "Dana Whitfield", "agency": "CCF", "title": "Chief",
                                "languages": "en, es"})
    engine = store.add("resource", {"name": "Engine 7", "agency": "CCF"})
    req = store.add("request", {"requesting_agency": "MPD", "supplying_agency": "CCF",
                                "description": "2 engines", "quantity": 2,
                                "committed_resources": [engine], "status": "committed"})
    for r in (mpd, rid, engine, req):
        text, cells = stored(store, r)
        assert text == byref.BYREF
        assert json.loads(cells) == created_with(store, r) | (
            {"status": ["available"]} if r == engine else {})
    # a list of ids reads back as the list it was written as
    assert json.loads(stored(store, req)[1])["committed_resources"] == [[engine]]


def test_an_edit_keeps_the_values_it_replaces_for_the_creation(store):
    rid = store.add("contact", {"name": "Dana Whitfield", "agency": "CCF", "title": "Chief"})
    first = created_with(store, rid)
    store.edit(rid, {"title": "Captain", "notes": "night shift"})
    store.edit(rid, {"title": "Battalion Chief"})
    text, cells = stored(store, rid)
    assert text == byref.BYREF and json.loads(cells) == first
    # the edit's own entry keeps them to itself: no reader sees `_was`
    raw, read = store.conn.execute(
        "SELECT cells, fc_cells(site, hlc, tbl, rid, cells) FROM change WHERE rid = ? "
        "ORDER BY hlc LIMIT 1 OFFSET 1", (rid,)).fetchone()
    assert json.loads(raw)["_was"] == [{"title": "Chief", "notes": None}]
    assert "_was" not in json.loads(read)


def test_sharing_a_record_with_more_partners_writes_its_creation_out(store):
    rid = store.add("contact", {"name": "Covert Desk", "agency": "CCF", "scope": "private"})
    before = created_with(store, rid)
    store.edit(rid, {"scope": "all"})       # its history goes to a new audience
    text, cells = stored(store, rid)
    assert json.loads(text) == before == json.loads(cells)
    assert '"@"' not in store.conn.execute("SELECT _ver FROM contact WHERE id = ?",
                                           (rid,)).fetchone()[0]


def test_partners_receive_and_verify_the_creation_as_written(tmp_path):
    hub = Store.create(tmp_path / "hub.db", "Clark County Fire", "CCF", device="hub")
    a = Store.create(tmp_path / "a.db", "Clark County Fire", "CCF", device="a")
    b = Store.create(tmp_path / "b.db", "Clark County Fire", "CCF", device="b")
    with hub, a, b:
        sync(a, StorePeer(hub))
        rid = a.add("contact", {"name": "Dana Whitfield", "agency": "CCF", "title": "Chief"})
        first = created_with(a, rid)
        a.edit(rid, {"title": "Captain"})
        sync(a, StorePeer(hub))
        report = sync(b, StorePeer(hub))
        assert not report.received.tampered and not report.received.refused
        # the hub and b hold the creation in full, as a full copy would have been
        for other in (hub, b):
            got = other.conn.execute("SELECT cells FROM change WHERE rid = ? ORDER BY hlc "
                                     "LIMIT 1", (rid,)).fetchone()[0]
            assert json.loads(got) == first
        chain = a.conn.execute("SELECT hash FROM stream WHERE origin = ? AND audience = 'all'",
                               (a.self_ord,)).fetchone()[0]
        # b edits a's record: a's merge writes the creation out before changing the row
        b.edit(rid, {"notes": "on call"})
        sync(b, StorePeer(hub))
        sync(a, StorePeer(hub))
        text, cells = stored(a, rid)
        assert json.loads(text) == first == json.loads(cells)
        assert a.dump() == b.dump() == hub.dump()
        # the same entries, the same chain: nothing a partner verified changed
        with a.transaction():
            identity.rebuild_chains(a.conn)
        assert a.conn.execute("SELECT hash FROM stream WHERE origin = ? AND audience = 'all'",
                              (a.self_ord,)).fetchone()[0] == chain


def test_a_creation_received_refers_to_its_row_and_goes_on_as_it_came(tmp_path):
    """A creation pulled from a partner is logged by reference to the row it made, as one
    made here is: it reads back byte for byte as received, goes on to others verified, keeps
    the chain, and is written out in full before a later change of the record."""
    hub = Store.create(tmp_path / "hub.db", "Clark County Fire", "CCF", device="hub")
    a = Store.create(tmp_path / "a.db", "Clark County Fire", "CCF", device="a")
    b = Store.create(tmp_path / "b.db", "Clark County Fire", "CCF", device="b")
    with hub, a, b:
        sync(a, StorePeer(hub))
        made = [a.add("contact", {"name": f"Dana Whitfield {i}", "agency": "CCF",
                                  "title": "Chief", "languages": "en"}) for i in range(4)]
        sync(a, StorePeer(hub))
        report = sync(b, StorePeer(hub))
        assert not report.received.tampered and not report.received.refused
        sent = {rid: stored(a, rid)[1] for rid in made}
        for other in (hub, b):
            for rid in made:
                text, cells = stored(other, rid)
                assert text == byref.BYREF and cells == sent[rid], other.device
            assert '"@":1' in other.conn.execute("SELECT _ver FROM contact WHERE id = ?",
                                                 (made[0],)).fetchone()[0]
        # a later change of the record, on the hub: the creation is written out first
        a.edit(made[0], {"title": "Captain"})
        sync(a, StorePeer(hub))
        text, cells = stored(hub, made[0])
        assert text == cells == sent[made[0]]
        assert hub.get(made[0]).values["title"] == "Captain"
        # the chain the hub verified as the entries came is the one its log gives now
        chain_sql = ("SELECT t.hash FROM stream t JOIN site s ON s.ord = t.origin "
                     "WHERE s.uuid = ? AND t.audience = 'all'")
        chain = hub.conn.execute(chain_sql, (a.site_uuid,)).fetchone()[0]
        with hub.transaction():
            identity.rebuild_chains(hub.conn)
        assert hub.conn.execute(chain_sql, (a.site_uuid,)).fetchone()[0] == chain
        assert stored(hub, made[1])[0] == byref.BYREF        # (the others untouched)
        sync(b, StorePeer(hub))
        assert a.dump() == b.dump() == hub.dump()


def test_a_received_creation_its_row_would_not_give_back_is_logged_in_full(tmp_path):
    """Only a creation the row gives back byte for byte is logged by reference: a number
    sent for a text field (kept as text), or cells in another order, are kept as they came."""
    from fieldcoord.store.exchange import outgoing, sites_of, vector
    from fieldcoord.store.merge import Merger
    a = Store.create(tmp_path / "a.db", "Clark County Fire", "CCF", device="a")
    b = Store.create(tmp_path / "b.db", "Clark County Fire", "CCF", device="b")
    with a, b:
        rids = [a.add("contact", {"name": f"Dana Whitfield {i}", "agency": "CCF",
                                  "title": "Chief"}) for i in range(3)]
        a.take_recent()
        a.sign_heads()
        batch = [e for got in outgoing(a.conn, {k: 0 for k in vector(a.conn)}) for e in got]
        sites = sites_of(a.conn, batch)
        sent = {e.rid: e for e in batch}
        sent[rids[1]].cells["title"] = [7]
        moved = sent[rids[2]]
        moved.cells = {"scope": moved.cells["scope"],
                       **{c: v for c, v in moved.cells.items() if c != "scope"}}
        with b.transaction():                   # (applied as received, signatures aside)
            merger = Merger(b, sites)
            merger.prefetch(batch)
            merger.apply_all(batch)
            merger.finish()
        for rid, by_reference in zip(rids, (True, False, False)):
            text, cells = stored(b, rid)
            assert (text == byref.BYREF) is by_reference
            assert cells == compact.dumps(sent[rid].cells)
        assert b.get(rids[1]).values["title"] == "7"


_VALUES = st.one_of(st.text(max_size=6), st.text(max_size=6), st.none(),
                   st.integers(-(1 << 62), 1 << 62),
                   st.floats(allow_nan=False, allow_infinity=False), st.booleans())


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.dictionaries(st.sampled_from(["name", "agency", "title", "notes", "languages",
                                               "zz_later"]),
                              st.one_of(*[st.lists(_VALUES, min_size=1, max_size=1)] * 4,
                                        st.lists(_VALUES, min_size=2, max_size=2))),
       owner=st.sampled_from([["CCF"], ["CCF"], ["CCF"], None, [None], [7]]),
       scope=st.sampled_from([["all"], ["all"], ["CCF"], None]),
       cl=st.sampled_from([[1], [1], [True], [1.0]]),
       shuffle=st.sampled_from([False, False, True]),
       order=st.randoms(use_true_random=False))
@example(fields={"name": ["Dana"]}, owner=["CCF"], scope=["all"], cl=[1], shuffle=False,
         order=random.Random(1))                                    # (by reference)
@example(fields={"name": [7]}, owner=["CCF"], scope=["all"], cl=[1], shuffle=False,
         order=random.Random(1))                                    # (a number for a text)
@example(fields={"name": ["Dana"], "title": [None]}, owner=["CCF"], scope=["all"], cl=[1],
         shuffle=False, order=random.Random(1))                     # (an empty value given)
@example(fields={"name": ["Dana"]}, owner=["CCF"], scope=["all"], cl=[True], shuffle=False,
         order=random.Random(1))                                    # (true is not 1 in JSON)
def test_a_received_creation_reads_back_as_it_came_whatever_its_cells(
        tmp_path_factory, fields, owner, scope, cl, shuffle, order):
    """Whatever a creation's cells hold (values of any type, in any order, fields unknown
    here), its entry reads back byte for byte as received; it refers to the row exactly when
    the row gives the cells back so (text values in the row's order, owner and scope given,
    `_cl` last)."""
    from fieldcoord.store.exchange import outgoing, sites_of, vector
    from fieldcoord.store.merge import Merger
    tmp = tmp_path_factory.mktemp("received")
    a = Store.create(tmp / "a.db", "Clark County Fire", "CCF", device="a")
    b = Store.create(tmp / "b.db", "Clark County Fire", "CCF", device="b")
    with a, b:
        rid = a.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
        a.take_recent()
        a.sign_heads()
        batch = [e for got in outgoing(a.conn, {k: 0 for k in vector(a.conn)}) for e in got]
        entry = next(e for e in batch if e.rid == rid)
        cells = {**({"owner": owner} if owner else {}), **({"scope": scope} if scope else {}),
                 **fields, "_cl": cl}
        keys = list(cells)
        if shuffle:
            order.shuffle(keys)
        entry.cells = {k: cells[k] for k in keys}
        with b.transaction():
            merger = Merger(b, sites_of(a.conn, batch))
            merger.prefetch(batch)
            merger.apply_all(batch)
            merger.finish()
        got = b.conn.execute("SELECT cells, fc_cells(site, hlc, tbl, rid, cells) FROM change "
                             "WHERE rid = ?", (rid,)).fetchone()
        assert got[1] == compact.dumps(entry.cells)
        given_ = [k for k in keys if k != "_cl"]
        as_row = (keys[-1] == "_cl" and type(cl[0]) is int and owner == ["CCF"]
                  and scope is not None and "zz_later" not in fields
                  and all(len(v) == 1 and type(v[0]) is str for k, v in cells.items()
                          if k != "_cl")
                  and given_ == [c for c in byref.columns("contact") if c in cells])
        assert (got[0] == byref.BYREF) == as_row


def test_sending_creations_made_here_reads_each_record_once(store):
    """The creations logged by reference go out whole, read from their rows with their owner
    and scope: nothing asks again whether each of those records is still held (sending a
    whole directory read every record twice)."""
    from fieldcoord.store.exchange import outgoing, vector
    ids = [store.add("contact", {"name": f"Person {i}", "agency": "CCF", "title": "Medic"})
           for i in range(30)]
    store.edit(ids[0], {"title": "Chief"})
    store.take_recent()
    store.sign_heads()
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    try:
        sent = [e for b in outgoing(store.conn, {k: 0 for k in vector(store.conn)}) for e in b]
    finally:
        store.conn.set_trace_callback(None)
    made = {e.rid: e.cells for e in sent if e.tbl == "contact" and e.cells.get("_cl") == [1]}
    assert set(made) == set(ids)
    for rid in ids[1:]:
        assert made[rid] == created_with(store, rid)
    assert made[ids[0]]["title"] == ["Medic"]           # as created, not as edited
    # (only the edit's record is looked up: an entry not made from a row)
    looked_up = [s for s in statements if "SELECT id, owner, scope" in s]
    assert looked_up and all(ids[0] in s and not any(r in s for r in ids[1:])
                             for s in looked_up)


def test_creations_go_out_as_the_cells_their_text_holds(store):
    """A sender takes the creations it made from their rows as cells, without writing their
    text: each is the cells the stored text reads back as (a record edited since, one with a
    list of ids, an agency), and the length it stands for is about that text's."""
    mpd = store.add("agency", {"name": "Metro Police Department", "code": "MPD",
                               "discipline": "law"})
    people = [store.add("contact", {"name": f"Dana Whitfield {i}", "agency": "CCF",
                                    "title": "Chief", "languages": "en, es"}) for i in range(5)]
    store.edit(people[0], {"title": "Deputy Chief", "notes": "acting"})
    engine = store.add("resource", {"name": "Engine 7", "agency": "CCF"})
    store.add("request", {"requesting_agency": "MPD", "supplying_agency": "CCF",
                          "description": "2 engines", "quantity": 2,
                          "committed_resources": [engine], "status": "committed"})
    store.take_recent()
    rows = store.conn.execute("SELECT site, hlc, tbl, rid, cells FROM change ORDER BY stream, seq"
                              ).fetchall()
    held: dict = {}
    sent = byref.to_send(store.conn, rows, held)
    texts = byref.texts(store.conn, rows)
    made = [i for i, r in enumerate(rows) if r[4] == byref.BYREF]
    assert sorted(held) == made and {rows[i][3] for i in made} >= {mpd, engine, *people}
    for i, (cells, text) in enumerate(zip(sent, texts)):
        if i in held:
            assert isinstance(cells, dict) and cells == compact.loads(text)
            owner, scope, size = held[i]
            assert (owner, scope) == (cells["owner"][0], cells["scope"][0])
            assert len(text) * 0.8 <= size <= len(text) * 1.5, (text, size)
        else:
            assert cells == text                    # (the stored text, as every reader has it)
    edited = next(sent[i] for i in made if rows[i][3] == people[0])
    assert edited["title"] == ["Chief"] and "notes" not in edited          # as created


@given(st.lists(st.one_of(st.none(), st.text(), st.integers(-(1 << 70), 1 << 70),
                          st.floats(allow_nan=False, allow_infinity=False)),
                min_size=len(byref._COLUMNS["contact"]),
                max_size=len(byref._COLUMNS["contact"])))
def test_a_creation_sent_as_cells_is_what_its_text_reads_back_as(values):
    assert byref._as_cells("contact", values) == compact.loads(byref._as_made("contact", values))


@pytest.mark.parametrize("cells", [{"@": 1}, {"@": [1]}, {"_was": [{"name": "x"}]},
                                   {"name": ["x"], "_was": [{"name": "y"}]}])
def test_a_partner_cannot_send_a_reference(cells):
    assert malformed(K.KINDS["contact"], cells) is not None


def test_a_partners_entry_is_never_read_as_a_reference_to_our_rows(store):
    rid = store.add("contact", {"name": "Informant Line", "agency": "CCF",
                                "scope": "private", "phone": "360 555 0199"})
    created = json.loads(store.conn.execute("SELECT _ver FROM contact WHERE id = ?",
                                            (rid,)).fetchone()[0])[""][0]
    with store.transaction():
        site = store.conn.execute("INSERT INTO site (uuid, agency) VALUES ('p-1', 'MPD')"
                                  ).lastrowid
        stream = store.conn.execute("INSERT INTO stream (origin, audience) VALUES (?, 'all')",
                                    (site,)).lastrowid
        # changes a partner sent about our private record, as received (refused, kept): one
        # naming it by reference, one claiming values it was created with
        store.conn.executemany(
            "INSERT INTO change (stream, seq, tx, tbl, rid, hlc, site, cells, status) "
            "VALUES (?, ?, 1, 'contact', ?, ?, ?, ?, 1)",
            [(stream, 1, rid, 1, site, byref.BYREF),
             (stream, 2, rid, created + 1, site, '{"name":["x"],"_was":[{"name":"Forged"}]}')])
    store.edit(rid, {"name": "Informant Desk"})
    got = store.conn.execute("SELECT fc_cells(site, hlc, tbl, rid, cells) FROM change WHERE "
                             "stream = ? AND seq = 1", (stream,)).fetchone()[0]
    assert got == byref.BYREF and "Informant" not in got
    # our creation still reads as made, not as the partner's claim
    store.take_recent()
    ours = store.conn.execute("SELECT fc_cells(site, hlc, tbl, rid, cells) FROM change WHERE "
                              "rid = ? AND site = ? ORDER BY hlc LIMIT 1",
                              (rid, store.self_ord)).fetchone()[0]
    assert json.loads(ours)["name"] == ["Informant Line"]


def test_a_snapshot_keeps_the_references_and_reads_the_same(store, tmp_path):
    rid = store.add("contact", {"name": "Dana Whitfield", "agency": "CCF", "title": "Chief"})
    store.edit(rid, {"title": "Captain"})
    text = stored(store, rid)[1]
    built = snapshot.build(store.conn, "CCF", tmp_path / "snap.db", store.site_uuid)
    copy = sqlite3.connect(built.path)
    try:
        byref.register(copy)
        got = copy.execute("SELECT cells, fc_cells(site, hlc, tbl, rid, cells) FROM change "
                           "WHERE rid = ? ORDER BY hlc LIMIT 1", (rid,)).fetchone()
        assert got == (byref.BYREF, text)
        assert json.loads(text)["title"] == ["Chief"]
    finally:
        copy.close()


def test_a_conflict_on_a_record_made_here_leaves_its_creation_as_made(replicas):
    from fieldcoord.store.conflicts import open_conflicts, resolve
    hub, a, b = replicas("hub"), replicas("a"), replicas("b")
    rid = a.add("contact", {"name": "Dana Whitfield", "agency": "CCF", "title": "Chief"})
    first = created_with(a, rid)
    for r in (a, b):
        sync(r, StorePeer(hub))
    a.edit(rid, {"title": "Captain"})
    b.edit(rid, {"title": "Battalion Chief"})      # concurrent: a conflict
    for r in (a, b, a):
        sync(r, StorePeer(hub))
    found = [c for c in open_conflicts(a) if c.record == rid]
    assert found
    resolve(a, found[0].id, found[0].id)            # keep the value that lost
    for r in (a, b, a, b):
        sync(r, StorePeer(hub))
    assert a.dump() == b.dump() == hub.dump()
    for r in (a, hub, b):
        assert json.loads(stored(r, rid)[1]) == first, r.device


@given(st.lists(st.one_of(st.none(), st.text(), st.integers(-(1 << 70), 1 << 70),
                          st.floats(allow_nan=False, allow_infinity=False)),
                min_size=len(byref._COLUMNS["contact"]),
                max_size=len(byref._COLUMNS["contact"])))
def test_a_creation_read_from_its_row_is_the_text_a_full_copy_would_be(values):
    cols = byref._COLUMNS["contact"]
    full = {c: [v] for c, v in zip(cols, values) if v is not None}
    full["_cl"] = [1]
    assert byref._as_made("contact", values) == compact.dumps(full)


def test_a_creation_by_reference_is_indexed_by_its_version_and_every_history_read_uses_an_index(
        replicas):
    """The change log's index by record leaves a creation by reference out (an index of whole
    ids is about 52 bytes an entry) and change_made finds it by its version; every query of one
    record's entries, traced through adding, editing, sharing, a conflict, its resolution,
    search and syncs, reads the log through an index, never the whole log."""
    import re

    from fieldcoord.store.conflicts import open_conflicts, resolve
    hub, a, b = replicas("hub"), replicas("a"), replicas("b")
    mpd = replicas("mpd", "MPD", "Metro Police Department")
    traced: list[tuple[sqlite3.Connection, str]] = []
    for r in (hub, a, b, mpd):
        r.conn.set_trace_callback(lambda sql, c=r.conn: traced.append((c, sql)))
    rid = a.add("contact", {"name": "Dana Whitfield", "agency": "CCF", "title": "Chief",
                            "phone": "360 555 0100", "scope": "private"})
    a.take_recent()
    assert a.conn.execute("SELECT count(*) FROM change INDEXED BY change_record WHERE rid = ? "
                          f"AND {byref.NOT_BYREF}", (rid,)).fetchone() == (0,)
    hlc = a.conn.execute(f"SELECT hlc FROM change WHERE {byref.of_record()}",
                         byref.record_args(rid, "contact")).fetchone()[0]
    assert a.conn.execute("SELECT rid FROM change INDEXED BY change_made WHERE hlc = ? AND "
                          f"cells = '{byref.BYREF}'", (hlc,)).fetchone() == (rid,)
    for r in (a, b):
        sync(r, StorePeer(hub))
    a.edit(rid, {"title": "Captain"})
    b.edit(rid, {"title": "Battalion Chief"})
    for r in (a, b, a):
        sync(r, StorePeer(hub))
    found = [c for c in open_conflicts(a) if c.record == rid]
    resolve(a, found[0].id, found[0].id)
    a.edit(rid, {"scope": "all"})
    a.search("dana")
    a.idle()
    for r in (a, b, mpd, a, b, mpd):
        sync(r, StorePeer(hub))
    assert mpd.get(rid).values["title"] == a.get(rid).values["title"]
    for r in (hub, a, b, mpd):
        r.conn.set_trace_callback(None)
    checked = 0
    for conn, sql in dict.fromkeys(traced):
        if not re.search(r"\bFROM change\b.*\brid\b", sql, re.DOTALL) \
                or not sql.lstrip().upper().startswith(("SELECT", "UPDATE")):
            continue
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql)]
        assert not [p for p in plan if re.match(r"SCAN (change|c)\b", p)], (sql, plan)
        checked += 1
    assert checked >= 8


def test_a_received_creation_without_an_owner_is_not_logged_by_reference(tmp_path):
    """A creation whose owner is empty makes a row the batch drops at its end (its sharing is
    not known yet): its entry keeps the cells as they came, never a reference to no row."""
    from fieldcoord.core import ids
    from fieldcoord.store.exchange import outgoing, sites_of, vector
    from fieldcoord.store.merge import Merger
    a = Store.create(tmp_path / "a.db", "Clark County Fire", "CCF", device="a")
    b = Store.create(tmp_path / "b.db", "Clark County Fire", "CCF", device="b")
    with a, b:
        rid = a.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
        a.take_recent()
        a.sign_heads()
        batch = [e for got in outgoing(a.conn, {k: 0 for k in vector(a.conn)}) for e in got]
        entry = next(e for e in batch if e.rid == rid)
        entry.rid = unbound = ids.new_id()          # (an id of an earlier version: not bound)
        entry.cells = {"owner": [""], "scope": ["all"], "name": ["Dana Whitfield"],
                       "_cl": [1]}
        with b.transaction():
            merger = Merger(b, sites_of(a.conn, batch))
            merger.prefetch(batch)
            merger.apply_all(batch)
            merger.finish()
        text, cells = stored(b, unbound)
        assert text != byref.BYREF and cells == compact.dumps(entry.cells)
