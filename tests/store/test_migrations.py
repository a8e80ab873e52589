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


def old_documents(conn):
    """The search documents of make_v1's records as versions before 21 held them (with their
    kind, id and subtitle), the indexes rebuilt over them: the earlier migrations leave
    search_doc to version 21, which makes every document again."""
    conn.execute("DELETE FROM search_doc")
    conn.execute("INSERT INTO search_doc (kind, rid, title, subtitle, body, digits) "
                 "SELECT 'agency', id, name, code, code, '' FROM agency")
    conn.execute("INSERT INTO search_doc (kind, rid, title, subtitle, body, digits) "
                 "SELECT 'contact', id, name, 'Clark County Fire (CCF)', "
                 "'Clark County Fire CCF', '' FROM contact")
    conn.execute("INSERT INTO search_fts (search_fts) VALUES ('rebuild')")
    conn.execute("INSERT INTO search_digits (search_digits) VALUES ('rebuild')")


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
    old_documents(conn)
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
    old_documents(conn)
    conn.execute("UPDATE contact SET name = 'Renée Martin'")
    conn.execute("INSERT INTO search_pending (rid, kind, title, subtitle, body, digits) "
                 "SELECT rid, kind, 'Renée Martin', subtitle, body, digits FROM search_doc "
                 "WHERE kind = 'contact'")
    ends = dict(conn.execute("SELECT id, seq FROM stream WHERE origin = 1"))
    conn.close()
    store = Store.open(path)
    try:
        assert dict(store.conn.execute("SELECT stream, seq FROM search_mark")) == ends
        # (version 21 makes every document again from the records: none is left pending)
        assert fts.pending_count(store.conn) == 0
        assert [h.title for h in store.search("martin")] == ["Renée Martin"]
        assert fts.pending_count(store.conn) == 0
    finally:
        store.close()


def test_version_23_keeps_every_hit_with_phones_kept_once(tmp_path):
    """Version 24 answers short queries from the lists' title indexes, keeps one prefix index
    and each phone's digits once: after the upgrade every search finds what it found, the
    digits index gives back every trailing run, and search_doc keeps no run twice."""
    from oldversions import as_version_23
    path = tmp_path / "v23.db"
    store = Store.create(path, "Clark County Fire", "CCF")
    store.add("agency", {"name": "Metro Police", "code": "MPD", "phone": "+1 202 555 0100"})
    for i in range(12):
        store.add("contact", {"name": f"Dana Metro {i}", "agency": "MPD" if i % 2 else "CCF",
                              "phone": f"+1 (360) 555-01{i:02d}", "mobile": f"206.555.02{i:02d}"})
    store.add("operation", {"name": "Metro Flood", "kind": "incident", "lead_agency": "MPD"})
    store.idle()
    queries = ("d", "me", "metro", "555 0107", "0211", "2025550100", "flood", "mp")
    before = {q: [h.to_dict() for h in store.search(q, limit=50)] for q in queries}
    store.close()
    as_version_23(path)
    conn = connect(path)
    assert conn.execute("SELECT max(length(digits)) FROM search_doc").fetchone()[0] > 40
    # a document a sync noted and left for later, as version 23 kept it (every run of the digits)
    rid = conn.execute("SELECT id FROM contact WHERE name = 'Dana Metro 5'").fetchone()[0]
    conn.execute("UPDATE contact SET name = 'Dana Harbor' WHERE id = ?", (rid,))
    conn.execute("INSERT INTO search_pending (rid, kind, title, body, digits) VALUES "
                 "(?, 'contact', 'Dana Harbor', 'Metro Police MPD', ?)",
                 (rid, "13605550105 3605550105 605550105 05550105 5550105 550105 50105 0105"))
    conn.close()
    store = Store.open(path)
    try:
        assert applied(store.conn) == NAMES
        assert [h.id for h in store.search("harbor")] == [rid]
        assert rid in [h.id for h in store.search("555 0105")]
        store.index_pending()
        assert [h.id for h in store.search("harbor")] == [rid]
        assert store.conn.execute("SELECT digits FROM search_doc d JOIN contact c ON d.docid = "
                                  "c.rowid WHERE c.id = ?", (rid,)).fetchone()[0] \
            == "13605550105"              # (as noted, kept once)
        # (scores move with the renamed document's words: the hits and their order stand)
        def seen(hits):
            return [(h["kind"], h["id"], h["title"], h["subtitle"]) for h in hits
                    if h["id"] != rid]
        assert {q: seen(h.to_dict() for h in store.search(q, limit=50)) for q in queries} \
            == {q: seen(hits) for q, hits in before.items()}
        kept = [d for (d,) in store.conn.execute(
            "SELECT digits FROM search_doc WHERE digits != '' ORDER BY docid")]
        assert "12025550100" in kept and all(len(d.split()) <= 2 for d in kept)
        for index in ("search_fts", "search_digits"):
            store.conn.execute(f"INSERT INTO {index} ({index}, rank) "
                               "VALUES ('integrity-check', 1)")
    finally:
        store.close()


