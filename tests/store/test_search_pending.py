# SPDX-License-Identifier: GPL-3.0-or-later
"""Full-text index entries written at idle: a small write keeps the search document current and
leaves its index entries pending; search reads pending documents from a temporary index, so it
finds what was just written and nothing that was overwritten; index_pending (at idle, on close,
or when enough are pending) brings the indexes up to date and they match the documents."""
import shutil
from contextlib import contextmanager

from fieldcoord.store import Store
from fieldcoord.store import search as fts
from fieldcoord.store.db import connect


def titles(store, text):
    return [h.title for h in store.search(text)]


def pending(store):
    return fts.pending_count(store.conn)


@contextmanager
def writer_busy(store):
    """Another connection holds the write lock (a sync applying a batch): a search cannot
    write the pending entries first and reads them from its temporary index."""
    other = connect(store.path)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def consistent(store):
    """The indexes hold exactly the documents (FTS5's check against its content table)."""
    for index in ("search_fts", "search_digits"):
        store.conn.execute(f"INSERT INTO {index} ({index}, rank) VALUES ('integrity-check', 1)")


def test_an_edit_is_found_at_once_and_its_old_words_are_not(store):
    rid = store.add("contact", {"name": "Dana Whitfield", "agency": "CCF", "title": "Captain",
                                "phone": "360 555 0100"})
    assert pending(store) >= 1
    assert titles(store, "whitfield") == ["Dana Whitfield"]
    assert titles(store, "5550100") == ["Dana Whitfield"]
    store.index_pending()
    assert pending(store) == 0
    consistent(store)
    store.edit(rid, {"name": "Dana Okafor"})
    assert pending(store) == 1
    with writer_busy(store):
        assert titles(store, "okafor") == ["Dana Okafor"]
        assert titles(store, "whitfield") == [], "the index's stale entry is not shown"
        assert titles(store, "5550100") == ["Dana Okafor"]
    store.edit(rid, {"name": "Dana Mbeki"})        # twice pending: the first indexed words kept
    with writer_busy(store):
        assert titles(store, "okafor") == [] and titles(store, "mbeki") == ["Dana Mbeki"]
    assert pending(store) == 1
    assert titles(store, "mbeki") == ["Dana Mbeki"]       # written first, when it can be
    assert pending(store) == 0
    store.index_pending()
    consistent(store)
    assert titles(store, "mbeki") == ["Dana Mbeki"] and titles(store, "whitfield") == []


def test_a_deleted_record_and_a_reused_document_number(store):
    a = store.add("contact", {"name": "Avery Stone", "agency": "CCF"})
    store.index_pending()
    store.delete(a)
    with writer_busy(store):
        assert titles(store, "stone") == []
    # a new document may take the number of the one just deleted
    store.add("contact", {"name": "Blake Rivers", "agency": "CCF"})
    with writer_busy(store):
        assert titles(store, "rivers") == ["Blake Rivers"] and titles(store, "stone") == []
    store.index_pending()
    consistent(store)
    assert titles(store, "rivers") == ["Blake Rivers"] and titles(store, "stone") == []
    store.restore(a)
    assert titles(store, "stone") == ["Avery Stone"]


def test_pending_entries_are_written_when_enough_wait_and_on_closing(tmp_path):
    store = Store.create(tmp_path / "x.db", "Clark County Fire", "CCF")
    for i in range(fts.PENDING_MAX + 5):
        store.add("contact", {"name": f"Person {i}", "agency": "CCF"})
        assert pending(store) < fts.PENDING_MAX
    assert pending(store) > 0
    store.close()
    again = Store.open(tmp_path / "x.db")
    try:
        assert pending(again) == 0
        consistent(again)
        assert titles(again, "person 204") == ["Person 204"]
    finally:
        again.close()


def test_pending_entries_survive_a_crash(tmp_path):
    store = Store.create(tmp_path / "x.db", "Clark County Fire", "CCF")
    store.add("contact", {"name": "Casey Moreno", "agency": "CCF"})
    store.conn.close()                         # gone without closing the store
    again = Store.open(tmp_path / "x.db")
    try:
        assert pending(again) >= 1
        with writer_busy(again):
            assert titles(again, "moreno") == ["Casey Moreno"]
        assert pending(again) >= 1
        again.index_pending()
        consistent(again)
    finally:
        again.close()


