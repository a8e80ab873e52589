# SPDX-License-Identifier: GPL-3.0-or-later
"""The entries of small writes (one record added, edited, deleted or restored in a transaction
of its own) wait in change_recent and join the change log at the next transaction of any other
kind, the idle moment, signing before sending, or closing: nothing reads the log without them."""
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wholelog import WHOLE_LOG

from fieldcoord.core.errors import ValidationError
from fieldcoord.store import Store, changelog
from fieldcoord.store.exchange import vector
from fieldcoord.sync.engine import StorePeer, sync


def waiting(store):
    return store.conn.execute("SELECT count(*) FROM change_recent").fetchone()[0]


def logged(store):
    return store.conn.execute("SELECT count(*) FROM change").fetchone()[0]


def dense(store):
    """Every stream's positions are 1..n, each held once, in the log or waiting."""
    rows = store.conn.execute(f"SELECT stream, seq FROM {WHOLE_LOG} ORDER BY stream, seq"
                              ).fetchall()
    assert len(rows) == len(set(rows))
    streams: dict[int, list[int]] = {}
    for sid, seq in rows:
        streams.setdefault(sid, []).append(seq)
    for seqs in streams.values():
        assert seqs == list(range(1, len(seqs) + 1))


def test_small_writes_wait_and_any_other_transaction_takes_them_in_order(store):
    store.take_recent()
    before = logged(store)
    cid = store.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
    store.edit(cid, {"title": "Captain"})
    store.edit(cid, {"title": "Chief"})
    assert waiting(store) == 3 and logged(store) == before
    # what the replica holds counts them: its vector and held changes
    assert vector(store.conn)[(store.site_uuid, "all")] == store.held_changes() == before + 3
    order = store.conn.execute("SELECT seq, cells FROM change_recent ORDER BY id").fetchall()
    store.write(lambda: store.add("contact", {"name": "Lee Park", "agency": "CCF"}))
    assert waiting(store) == 0 and logged(store) == before + 4
    assert store.conn.execute(
        "SELECT seq, cells FROM change WHERE seq IN (?, ?, ?) ORDER BY seq",
        [s for s, _ in order]).fetchall() == order
    dense(store)


def test_the_idle_moment_takes_them_and_search_finds_the_edit(store):
    store.take_recent()
    cid = store.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
    store.edit(cid, {"title": "Harbormaster"})
    assert waiting(store) == 2
    store.idle()
    assert waiting(store) == 0
    assert [h.id for h in store.search("harbormaster")] == [cid]
    dense(store)


def test_closing_takes_them(tmp_path):
    s = Store.create(tmp_path / "c.db", "Clark County Fire", "CCF")
    s.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
    s.close()
    again = Store.open(tmp_path / "c.db")
    assert waiting(again) == 0
    again.close()


def test_entries_a_crash_left_waiting_continue_the_stream_and_reach_the_hub(replicas):
    hub, laptop = replicas("hub"), replicas("laptop")
    sync(laptop, StorePeer(hub))
    cid = laptop.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
    laptop.edit(cid, {"title": "Captain"})
    path = laptop.path
    last = laptop.conn.execute("SELECT max(hlc) FROM change_recent").fetchone()[0]
    laptop.conn.close()                             # gone without closing
    again = Store.open(path)
    try:
        assert waiting(again) == 2
        again.edit(cid, {"title": "Chief"})         # a version above those waiting
        assert again.conn.execute("SELECT max(hlc) FROM change_recent").fetchone()[0] > last
        dense(again)
        sync(again, StorePeer(hub))
        assert waiting(again) == 0
        assert hub.get(cid).values["title"] == "Chief"
        assert hub.dump() == again.dump()
    finally:
        again.close()


def test_a_program_writing_without_pause_takes_them_at_the_bound(store, monkeypatch):
    monkeypatch.setattr(changelog, "RECENT_MAX", 5)
    store.take_recent()
    cid = store.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
    for n in range(4):
        store.edit(cid, {"title": f"Captain {n}"})
    assert waiting(store) == 5
    store.edit(cid, {"title": "Chief"})             # finds 5 waiting: takes them, then writes
    assert waiting(store) == 0
    dense(store)


