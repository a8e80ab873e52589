# SPDX-License-Identifier: GPL-3.0-or-later
"""Every write is recorded once, with versions and predecessors, in a dense per-stream log."""
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wholelog import WHOLE_LOG

from fieldcoord.core import kinds as K
from fieldcoord.core.errors import PermissionDenied, ValidationError
from fieldcoord.store import Store, byref
from fieldcoord.store.exchange import vector


def entries(store):
    rows = store.conn.execute(
        "SELECT s.audience, c.seq, c.tx, c.tbl, c.rid, c.hlc, c.site, "
        "fc_cells(c.site, c.hlc, c.tbl, c.rid, c.cells) "
        f"FROM {WHOLE_LOG} c JOIN stream s ON s.id = c.stream ORDER BY c.hlc, s.audience, c.seq")
    return [dict(audience=a, seq=q, tx=t, tbl=tb, rid=r, hlc=h, site=si, cells=json.loads(c))
            for a, q, t, tb, r, h, si, c in rows]


def replay(log):
    """Rebuild every record from the log alone: last version of each cell wins."""
    state = {}
    for e in log:
        rec = state.setdefault((e["tbl"], e["rid"]), {})
        for col, cell in e["cells"].items():
            if col in ("_seen", "_copy"):
                continue
            version = (cell[3], cell[4]) if len(cell) == 5 else (e["hlc"], e["site"])
            if col not in rec or version > rec[col][0]:
                rec[col] = (version, cell[0])
    return {key: {c: v for c, (_, v) in cols.items()} for key, cols in state.items()}


def table_state(store):
    out = {}
    for k in K.KINDS.values():
        for row in store.conn.execute(f'SELECT * FROM "{k.table}"'):
            names = [d[0] for d in store.conn.execute(f'SELECT * FROM "{k.table}" LIMIT 0')
                     .description]
            r = dict(zip(names, row))
            vals = {"owner": r["owner"], "scope": r["scope"], "_cl": r["_cl"]}
            for f in k.fields:
                if r[f.name] is not None:
                    vals[f.name] = json.loads(r[f.name]) if f.type == K.REFS else r[f.name]
            out[(k.table, r["id"])] = vals
    return out


def assert_log_complete(store):
    for index in ("search_fts", "search_digits"):   # raises if an index disagrees with its docs
        store.conn.execute(f"INSERT INTO {index} ({index}) VALUES ('integrity-check')")
    log = entries(store)
    rebuilt = {key: {c: v for c, v in cols.items() if v is not None}
               for key, cols in replay(log).items()}
    assert rebuilt == table_state(store)
    streams = {}
    for e in log:
        streams.setdefault(e["audience"], []).append(e["seq"])
    for aud, seqs in streams.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), f"gap in stream {aud}"
        assert vector(store.conn)[(store.site_uuid, aud)] == len(seqs)


def test_add_records_every_field_once(store):
    before = len(entries(store))
    cid = store.add("contact", {"name": "Dana Whitfield", "agency": "CCF", "title": "Chief"})
    log = entries(store)[before:]
    assert len(log) == 1
    e = log[0]
    assert e["tbl"] == "contact" and e["rid"] == cid and e["audience"] == "all"
    assert e["cells"] == {"name": ["Dana Whitfield"], "agency": [store.agency_id("CCF")],
                          "title": ["Chief"], "owner": ["CCF"], "scope": ["all"], "_cl": [1]}
    # stored by reference to the row, read back whole (store.byref)
    assert store.conn.execute("SELECT cells FROM change_recent WHERE rid = ?",
                              (cid,)).fetchone()[0] == byref.BYREF
    assert_log_complete(store)


def test_edit_records_changed_fields_with_predecessor(store):
    cid = store.add("contact", {"name": "Dana", "agency": "CCF", "title": "Chief"})
    created = entries(store)[-1]["hlc"]
    store.edit(cid, {"title": "Battalion Chief", "name": "Dana"})
    e = entries(store)[-1]
    assert e["cells"] == {"title": ["Battalion Chief", created, 1]}
    assert e["hlc"] > created
    store.edit(cid, {"title": "Deputy Chief"})
    assert entries(store)[-1]["cells"] == {"title": ["Deputy Chief", e["hlc"], 1]}
    n = len(entries(store))
    store.edit(cid, {"title": "Deputy Chief"})          # nothing changes: nothing recorded
    assert len(entries(store)) == n
    assert_log_complete(store)