def test_a_large_write_indexes_at_once(store):
    store.index_pending()
    with store.transaction():
        for i in range(fts.PENDING_TX + 1):
            store.add("contact", {"name": f"Bulk {i}", "agency": "CCF"})
    assert pending(store) == 0
    consistent(store)


def test_a_pending_document_is_found_by_its_first_letters_and_an_agency_by_its_code(store):
    store.index_pending()
    store.add("agency", {"name": "Zephyr Valley Water", "code": "ZVW", "level": "local"})
    rid = store.add("contact", {"name": "Quinn Zabala", "agency": "ZVW"})
    with writer_busy(store):
        assert titles(store, "zvw")[0] == "Zephyr Valley Water"
        assert "Quinn Zabala" in titles(store, "q")
    store.edit(rid, {"name": "Quinn Adeyemi"})
    with writer_busy(store):
        assert "Quinn Adeyemi" in titles(store, "q")
        assert "Quinn Zabala" not in titles(store, "q")
    store.index_pending()
    consistent(store)
    assert "Quinn Adeyemi" in titles(store, "q")


def test_a_larger_write_after_pending_ones_keeps_the_newest_document(store):
    """A pending edit, then one transaction touching more documents than are left pending
    (written to the indexes at once): the older pending document must not come back."""
    rid = store.add("contact", {"name": "Robin Hale", "agency": "CCF"})
    store.edit(rid, {"name": "Robin Ashby"})
    assert pending(store) >= 1
    with store.transaction():
        store.edit(rid, {"name": "Robin Castell"})
        for i in range(fts.PENDING_TX + 1):
            store.add("contact", {"name": f"Filler {i}", "agency": "CCF"})
    assert pending(store) == 0
    consistent(store)
    store.index_pending()
    assert titles(store, "robin") == ["Robin Castell"]
    assert titles(store, "ashby") == [] and titles(store, "hale") == []


def test_a_write_back_to_what_is_indexed_replaces_the_pending_document(store):
    rid = store.add("contact", {"name": "Sam Ortiz", "agency": "CCF"})
    store.index_pending()
    store.edit(rid, {"name": "Sam Ortega"})
    store.edit(rid, {"name": "Sam Ortiz"})
    with writer_busy(store):
        assert titles(store, "ortega") == [] and titles(store, "ortiz") == ["Sam Ortiz"]
    store.index_pending()
    consistent(store)
    assert titles(store, "ortega") == [] and titles(store, "ortiz") == ["Sam Ortiz"]


def crashed_and_reopened(store):
    """The app stopped without closing the store (power lost): a new one opens the file."""
    path = store.path
    store.conn.close()
    return Store.open(path)


def test_a_small_write_leaves_search_alone_and_its_entries_say_what_is_stale(store):
    """A small write of this replica's own writes nothing for search: not search_doc, not the
    indexes, not search_pending; its change-log entries are what is pending."""
    rid = store.add("contact", {"name": "Jordan Pike", "agency": "CCF"})
    store.index_pending()
    before = [store.conn.execute(f"SELECT count(*), total(length(title)) FROM {t}").fetchone()
              for t in ("search_doc", "search_pending")]
    store.edit(rid, {"name": "Jordan Quill"})
    after = [store.conn.execute(f"SELECT count(*), total(length(title)) FROM {t}").fetchone()
             for t in ("search_doc", "search_pending")]
    assert after == before
    assert fts.stale_local(store.conn, fts.local_tails(store.conn, store.self_ord)) \
        == [("contact", rid)]
    assert titles(store, "quill") == ["Jordan Quill"] and titles(store, "pike") == []


def test_a_line_moved_to_another_contact_before_a_crash(tmp_path):
    store = Store.create(tmp_path / "x.db", "Clark County Fire", "CCF")
    a = store.add("contact", {"name": "Morgan Avila", "agency": "CCF"})
    b = store.add("contact", {"name": "Riley Brandt", "agency": "CCF"})
    line = store.add("method", {"contact": a, "kind": "phone", "value": "360 555 0177"})
    store.index_pending()
    assert titles(store, "5550177") == ["Morgan Avila"]
    store.edit(line, {"contact": b})
    again = crashed_and_reopened(store)
    try:
        with writer_busy(again):
            assert titles(again, "5550177") == ["Riley Brandt"]
        again.index_pending()
        consistent(again)
        assert titles(again, "5550177") == ["Riley Brandt"]
        assert pending(again) == 0
    finally:
        again.close()


