# SPDX-License-Identifier: GPL-3.0-or-later
"""The window writes the search index entries that small writes left for later once idle."""
from fieldcoord.store import search as fts
from fieldcoord.ui import record_actions


def test_the_window_writes_pending_search_entries_once_idle(window, qtbot, monkeypatch):
    monkeypatch.setattr(record_actions, "INDEX_IDLE_MS", 50)
    store = window.store
    store.index_pending()
    req = next(r for r in store.list("request") if r.values.get("number") == "TRF-005")
    window.step_record(req.id, "acknowledged")
    assert fts.pending_count(store.conn) >= 1
    assert [h.id for h in store.search("TRF-005")][:1] == [req.id]
    qtbot.waitUntil(lambda: fts.pending_count(store.conn) == 0, timeout=3000)
    assert [h.id for h in store.search("TRF-005")][:1] == [req.id]


def test_the_window_copies_the_log_into_the_database_once_idle(window, qtbot, monkeypatch,
                                                                tmp_path):
    """The same idle moment checkpoints: the database file alone (without its write-ahead
    log) then holds the change just made, and no later save pays for copying it."""
    import shutil
    import sqlite3
    monkeypatch.setattr(record_actions, "INDEX_IDLE_MS", 50)
    store = window.store
    req = next(r for r in store.list("request") if r.values.get("number") == "TRF-005")

    def status_in_file_alone() -> str:
        alone = tmp_path / "alone.db"
        shutil.copyfile(store.path, alone)
        c = sqlite3.connect(alone)
        try:
            return c.execute("SELECT status FROM resource_request WHERE id = ?",
                             (req.id,)).fetchone()[0]
        finally:
            c.close()
            alone.unlink()

    window.step_record(req.id, "acknowledged")
    assert status_in_file_alone() != "acknowledged"     # still only in the log
    qtbot.waitUntil(lambda: status_in_file_alone() == "acknowledged", timeout=3000)


def test_the_idle_moment_never_waits_for_a_sync_holding_the_database(window, qtbot,
                                                                      monkeypatch):
    """A sync writes through a connection of its own. When the idle moment comes while it holds
    the database, the window does not wait for it (its connection would wait up to 10 s): the
    entries are written off the GUI thread once the sync lets go."""
    import time

    from fieldcoord.store.db import connect
    monkeypatch.setattr(record_actions, "INDEX_IDLE_MS", 50)
    store = window.store
    req = next(r for r in store.list("request") if r.values.get("number") == "TRF-005")
    window.step_record(req.id, "acknowledged")
    assert fts.pending_count(store.conn) >= 1
    window._index_timer.stop()
    sync = connect(store.path)
    sync.execute("BEGIN IMMEDIATE")             # as a sync's transaction holds it
    try:
        t0 = time.perf_counter()
        window._index_pending()
        assert time.perf_counter() - t0 < 0.5, "the GUI thread waited for the sync"
        qtbot.wait(300)
        assert fts.pending_count(store.conn) >= 1
    finally:
        sync.execute("ROLLBACK")
        sync.close()
    qtbot.waitUntil(lambda: fts.pending_count(store.conn) == 0, timeout=15000)