def test_version_21_numbers_each_document_by_its_record_and_search_finds_the_same(tmp_path):
    """Version 21 keeps only what the indexes read in search_doc, numbered by the record's row:
    the upgrade makes every document again from the records, so search finds what it found
    (an agency before the people it names, the subtitles as before), a record whose document
    was noted pending is found as it is now, and every number names its record."""
    from searchcheck import numbers_name_their_records

    from fieldcoord.store.db import statements
    from fieldcoord.store.migrations import SCHEMA_DIR
    from fieldcoord.store.search import CODE_SQL, KIND_SHIFT
    path = tmp_path / "v20.db"
    store = Store.create(path, "Clark County Fire", "CCF")
    store.add("agency", {"name": "Metro Police", "code": "MPD"})
    for i in range(30):
        store.add("contact", {"name": f"Dana Metro {i}", "agency": "MPD" if i % 2 else "CCF",
                              "title": "Watch Commander" if i == 3 else None})
    store.idle()
    before = [h.to_dict() for h in store.search("metro", limit=50)]
    store.close()
    conn = connect(path)
    # back to version 20: search_doc with kinds, ids and subtitles, numbered by kind and place
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = '0021_search_by_row'")
    for table in ("search_fts", "search_digits", "search_doc", "search_pending"):
        conn.execute(f"DROP TABLE {table}")
    for name in ("0002_search.sql", "0004_ordering.sql", "0016_pending_documents.sql"):
        for stmt in statements((SCHEMA_DIR / name).read_text()):
            if "search_" in stmt and not stmt.lstrip().startswith("DROP"):
                conn.execute(stmt)
    for h in before:
        conn.execute("INSERT INTO search_doc (kind, rid, title, subtitle, body, digits) VALUES "
                     "(?, ?, ?, ?, ?, '')", (h["kind"], h["id"], h["title"], h["subtitle"],
                                             f"{h['title']} {h['subtitle']}"))
    conn.execute(f"UPDATE search_doc SET docid = docid | ({CODE_SQL} << {KIND_SHIFT})")
    conn.execute("INSERT INTO search_fts (search_fts) VALUES ('rebuild')")
    conn.execute("UPDATE contact SET name = 'Dana Harbor' WHERE name = 'Dana Metro 8'")
    conn.execute("INSERT INTO search_pending (rid, kind, title, subtitle, body, digits) "
                 "SELECT rid, kind, 'Dana Harbor', subtitle, 'Dana Harbor', digits "
                 "FROM search_doc WHERE title = 'Dana Metro 8'")
    conn.close()
    store = Store.open(path)
    try:
        assert applied(store.conn)[-1] == "0021_search_by_row"
        assert [c[1] for c in store.conn.execute("PRAGMA table_info(search_doc)")] == [
            "docid", "title", "body", "digits"]
        assert numbers_name_their_records(store.conn) == 32     # both agencies, 30 people
        assert fts.pending_count(store.conn) == 0
        assert [h.title for h in store.search("harbor")] == ["Dana Harbor"]
        after = [h.to_dict() for h in store.search("metro", limit=50)]
        assert len(after) == 30 and after[0]["kind"] == "agency"
        assert [h for h in before if h["title"] != "Dana Metro 8"] == after
        assert any(h["subtitle"] == "Watch Commander · Metro Police (MPD)" for h in after)
    finally:
        store.close()