def test_an_agency_renamed_before_a_crash_renames_its_people_in_search(tmp_path):
    store = Store.create(tmp_path / "x.db", "Clark County Fire", "CCF")
    ag = store.add("agency", {"name": "Ashford Rescue", "code": "ASR", "level": "local"})
    store.add("contact", {"name": "Kai Lindqvist", "agency": "ASR"})
    store.index_pending()
    store.edit(ag, {"name": "Birchwood Rescue"})
    again = crashed_and_reopened(store)
    try:
        with writer_busy(again):
            assert "Kai Lindqvist" in titles(again, "birchwood")
            assert "Kai Lindqvist" not in titles(again, "ashford")
        again.index_pending()
        consistent(again)
        assert "Kai Lindqvist" in titles(again, "birchwood")
        assert titles(again, "ashford") == []
    finally:
        again.close()


def test_another_connection_writing_at_once_brings_in_what_this_one_left(store):
    """A sync worker's large write (its own connection) writes search_doc directly: the
    documents this connection's small writes left stale are brought up to date with it."""
    rid = store.add("contact", {"name": "Parker Novak", "agency": "CCF"})
    store.index_pending()
    store.edit(rid, {"name": "Parker Yilmaz"})
    other = Store.open(store.path)
    try:
        with other.transaction():
            for i in range(fts.PENDING_TX + 1):
                other.add("contact", {"name": f"Batch {i}", "agency": "CCF"})
        assert pending(other) == 0
        consistent(other)
        assert titles(other, "yilmaz") == ["Parker Yilmaz"] and titles(other, "novak") == []
    finally:
        other.close()
    assert pending(store) == 0
    assert titles(store, "yilmaz") == ["Parker Yilmaz"]


def test_idle_indexes_and_copies_the_log_into_the_database(store):
    """What the desktop app does after a few idle seconds: the pending documents are indexed
    and the write-ahead log is copied into the database file, so that no later commit pays
    for it."""
    assert store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 4000
    store.index_pending()
    for i in range(20):
        store.add("contact", {"name": f"Idle {i}", "agency": "CCF"})
    assert pending(store) == 20
    store.add("contact", {"name": "Idle last", "agency": "CCF"})
    assert store.idle() == 21
    assert pending(store) == 0
    consistent(store)
    # the database file alone, without its log, holds the records and their index entries
    alone = store.path.parent / "alone.db"
    shutil.copyfile(store.path, alone)
    other = connect(alone)
    try:
        assert [h.title for h in fts.search(other, "idle last")] == ["Idle last"]
    finally:
        other.close()
    assert store.idle() == 0                  # nothing waits: nothing to do


def test_people_received_and_not_yet_indexed_follow_their_agency_renamed_here(tmp_path):
    """A contact a sync brought (its document noted, not written yet) shows its agency's new
    name once the agency is renamed here; people added with a new agency in one transaction
    are found by its name too."""
    from fieldcoord.sync.engine import StorePeer, sync
    a = Store.create(tmp_path / "a.db", "Clark County Fire", "CCF", device="a")
    b = Store.create(tmp_path / "b.db", "Clark County Fire", "CCF", device="b")
    try:
        sync(a, StorePeer(b))
        mpd = a.add("agency", {"name": "Metro Police Department", "code": "MPD"})
        a.add("contact", {"name": "Kai Mendez", "agency": "MPD", "scope": "all"})
        sync(b, StorePeer(a))
        assert b.conn.execute("SELECT count(*) FROM search_pending").fetchone()[0] >= 1
        b.edit(mpd, {"name": "Metro Transit Police"})
        with writer_busy(b):
            assert titles(b, "transit") == ["Metro Transit Police", "Kai Mendez"]
        assert titles(b, "transit") == ["Metro Transit Police", "Kai Mendez"]
        assert "Kai Mendez" not in titles(b, "department")
        consistent(b)
        with b.transaction():
            b.add("agency", {"name": "Harbor Ferry Service", "code": "HFS"})
            for i in range(60):              # (a large write: documents written at once)
                b.add("contact", {"name": f"Deckhand {i}", "agency": "HFS"})
        assert len([t for t in titles(b, "ferry") if t.startswith("Deckhand")]) >= 19
    finally:
        a.close()
        b.close()