def test_delete_and_restore_use_causal_length(store):
    cid = store.add("contact", {"name": "Dana", "agency": "CCF", "phone": "360 555 0100"})
    mid = store.list("method", {"contact": cid})[0].id
    rec = store.delete(cid)
    assert rec.deleted
    assert store.get(mid).deleted, "a contact's methods go with it"
    cells = [e["cells"] for e in entries(store)[-2:]]
    assert all(sorted(c) == ["_cl", "_seen"] and c["_cl"][0] == 2 for c in cells)
    created = entries(store)[-4]["hlc"]
    assert cells[0]["_seen"] == [{"": [created, 1]}], "a delete names the versions it saw"
    assert store.list("contact") == [] and store.search("Dana") == []
    store.restore(cid)
    assert not store.get(cid).deleted and not store.get(mid).deleted
    assert entries(store)[-1]["cells"]["_cl"][0] == 3
    assert [h.id for h in store.search("Dana", kind="contact")] == [cid]
    with pytest.raises(ValidationError, match="not deleted"):
        store.restore(cid)
    assert_log_complete(store)


def test_scope_change_sends_whole_record_to_new_audience(store):
    store.add("agency", {"name": "Metro PD", "code": "MPD"})
    cid = store.add("contact", {"name": "Dana", "agency": "CCF", "scope": "private"})
    assert entries(store)[-1]["audience"] == "CCF"
    created = entries(store)[-1]
    store.edit(cid, {"scope": "MPD", "title": "Chief"})
    latest = [e for e in entries(store) if e["hlc"] > created["hlc"]]
    old = [e for e in latest if e["audience"] == "CCF"]
    assert len(old) == 1 and set(old[0]["cells"]) == {"scope"}
    # the new audience gets the record's history, then the change itself
    shared = [e for e in latest if e["audience"] == "CCF,MPD"]
    copy, new = shared[0], shared[-1]
    assert copy["cells"]["name"] == ["Dana", None, None, created["hlc"], 1]
    assert copy["cells"]["scope"][0] is None and copy["cells"]["_copy"] == [["scope"]], \
        "a value that was replaced is not shared"
    assert new["cells"]["title"][0] == "Chief" and new["cells"]["scope"][0] == "MPD"
    assert_log_complete(store)


def test_rejected_write_changes_nothing(store):
    cid = store.add("contact", {"name": "Dana", "agency": "CCF"})
    dump, n = store.dump(), len(entries(store))
    for bad in ({"email": "nope"}, {"agency": "XYZ"}, {"name": ""}, {"colour": "red"}):
        with pytest.raises(ValidationError):
            store.edit(cid, bad)
    with pytest.raises(ValidationError):
        store.add("contact", {"name": "Eve", "agency": "CCF", "phone": ["360 555 0101", "x"]})
    assert store.dump() == dump and len(entries(store)) == n
    assert store.conn.execute("SELECT count(*) FROM contact").fetchone()[0] == 2 - 1


def test_transaction_rolls_back_as_a_whole(store):
    dump = store.dump()
    with pytest.raises(ValidationError):
        with store.transaction():
            store.add("contact", {"name": "One", "agency": "CCF"})
            store.add("contact", {"name": "Two", "agency": "NOPE"})
    assert store.dump() == dump
    with store.transaction():
        store.add("contact", {"name": "One", "agency": "CCF"})
        with pytest.raises(ValidationError):
            with store.transaction():
                store.add("contact", {"name": "Two", "agency": "NOPE"})
        store.add("contact", {"name": "Three", "agency": "CCF"})
    assert sorted(r.title for r in store.list("contact")) == ["One", "Three"]
    assert_log_complete(store)


def test_partner_records_are_read_only_unless_scope_grants_edit(store):
    store.add("agency", {"name": "Metro PD", "code": "MPD"})
    theirs = store.add("contact", {"name": "Sgt Lee", "agency": "MPD", "owner": "MPD"})
    joint = store.add("operation", {"name": "River Flood TF", "owner": "MPD",
                                    "scope": "CCF,MPD+edit"})
    dump = store.dump()
    with pytest.raises(PermissionDenied, match="maintained by MPD"):
        store.edit(theirs, {"title": "Sergeant"})
    with pytest.raises(PermissionDenied):
        store.delete(theirs)
    assert store.dump() == dump
    store.edit(joint, {"status": "closed"})
    with pytest.raises(PermissionDenied, match="owner or scope"):
        store.edit(joint, {"scope": "all"})


def test_versions_survive_reopen(tmp_path):
    path = tmp_path / "a.db"
    s = Store.create(path, "Clark County Fire", "CCF")
    cid = s.add("contact", {"name": "Dana", "agency": "CCF"})
    last = entries(s)[-1]["hlc"]
    s.close()
    s = Store.open(path)
    s.edit(cid, {"title": "Chief"})
    e = entries(s)[-1]
    assert e["hlc"] > last and e["cells"]["title"][1] == last
    assert_log_complete(s)
    s.close()


