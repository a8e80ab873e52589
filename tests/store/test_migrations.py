# SPDX-License-Identifier: GPL-3.0-or-later
"""The schema migrates forward from its first version, keeping every record."""
import json

import pytest
from wholelog import WHOLE_LOG

from fieldcoord.core.errors import NotInitialised
from fieldcoord.store import Store
from fieldcoord.store import search as fts
from fieldcoord.store.db import connect
from fieldcoord.store.migrations import LATEST, NAMES, applied, migrate


def make_v1(path):
    """A database as the first schema version wrote it, with an agency and a contact."""
    conn = connect(path)
    assert migrate(conn, stop_before="0002_search") == ["0001_records"]
    meta = {"home": "CCF", "site": "5b0c2a54-1d1e-4c55-9a52-2f6d7c2f6f10",
            "epoch": "e0", "device": "old-laptop", "region": "US"}
    conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
    conn.execute("INSERT INTO site VALUES (1, ?, 'CCF', 'old-laptop')", (meta["site"],))
    conn.execute("INSERT INTO clock VALUES (1, ?)", (1 << 40,))
    ver = json.dumps({"": [1 << 40, 1]})
    from fieldcoord.core.ids import agency_id
    aid = agency_id("CCF")
    conn.execute("INSERT INTO agency (id, owner, scope, name, code, created_at, updated_at, _ver) "
                 "VALUES (?, 'CCF', 'all', 'Clark County Fire', 'CCF', 't', 't', ?)", (aid, ver))
    conn.execute("INSERT INTO contact (id, owner, scope, name, agency, created_at, updated_at, "
                 "_ver) VALUES ('0190b8a4-0000-7000-8000-000000000001', 'CCF', 'all', "
                 "'Renée Dubois', ?, 't', 't', ?)", (aid, ver))
    conn.close()


def test_every_version_migrates_to_the_latest(tmp_path):
    path = tmp_path / "v1.db"
    make_v1(path)
    store = Store.open(path)
    assert applied(store.conn) == NAMES and NAMES[-1] == LATEST
    hits = store.search("renee")
    assert [h.title for h in hits] == ["Renée Dubois"]
    # writing after the upgrade continues the old clock
    store.edit(hits[0].id, {"title": "Chief"})
    last = store.conn.execute(f"SELECT max(hlc) FROM {WHOLE_LOG}").fetchone()[0]
    assert last > (1 << 40)
    store.close()
    assert migrate(connect(path)) == [], "migrations run once"


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "new.db"
    Store.create(path, "Clark County Fire", "CCF").close()
    conn = connect(path)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('fieldcoord', '9999_future', 'x')")
    conn.close()
    with pytest.raises(RuntimeError, match="newer fieldcoord"):
        Store.open(path)


def test_foreign_and_missing_files(tmp_path):
    with pytest.raises(NotInitialised, match="fieldcoord init"):
        Store.open(tmp_path / "missing.db")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(NotInitialised, match="not a fieldcoord database"):
        Store.open(junk)
    other = tmp_path / "other.db"
    conn = connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(NotInitialised, match="not a fieldcoord database"):
        Store.open(other)
    assert {r[0] for r in connect(other).execute("SELECT name FROM sqlite_master")} == {"t"}


def test_index_entries_left_stale_by_version_14_are_written_by_the_upgrade(tmp_path):
    """Version 14 noted the old words of a document whose index entries it left for later;
    version 16 notes new documents instead, so the upgrade writes the stale entries first."""
    path = tmp_path / "v14.db"
    make_v1(path)
    conn = connect(path)
    migrate(conn, stop_before="0016_pending_documents")
    docid, title, body, digits = conn.execute(
        "SELECT docid, title, body, digits FROM search_doc WHERE kind = 'contact'").fetchone()
    # what version 14's write path left after renaming the contact: the new document, and the
    # words the indexes still hold
    conn.execute("UPDATE contact SET name = 'Renée Martin'")
    conn.execute("UPDATE search_doc SET title = 'Renée Martin' WHERE docid = ?", (docid,))
    conn.execute("INSERT INTO search_pending (docid, title, body, digits, indexed) "
                 "VALUES (?, ?, ?, ?, 1)", (docid, title, body, digits))
    conn.close()
    store = Store.open(path)
    try:
        assert [h.title for h in store.search("martin")] == ["Renée Martin"]
        assert store.search("dubois") == []
        for index in ("search_fts", "search_digits"):
            store.conn.execute(f"INSERT INTO {index} ({index}, rank) "
                               "VALUES ('integrity-check', 1)")
        assert [r[1] for r in store.conn.execute("PRAGMA table_info(search_pending)")][:2] \
            == ["rid", "kind"]
    finally:
        store.close()


