# SPDX-License-Identifier: GPL-3.0-or-later
"""A large sync indexes what it received for search once, at the end; a replica stopped half way
indexes when next opened. Either way search finds every received record."""
import pytest

from fieldcoord.store import Store, exchange, trust
from fieldcoord.store.exchange import apply_batch, outgoing, sites_of, vector
from fieldcoord.sync import engine
from fieldcoord.sync.engine import StorePeer, sync


def _hub_with_contacts(replicas, n=40, name="hub"):
    hub = replicas(name)
    with hub.transaction():
        for i in range(n):
            hub.add("contact", {"name": f"Responder {i:03d}", "agency": "CCF",
                                "phone": f"+1 202 555 {i:04d}", "scope": "all"})
    return hub


def test_a_large_sync_indexes_once_and_search_finds_everything(replicas, monkeypatch):
    monkeypatch.setattr(engine, "DEFER_SEARCH_AT", 10)
    hub = _hub_with_contacts(replicas)
    laptop = replicas("laptop")
    seen = []
    sync(laptop, StorePeer(hub), progress=lambda label, v, m: seen.append(label))
    assert "indexing for search" in seen
    assert not laptop.search_deferred
    assert [h.title for h in laptop.search("Responder 017")] == ["Responder 017"]
    assert [h.title for h in laptop.search("555 0033")] == ["Responder 033"]
    laptop.conn.execute("INSERT INTO search_fts (search_fts) VALUES ('integrity-check')")


def test_a_small_sync_indexes_as_it_goes(replicas, monkeypatch):
    progress = []
    hub = _hub_with_contacts(replicas, 5)
    laptop = replicas("laptop")
    sync(laptop, StorePeer(hub), progress=lambda label, v, m: progress.append(label))
    assert "indexing for search" not in progress
    assert [h.title for h in laptop.search("Responder 004")] == ["Responder 004"]


def test_a_replica_stopped_half_way_indexes_when_opened(replicas, tmp_path, monkeypatch):
    monkeypatch.setattr(trust, "HEAD_EVERY", 1)     # batches may end after any entry
    hub = _hub_with_contacts(replicas)
    path = tmp_path / "cut.db"
    laptop = replicas("cut")
    laptop.defer_search()
    hub.sign_heads()   # the newest entries are signed when sent
    batches = list(outgoing(hub.conn, {k: 0 for k in vector(hub.conn)}, max_bytes=2000))
    assert len(batches) > 2
    apply_batch(laptop, batches[0], sites_of(hub.conn, batches[0]))
    laptop.close()                                  # stopped before it caught up
    reopened = Store.open(path)
    try:
        assert not reopened.search_deferred
        first = next(e for e in batches[0] if e.tbl == "contact")
        name = first.cells["name"][0]
        assert [h.title for h in reopened.search(name)] == [name]
    finally:
        reopened.close()


def test_a_cancelled_large_sync_still_leaves_search_whole(replicas, monkeypatch):
    import threading

    from fieldcoord.core.errors import Cancelled
    monkeypatch.setattr(engine, "DEFER_SEARCH_AT", 10)
    monkeypatch.setattr(exchange, "BATCH_BYTES", 2000)
    hub = _hub_with_contacts(replicas)
    laptop = replicas("laptop")
    stop = threading.Event()

    def progress(label, value, maximum):
        if label == "receiving":
            stop.set()

    with pytest.raises(Cancelled):
        sync(laptop, StorePeer(hub), progress=progress, cancel=stop)
    assert not laptop.search_deferred
    held = [r[0] for r in laptop.conn.execute("SELECT name FROM contact")]
    assert held
    for name in held:
        assert [h.title for h in laptop.search(name)] == [name]


def _indexes(store) -> set:
    return {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}


def test_a_first_sync_sets_list_indexes_aside_and_builds_them_again(replicas, monkeypatch):
    from fieldcoord.store.replica import DEFERRABLE_INDEXES
    monkeypatch.setattr(engine, "DEFER_SEARCH_AT", 10)
    monkeypatch.setattr(exchange, "BATCH_BYTES", 2000)
    hub = _hub_with_contacts(replicas)
    laptop = replicas("laptop")
    during = []

    def progress(label, value, maximum):
        if label == "receiving":
            during.append(set(DEFERRABLE_INDEXES) & _indexes(laptop))

    sync(laptop, StorePeer(hub), progress=progress)
    assert during and during[0] == set()           # set aside while the batches came in
    assert set(DEFERRABLE_INDEXES) <= _indexes(laptop)
    plan = laptop.conn.execute("EXPLAIN QUERY PLAN SELECT id FROM contact ORDER BY "
                               "coalesce(name, '') COLLATE NOCASE, id LIMIT 5").fetchall()
    assert "contact_by_name" in str(plan)
    # built again as the latest schema has it: search_doc's title index stays partial
    sql = laptop.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'search_doc_by_title'"
                              ).fetchone()[0]
    assert "WHERE docid >> 32 NOT IN (0, 1, 3, 4)" in sql
    assert laptop.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_sync_smaller_than_what_a_replica_holds_keeps_its_indexes(replicas, monkeypatch):
    from fieldcoord.store.replica import DEFERRABLE_INDEXES
    monkeypatch.setattr(engine, "DEFER_SEARCH_AT", 10)
    monkeypatch.setattr(exchange, "BATCH_BYTES", 2000)
    laptop = _hub_with_contacts(replicas, 60, "laptop")     # holds 120 changes
    hub = replicas("hub")
    with hub.transaction():
        for i in range(20):
            hub.add("contact", {"name": f"Partner {i:03d}", "agency": "CCF", "scope": "all"})
    during = []

    def progress(label, value, maximum):
        if label == "receiving":
            during.append(set(DEFERRABLE_INDEXES) <= _indexes(laptop))

    sync(laptop, StorePeer(hub), progress=progress)
    assert during and all(during)
    assert [h.title for h in laptop.search("Partner 007")] == ["Partner 007"]


def test_indexes_set_aside_by_a_stopped_sync_are_built_when_opened(replicas, tmp_path):
    from fieldcoord.store.replica import DEFERRABLE_INDEXES
    hub = _hub_with_contacts(replicas)
    path = tmp_path / "cut.db"
    laptop = Store.create(path, "Clark County Fire", "CCF", device="cut")
    laptop.defer_search(indexes=True)
    assert not set(DEFERRABLE_INDEXES) & _indexes(laptop)
    hub.sign_heads()   # the newest entries are signed when sent
    batch = next(outgoing(hub.conn, {k: 0 for k in vector(hub.conn)}))
    apply_batch(laptop, batch, sites_of(hub.conn, batch))
    laptop.close()
    reopened = Store.open(path)
    try:
        assert set(DEFERRABLE_INDEXES) <= _indexes(reopened)
        assert not reopened.search_deferred
        assert reopened.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        reopened.close()