def test_a_small_write_that_fails_leaves_nothing_waiting(store):
    store.take_recent()
    store.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
    with pytest.raises(ValidationError):
        store.add("contact", {"name": "Ghost", "agency": "CCF",
                              "phone": ["360 555 0100", "not a number"]})
    assert waiting(store) == 1
    store.add("contact", {"name": "Lee Park", "agency": "CCF"})
    assert waiting(store) == 2
    dense(store)


def test_a_regional_hub_style_replica_keeps_none_waiting(store):
    store.lazy_streams = False                      # (a PostgreSQL hub's writes settle at once)
    store.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
    assert waiting(store) == 0


# A statement that reads or appends to the change log alone (not change_recent with it).
_LOG_ALONE = re.compile(r"\b(FROM|JOIN|INTO)\s+\"?change\"?(?![_\w])", re.IGNORECASE)


def test_no_statement_reads_the_log_while_entries_wait(replicas):
    """Every statement the store runs, traced, through the writes that read the log inside a
    small write (a scope change copying a record's history, an edit of a record with
    conflicts, a request moving through its workflow), sending, syncing, searching and a
    request's history: none reads or appends to `change` alone while entries wait in
    change_recent."""
    hub, a, b = replicas("hub"), replicas("a"), replicas("b")
    seen: list[str] = []

    def watch(store):
        def trace(sql):
            if "change_recent" in sql or not _LOG_ALONE.search(sql):
                return
            p = store.log.pending
            waiting_now = p.recent if p is not None else store.log._recent
            if waiting_now:
                seen.append(sql)
        store.conn.set_trace_callback(trace)

    watch(a)
    watch(b)
    cid = a.add("contact", {"name": "Dana Whitfield", "agency": "CCF", "phone": "360 555 0100"})
    sync(a, StorePeer(hub))
    sync(b, StorePeer(hub))
    a.edit(cid, {"title": "Captain"})
    b.edit(cid, {"title": "Chief"})                 # concurrent: a conflict after the syncs
    for s in (a, b, a, b):
        sync(s, StorePeer(hub))
    assert a.conn.execute("SELECT count(*) FROM conflict").fetchone()[0] == 1
    a.edit(cid, {"title": "Battalion Chief"})       # a record with conflicts: recounted
    a.edit(cid, {"scope": "private"})               # its history copied to a new audience
    a.edit(cid, {"scope": "all"})
    a.delete(cid)
    a.restore(cid)
    res = a.add("resource", {"name": "Engine 41", "type_name": "Engine", "agency": "CCF"})
    req = a.add("request", {"description": "Engine for the fairgrounds",
                            "requesting_agency": "CCF"})
    for status in ("acknowledged", "committed", "en_route", "on_scene", "demobilized", "returned"):
        a.edit(req, {"status": status, "committed_resources": [res], "supplying_agency": "CCF"})
    assert [s.status for s in a.request_history(req)][-1] == "returned"
    assert a.search("fairgrounds")
    sync(a, StorePeer(hub))
    assert seen == []
    assert waiting(a) == 0
    dense(a)


def test_moving_them_into_a_full_disk_leaves_no_transaction_open(tmp_path):
    """The first statement of a transaction may be the move: when the disk is full it fails,
    says so plainly, leaves the entries waiting and the store ready for the next write."""
    from fieldcoord.core.failures import DiskFull
    with Store.create(tmp_path / "ccf.db", "Clark County Fire", "CCF") as store:
        store.take_recent()
        for n in range(60):
            store.add("contact", {"name": f"Dana Whitfield {n}", "agency": "CCF",
                                  "notes": "x" * 2_000})
        assert waiting(store) == 60
        pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
        store.conn.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(DiskFull):
            store.write(lambda: store.add("contact", {"name": "Lee Park", "agency": "CCF"}))
        assert not store.conn.in_transaction and waiting(store) == 60
        store.conn.execute("PRAGMA max_page_count = 1073741823")
        store.write(lambda: store.add("contact", {"name": "Lee Park", "agency": "CCF"}))
        assert waiting(store) == 0
        dense(store)