OPS = st.lists(st.tuples(st.sampled_from(["add", "edit", "delete", "restore", "scope", "bad"]),
                         st.integers(0, 50), st.text(min_size=0, max_size=12)),
               min_size=1, max_size=40)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_random_writes_are_all_recorded_once(tmp_path_factory, ops):
    store = Store.create(tmp_path_factory.mktemp("p") / "p.db", "Clark County Fire", "CCF")
    store.add("agency", {"name": "Metro PD", "code": "MPD"})
    ids, writes = [], 0
    for op, n, text in ops:
        target = ids[n % len(ids)] if ids else None
        before = len(entries(store))
        try:
            if op == "add" or target is None:
                ids.append(store.add("contact", {"name": text or "x", "agency": "CCF",
                                                 "phone": f"+1 360 555 01{n % 100:02d}"}))
            elif op == "edit":
                store.edit(target, {"title": text, "notes": text[::-1]})
            elif op == "delete":
                store.delete(target)
            elif op == "restore":
                store.restore(target)
            elif op == "scope":
                store.edit(target, {"scope": ["private", "all", "MPD", "MPD+edit"][n % 4]})
            else:
                store.edit(target, {"agency": "NOPE"})
        except ValidationError:
            assert len(entries(store)) == before
        else:
            writes += len(entries(store)) > before
    assert_log_complete(store)
    store.close()


def test_a_failed_part_leaves_no_trace_in_search(store):
    with store.transaction():
        with pytest.raises(ValidationError):
            store.add("contact", {"name": "Ghost Person", "agency": "CCF",
                                  "phone": ["360 555 0100", "not a number"]})
        store.add("contact", {"name": "Real Person", "agency": "CCF"})
    assert [h.title for h in store.search("person")] == ["Real Person"]
    assert store.conn.execute("SELECT count(*) FROM search_doc WHERE title LIKE 'Ghost%'"
                              ).fetchone()[0] == 0
    assert_log_complete(store)


def test_the_clock_moves_on_after_reopening_though_local_writes_leave_its_row(tmp_path):
    from fieldcoord.store import Store
    s = Store.create(tmp_path / "c.db", "Clark County Fire", "CCF")
    row = s.conn.execute("SELECT hlc FROM clock").fetchone()[0]
    rid = s.add("contact", {"name": "Dana", "agency": "CCF"})
    for title in ("Captain", "Chief", "Medic"):
        s.edit(rid, {"title": title})
    assert s.conn.execute("SELECT hlc FROM clock").fetchone()[0] == row
    last = s.conn.execute(f"SELECT max(hlc) FROM {WHOLE_LOG}").fetchone()[0]
    s.close()
    again = Store.open(tmp_path / "c.db")
    try:
        again.edit(rid, {"title": "Lieutenant"})
        newest = again.conn.execute(f"SELECT max(hlc) FROM {WHOLE_LOG}").fetchone()[0]
        assert newest > last
    finally:
        again.close()


def test_local_writes_leave_the_streams_row_and_sending_settles_it(tmp_path):
    """A small local write leaves its stream's row (position, chain hash) behind; the vector
    reads the newest entry all the same, another connection writing after a crash continues
    the stream without a gap, and before anything is sent the row holds the position and the
    chain hash the entries give (what every receiver recomputes)."""
    from fieldcoord.store import identity, trust
    s = Store.create(tmp_path / "c.db", "Clark County Fire", "CCF")
    s.sign_heads()
    sid, settled = s.conn.execute("SELECT id, seq FROM stream WHERE origin = 1").fetchone()
    rid = s.add("contact", {"name": "Dana", "agency": "CCF"})
    for title in ("Captain", "Chief", "Medic"):
        s.edit(rid, {"title": title})
    assert s.conn.execute("SELECT seq FROM stream WHERE id = ?", (sid,)).fetchone()[0] \
        == settled
    assert vector(s.conn)[(s.site_uuid, "all")] == settled + 4
    assert s.held_changes() == settled + 4
    s.conn.close()                                  # gone without closing
    again = Store.open(tmp_path / "c.db")
    try:
        again.edit(rid, {"title": "Lieutenant"})
        seqs = [r[0] for r in again.conn.execute(
            f"SELECT seq FROM {WHOLE_LOG} WHERE stream = ? ORDER BY seq", (sid,))]
        assert seqs == list(range(1, settled + 6))
        again.sign_heads()
        seq, h = again.conn.execute("SELECT seq, hash FROM stream WHERE id = ?",
                                    (sid,)).fetchone()
        uuids = dict(again.conn.execute("SELECT ord, uuid FROM site"))
        chain = trust.ZERO
        for row in again.conn.execute("SELECT tx, tbl, rid, hlc, site, "
                                      "fc_cells(site, hlc, tbl, rid, cells) FROM change "
                                      "WHERE stream = ? ORDER BY seq", (sid,)):
            chain = trust.chain(chain, identity.stored_digest(tuple(row), uuids.get))
        assert (seq, bytes(h)) == (settled + 5, chain)
        assert again.conn.execute("SELECT max(seq) FROM head WHERE stream = ?",
                                  (sid,)).fetchone()[0] == seq
    finally:
        again.close()