def test_version_17_starts_the_search_marks_where_the_documents_are_current(tmp_path):
    """Before version 17 every write brought search_doc up to date or noted its document in
    search_pending: the upgrade marks each of this replica's streams current at its end, so
    nothing written before is indexed twice and what was noted stays noted."""
    path = tmp_path / "v16.db"
    make_v1(path)
    conn = connect(path)
    migrate(conn, stop_before="0017_search_mark")
    conn.execute("UPDATE contact SET name = 'Renée Martin'")
    conn.execute("INSERT INTO search_pending (rid, kind, title, subtitle, body, digits) "
                 "SELECT rid, kind, 'Renée Martin', subtitle, body, digits FROM search_doc "
                 "WHERE kind = 'contact'")
    ends = dict(conn.execute("SELECT id, seq FROM stream WHERE origin = 1"))
    conn.close()
    store = Store.open(path)
    try:
        assert dict(store.conn.execute("SELECT stream, seq FROM search_mark")) == ends
        assert fts.pending_count(store.conn) == 1
        assert [h.title for h in store.search("martin")] == ["Renée Martin"]
        assert fts.pending_count(store.conn) == 0
    finally:
        store.close()


def test_version_18_numbers_the_documents_by_kind_and_search_finds_the_same(tmp_path):
    """The upgrade renumbers every document so that its number carries its kind, and rebuilds
    the indexes: search finds what documents written afresh find, in the same order (an agency
    before the people it names), and a document noted pending stays pending."""
    from fieldcoord.store.search import CODE_OF, KIND_SHIFT
    path = tmp_path / "v17.db"
    store = Store.create(path, "Clark County Fire", "CCF")
    store.add("agency", {"name": "Metro Police", "code": "MPD"})
    for i in range(30):
        store.add("contact", {"name": f"Dana Metro {i}", "agency": "MPD" if i % 2 else "CCF"})
    store.idle()
    store.close()
    conn = connect(path)
    # back to version 17, which numbered its documents one after the other
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = '0018_search_kinds'")
    old = [r[0] for r in conn.execute("SELECT docid FROM search_doc ORDER BY docid")]
    conn.executemany("UPDATE search_doc SET docid = ? WHERE docid = ?",
                     [(-n, d) for n, d in enumerate(old, 1)])
    conn.execute("UPDATE search_doc SET docid = -docid")
    conn.execute("INSERT INTO search_fts (search_fts) VALUES ('rebuild')")
    conn.execute("INSERT INTO search_digits (search_digits) VALUES ('rebuild')")
    assert sorted(r[0] for r in conn.execute("SELECT docid FROM search_doc")) == list(
        range(1, len(old) + 1))
    conn.execute("UPDATE contact SET name = 'Dana Harbor' WHERE name = 'Dana Metro 8'")
    conn.execute("INSERT INTO search_pending (rid, kind, title, subtitle, body, digits) "
                 "SELECT rid, kind, 'Dana Harbor', subtitle, 'Dana Harbor', digits "
                 "FROM search_doc WHERE title = 'Dana Metro 8'")
    conn.close()
    store = Store.open(path)
    try:
        assert applied(store.conn)[-1] == "0018_search_kinds"
        assert all(d >> KIND_SHIFT == CODE_OF[k] for d, k in store.conn.execute(
            "SELECT docid, kind FROM search_doc"))
        assert fts.pending_count(store.conn) == 1
        assert [h.title for h in store.search("harbor")] == ["Dana Harbor"]
        upgraded = [(h.kind, h.id) for h in store.search("metro", limit=50)]
        assert len(upgraded) == 30 and upgraded[0][0] == "agency"
        with store.transaction():
            fts.rebuild_all(store.conn)
        assert [(h.kind, h.id) for h in store.search("metro", limit=50)] == upgraded
    finally:
        store.close()