STEPS = st.lists(st.tuples(
    st.sampled_from(["add", "edit", "scope", "delete", "restore", "batch", "idle", "crash",
                     "sync", "hub_edit"]),
    st.integers(0, 30)), min_size=1, max_size=30)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_any_mix_of_small_writes_and_the_rest_loses_nothing(tmp_path_factory, steps):
    """Small writes, transactions of other kinds, idle moments, crashes (the connection gone
    without closing) and syncs with a hub that edits too, in any order: every stream stays
    dense, nothing waits after a sync, and laptop and hub end with the same records."""
    from region import Region
    folder = tmp_path_factory.mktemp("r")
    region = Region()
    hub = region.make(folder / "hub.db", "CCF", device="hub")
    lap = region.make(folder / "lap.db", "CCF", device="lap")
    ids: list[str] = []
    try:
        for step, n in steps:
            target = ids[n % len(ids)] if ids else None
            try:
                if step == "add" or target is None:
                    ids.append(lap.add("contact", {"name": f"Person {n}", "agency": "CCF",
                                                   "phone": f"360 555 01{n:02d}"}))
                elif step == "edit":
                    lap.edit(target, {"title": f"Title {n}"})
                elif step == "scope":
                    lap.edit(target, {"scope": ["private", "all"][n % 2]})
                elif step == "delete":
                    lap.delete(target)
                elif step == "restore":
                    lap.restore(target)
                elif step == "batch":
                    with lap.transaction():         # (an import, say: not small)
                        for i in range(3):
                            lap.add("contact", {"name": f"Batch {n} {i}", "agency": "CCF"})
                elif step == "idle":
                    lap.idle()
                elif step == "crash":
                    path = lap.path
                    lap.conn.close()
                    region.replicas.remove(lap)
                    lap = Store.open(path)
                    region.replicas.append(lap)
                elif step == "sync":
                    sync(lap, StorePeer(hub))
                    assert waiting(lap) == 0
                elif step == "hub_edit":
                    sync(lap, StorePeer(hub))
                    hub.edit(target, {"notes": f"from the hub {n}"})
            except ValidationError:
                pass                    # (deleting a deleted record, restoring a live one)
            dense(lap)
        for _ in range(2):
            sync(lap, StorePeer(hub))
        assert hub.dump() == lap.dump()
        assert waiting(lap) == 0
    finally:
        for s in region.replicas:
            s.close()


def test_closing_on_a_full_disk_keeps_them_for_later(tmp_path):
    path = tmp_path / "ccf.db"
    store = Store.create(path, "Clark County Fire", "CCF")
    store.take_recent()
    for n in range(60):
        store.add("contact", {"name": f"Dana Whitfield {n}", "agency": "CCF", "notes": "x" * 2_000})
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")
    store.take_recent()                             # quietly: the disk is full
    assert waiting(store) == 60
    store.close()                                   # (says so in the log, raises nothing)
    again = Store.open(path)
    try:
        again.write(lambda: again.add("contact", {"name": "Lee Park", "agency": "CCF"}))
        assert waiting(again) == 0
        dense(again)
    finally:
        again.close()


def test_a_snapshot_carrying_waiting_entries_brings_none_of_them(replicas, tmp_path):
    """A hub's snapshot never holds entries waiting in change_recent (it moves them into the
    log it redacts). One that does, edited on the way, has them dropped when a laptop makes it
    its own: they would join the laptop's log unchecked, as if it had written them."""
    import shutil

    from fieldcoord.sync import snapshot
    hub, laptop = replicas("hub"), replicas("laptop")
    hub.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
    assert waiting(hub) == 1
    built = snapshot.build(hub.conn, "CCF", hub.path, hub.site_uuid)
    copy = tmp_path / "copy.db"
    shutil.move(built.path, copy)
    import sqlite3
    c = sqlite3.connect(copy, isolation_level=None)
    assert c.execute("SELECT count(*) FROM change_recent").fetchone()[0] == 0
    assert c.execute("SELECT count(*) FROM change").fetchone()[0] > 0
    c.execute("INSERT INTO change_recent (stream, seq, tx, tbl, rid, hlc, site, cells) "
              "VALUES (1, 999, 1, 'contact', 'forged', 1, 2, '{}')")
    c.close()
    assert snapshot._prepare(laptop, copy) is None
    c = sqlite3.connect(copy)
    assert c.execute("SELECT count(*) FROM change_recent").fetchone()[0] == 0
    c.close()
