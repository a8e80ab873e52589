# SPDX-License-Identifier: GPL-3.0-or-later
"""Search finds people, lines, resources and channels the way a liaison types under stress."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from searchcheck import numbers_name_their_records

from fieldcoord.core import kinds as K
from fieldcoord.store.search import digits_query, fts_query, indexed_digits, phone_digits


@pytest.fixture
def directory(store):
    store.add("agency", {"name": "Metro Police Départment", "code": "MPD", "discipline": "police",
                         "phone": "+1 (202) 555-0100"})
    ids = {
        "jose": store.add("contact", {"name": "José Núñez", "agency": "MPD",
                                      "title": "Watch Commander",
                                      "phone": "+1 (202) 555-0142",
                                      "email": "jose.nunez@mpd.example",
                                      "call_sign": "METRO 12"}),
        "zoe": store.add("contact", {"name": "Zoë Brandt", "agency": "CCF",
                                     "title": "Battalion Chief", "mobile": "360.555.0117"}),
        "joseph": store.add("contact", {"name": "Joseph Okafor", "agency": "CCF",
                                        "title": "Duty Officer"}),
        "engine": store.add("resource", {"name": "Engine 51", "agency": "CCF",
                                         "type_id": "4-508-1278", "type_level": "Type 1"}),
        "vtac": store.add("channel", {"name": "VTAC11", "function": "tactical",
                                      "rx_freq": 151.1375, "tx_freq": 151.1375,
                                      "rx_tone": "156.7", "agency": "CCF"}),
    }
    return ids


def titles(hits):
    return [h.title for h in hits]


@pytest.mark.parametrize("query", ["jose", "JOSÉ", "nunez", "Núñez", "nun", "jose nun",
                                   "Watch Comm", "metro police", "departm"])
def test_name_prefix_accents_case(store, directory, query):
    hits = store.search(query, kind="contact")
    assert hits and hits[0].id == directory["jose"]


@pytest.mark.parametrize("query", ["555 0142", "5550142", "(202) 555-0142", "202-555-0142",
                                   "+1 202 555 0142", "0142", "2025550142", "+12025550142"])
def test_phone_digits_in_any_format(store, directory, query):
    hits = store.search(query)
    assert directory["jose"] in [h.id for h in hits]
    assert directory["zoe"] not in [h.id for h in hits]


def test_email_call_sign_and_agency_line(store, directory):
    assert store.search("jose.nunez@mpd")[0].id == directory["jose"]
    # an address typed up to a part of one or two letters (no prefix index that short)
    for typed in ("jose.nunez@mpd.ex", "jose.nunez@m", "jose.nunez@mpd.example"):
        assert store.search(typed)[0].id == directory["jose"], typed
    assert fts_query("kpena@frawsd9.us") == '("kpena frawsd9 us" OR "kpena frawsd9"*)'
    assert fts_query("jose") == '("jose" OR "jose"*)'
    assert store.search("metro 12", kind="contact")[0].id == directory["jose"]
    agency = store.search("555 0100")
    assert agency[0].kind == "agency" and agency[0].title == "Metro Police Départment"


def test_ranking_puts_the_best_match_first(store, directory):
    hits = store.search("jos", kind="contact")
    assert set(h.id for h in hits) == {directory["jose"], directory["joseph"]}
    assert store.search("zoe")[0].id == directory["zoe"]
    # a whole-name match beats a match in a secondary field
    store.add("contact", {"name": "Pat Doe", "agency": "CCF", "title": "Liaison for Zoe"})
    assert store.search("zoe brandt")[0].id == directory["zoe"]


def test_resources_and_channels(store, directory):
    assert store.search("engine 51")[0].id == directory["engine"]
    assert store.search("strike team", kind="resource")[0].id == directory["engine"]
    assert store.search("vtac")[0].id == directory["vtac"]
    assert directory["vtac"] in [h.id for h in store.search("151.1375")]


def test_search_follows_edits_deletes_and_renames(store, directory):
    store.edit(directory["zoe"], {"name": "Zoë Brandt-Lee"})
    assert store.search("brandt-lee")[0].id == directory["zoe"]
    mpd = store.agency_id("MPD")
    store.add("agency", {"name": "Harbor County Sheriff", "code": "HCSO"})
    # renaming an agency re-indexes its people
    store.edit(mpd, {"name": "Metropolitan Police"})
    assert directory["jose"] in [h.id for h in store.search("metropolitan", kind="contact")]
    assert store.search("départment", kind="contact") == []
    # a new phone on a contact is found at once; a deleted one is not
    mid = store.add("method", {"contact": directory["joseph"], "kind": "mobile",
                               "value": "(509) 555-0199"})
    assert store.search("555 0199", kind="contact")[0].id == directory["joseph"]
    store.delete(mid)
    assert store.search("555 0199", kind="contact") == []
    store.delete(directory["engine"])
    assert store.search("engine 51") == []
    store.restore(directory["engine"])
    assert store.search("engine 51")[0].id == directory["engine"]


def test_queries_that_are_not_text(store, directory):
    assert store.search("") == [] and store.search("   ") == [] and store.search("***") == []
    assert store.search('"unbalanced') is not None
    assert store.search("AND OR NOT") == []
    assert store.search("x" * 500) == []


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_typed_text_is_a_valid_query(text):
    import sqlite3
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(a, b)")
    for q in (fts_query(text), digits_query(text)):
        if q is not None:
            conn.execute("SELECT * FROM t WHERE t MATCH ?", (q,)).fetchall()


def digit_suffixes(value):
    """The runs of a phone's digits the digits index holds."""
    return indexed_digits(phone_digits(value)).split()


def test_digit_suffixes():
    assert digit_suffixes("+12025550142") == ["12025550142", "2025550142", "025550142",
                                              "25550142", "5550142", "550142", "50142", "0142"]
    assert digit_suffixes("+12025550142;ext=12")[-1] == "0142"
    assert digit_suffixes("911") == []


def test_a_large_load_rebuilds_the_index_and_still_finds_everything(store, monkeypatch):
    from fieldcoord.store import search
    monkeypatch.setattr(search, "BULK_DOCS", 50)
    with store.transaction():
        ids = [store.add("contact", {"name": f"Person {i:03d} Zed", "agency": "CCF",
                                     "mobile": f"(509) 555-01{i % 100:02d}"}) for i in range(200)]
    assert len(store.search("zed", limit=500)) == 200
    assert store.search("person 042")[0].id == ids[42]
    assert ids[7] in [h.id for h in store.search("555 0107", limit=10)]
    # and small writes afterwards keep it current
    store.edit(ids[7], {"name": "Renamed Seven"})
    assert store.search("renamed")[0].id == ids[7]
    assert store.conn.execute("INSERT INTO search_fts (search_fts) VALUES ('integrity-check')")
    assert store.conn.execute(
        "INSERT INTO search_digits (search_digits) VALUES ('integrity-check')")


def test_one_or_two_letters_list_titles_that_begin_with_them(store, directory):
    for i in range(25):
        store.add("contact", {"name": f"Jordan {chr(90 - i)}", "agency": "CCF"})
    hits = store.search("jo", limit=20)
    assert len(hits) == 20
    assert all(h.title.lower().startswith("jo") for h in hits)
    assert [h.title for h in hits] == sorted((h.title for h in hits), key=str.casefold)
    # fewer beginnings than the page holds: full-text matches fill it, after them
    few = store.search("zo")
    assert few[0].title == "Zoë Brandt"
    # a third letter ranks by relevance again
    assert store.search("jos", kind="contact")[0].title in ("José Núñez", "Joseph Okafor")


def test_short_queries_list_every_kind_in_one_alphabetical_order(store, directory):
    """Contacts, agencies, resources and facilities are read in their lists' own title indexes,
    the other kinds in search_doc's (schema version 24): one page, in title order, whichever
    side a title comes from; a deleted record is not listed; one kind keeps to its side."""
    store.add("operation", {"name": "Engine Company Drill", "kind": "planned_event",
                            "lead_agency": "CCF"})
    store.add("channel", {"name": "Engine Tac", "function": "tactical", "agency": "CCF"})
    gone = store.add("contact", {"name": "Engel Marsh", "agency": "CCF"})
    store.add("facility", {"name": "Engine House 3", "agency": "CCF", "kind": "base"})
    store.delete(gone)
    hits = store.search("en")           # (full-text matches after them fill the page)
    assert [(h.kind, h.title) for h in hits][:4] == [
        ("resource", "Engine 51"), ("operation", "Engine Company Drill"),
        ("facility", "Engine House 3"), ("channel", "Engine Tac")]
    assert titles(store.search("EN", kind="operation")) == ["Engine Company Drill"]
    assert titles(store.search("en", kind="facility")) == ["Engine House 3"]
    assert "Engel Marsh" not in titles(hits) + titles(store.search("en", kind="contact"))
    numbers_name_their_records(store.conn)


def test_short_queries_read_title_indexes(store, directory):
    """The condition search writes is the one search_doc's title index was made with (SQLite
    uses a partial index only then), and each side is an index range, not a scan."""
    from fieldcoord.store import search as S
    args = {"like": "jo%", "low": "jo", "high": "jo" + S._TOP, "limit": 20, "code": 0}
    for kind, sql in S._NAMED_SQL.items():
        plan = " ".join(r[3] for r in store.conn.execute(f"EXPLAIN QUERY PLAN {sql}", args))
        assert f"SEARCH r USING INDEX {K.KINDS[kind].table}_by_name" in plan, plan
    sql = S._TITLED_SQL.format(kind="").replace("{fresh}", "")
    plan = " ".join(r[3] for r in store.conn.execute(f"EXPLAIN QUERY PLAN {sql}", args))
    assert "USING COVERING INDEX search_doc_by_title (title>? AND title<?)" in plan, plan
    # the records are read where they are current: one whose document waits is listed too
    store.add("contact", {"name": "Joanna Pending", "agency": "CCF"})
    assert "Joanna Pending" in titles(store.search("jo"))


def test_a_document_keeps_each_phones_digits_once_and_the_index_every_trailing_run(store,
                                                                                   directory):
    """search_doc keeps a phone's digits once (schema version 24); the digits index, which has
    no copy of its own, every run of four digits or more at its end: an edit takes out the
    runs of the number it replaced."""
    from fieldcoord.store import search as S
    store.idle()
    n = S.doc_numbers(store.conn, [("contact", directory["jose"])])[("contact", directory["jose"])]
    digits = store.conn.execute("SELECT digits FROM search_doc WHERE docid = ?",
                                (n,)).fetchone()[0]
    assert digits == "12025550142"
    line = store.search("555 0142")[0]
    assert line.id == directory["jose"]
    method = next(m for m in store.conn.execute(
        "SELECT id FROM contact_method WHERE contact = ? AND value LIKE '%0142'",
        (directory["jose"],)))
    store.edit(method[0], {"value": "+1 (202) 555-0199"})
    store.idle()
    assert directory["jose"] in [h.id for h in store.search("5550199")]
    assert directory["jose"] not in [h.id for h in store.search("5550142")]
    store.conn.execute("INSERT INTO search_digits (search_digits) VALUES ('integrity-check')")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text("0123456789", min_size=4, max_size=15), max_size=4))
def test_the_digits_kept_give_back_every_run_the_index_held(phones):
    from fieldcoord.store.search import compact_digits, indexed_digits
    kept = " ".join(phones)
    runs = indexed_digits(kept)            # every run of each, as versions before 24 kept them
    assert set(indexed_digits(compact_digits(runs)).split()) == set(runs.split())
    assert compact_digits(compact_digits(runs)) == compact_digits(runs)


def test_typing_a_partners_code_finds_the_agency_first(demo_template, tmp_path):
    """The app and `fieldcoord search` share one ranking: a code being typed puts its agency
    first, however many contacts mention the agency."""
    import shutil

    from fieldcoord.store import Store
    path = tmp_path / "demo_store.db"
    shutil.copy(demo_template, path)
    with Store.open(path) as s:
        codes = [r.values["code"] for r in s.list("agency")]
        code = next(c for c in codes if c.startswith("HCS"))
        for typed in (code.lower(), code[:3].lower()):
            hits = s.search(typed)
            assert hits[0].kind == "agency", typed
            assert s.get(hits[0].id).values["code"].startswith(typed.upper())
        assert s.search(code.lower(), kind="contact")[0].kind == "contact"


def test_search_finds_a_record_of_every_kind_that_has_a_page_by_its_title(demo_store):
    from fieldcoord.core import kinds as K
    # every kind with a page of its own is searched, but comms plan rows (found by channel)
    with_pages = {k.name for k in K.KINDS.values() if k.page is not None}
    assert with_pages - set(K.SEARCHABLE) == {"comms"}
    for name in K.SEARCHABLE:
        if K.KINDS[name].search.within:
            continue                    # a contact's lines are found through the contact
        rec = demo_store.list(name, limit=1)[0]
        words = " ".join(rec.title.split()[:3])
        hits = [h.id for h in demo_store.search(words, kind=name, limit=50)]
        assert rec.id in hits, (name, words)


def test_a_request_is_found_by_its_number_before_a_log_entry_that_mentions_it(demo_store):
    hits = demo_store.search("TRF-009", limit=5)
    assert hits[0].kind == "request" and hits[0].title.startswith("TRF-009 · ")
    assert any(h.kind == "log" for h in hits), "the log entry naming it comes after"


def test_agreements_operations_plans_events_and_log_entries_are_searchable(demo_store):
    found = {h.kind for q in ("mutual aid", "tolliver flood", "tabletop", "levee")
             for h in demo_store.search(q, limit=20)}
    assert {"agreement", "operation", "plan", "event", "log"} <= found


def test_every_searchable_kind_has_a_code_of_its_own():
    """A document's number carries its kind's code: every searchable kind has one, no two
    share one, and the codes released with schema version 18 never move (stored numbers hold
    them)."""
    from fieldcoord.core import kinds as K
    from fieldcoord.store.search import CODE_OF, KIND_CODES
    assert set(K.SEARCHABLE) <= set(CODE_OF)
    assert len(set(KIND_CODES)) == len(KIND_CODES)
    assert KIND_CODES[:13] == ("contact", "agency", "method", "resource", "facility", "request",
                               "agreement", "operation", "plan", "channel", "event", "action",
                               "log")


def test_a_documents_number_names_its_kind_and_search_ranks_and_filters_by_it(store, directory):
    """Search ranks the matches by kind from their numbers alone: the numbers of written,
    pending and rebuilt documents all carry their kind, and a search by kind finds only it.
    People keep small numbers (the index stores the distances between them)."""
    from fieldcoord.store import search as fts

    def numbers_ok(table):
        assert numbers_name_their_records(store.conn, table)

    store.idle()
    numbers_ok("search_doc")
    people = [d for (d,) in store.conn.execute(
        "SELECT docid FROM search_doc WHERE docid < (1 << 32) ORDER BY docid")]
    assert people == [r for (r,) in store.conn.execute(
        "SELECT rowid FROM contact WHERE _cl % 2 = 1 ORDER BY rowid")]
    # an agency and a contact the same words find: the agency ranks above (its kind's boost)
    store.add("agency", {"name": "Harbor Rescue", "code": "HRS"})
    store.add("contact", {"name": "Harbor Rescue", "agency": "CCF"})
    # left for idle: a search that does not write them first (as while a sync holds the
    # database) finds them in temporary tables, numbered the same way
    assert fts.pending_count(store.conn) > 0
    assert [h.kind for h in fts.search(store.conn, "harbor rescue")] == ["agency", "contact"]
    numbers_ok("temp.pending_doc")
    assert [h.kind for h in fts.search(store.conn, "harbor", kind="contact")] == ["contact"]
    store.idle()
    assert [h.kind for h in store.search("harbor rescue")] == ["agency", "contact"]
    with store.transaction():
        fts.rebuild_all(store.conn)
    numbers_ok("search_doc")
    assert [h.kind for h in store.search("harbor rescue")] == ["agency", "contact"]
    assert [h.id for h in store.search("jos", kind="contact")] != []
    assert store.search("jos", kind="agency") == []
    assert store.search("engine 51", kind="resource")[0].id == directory["engine"]


_WORDS = ("harbor", "ridge", "delta", "summit", "cedar", "falcon")


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["agency", "contact", "resource", "channel",
                                           "edit", "delete", "restore", "idle"]),
                          st.sampled_from(_WORDS), st.integers(0, 50)),
                min_size=1, max_size=14))
def test_numbers_keep_their_kind_through_any_writes(tmp_path_factory, steps):
    """Whatever is added, renamed, deleted and restored, and whether the documents were
    written at once, left pending or rebuilt: every number names its document's kind, a search
    by kind finds only that kind, and the hits are those a rebuild from the records gives."""
    from fieldcoord.store import Store
    from fieldcoord.store import search as fts
    s = Store.create(tmp_path_factory.mktemp("n") / "fc.db", "Clark County Fire", "CCF")
    try:
        made: list[str] = []
        for n, (step, word, pick) in enumerate(steps):
            name = f"{word.title()} {n}"
            if step == "agency":
                made.append(s.add("agency", {"name": f"{name} Agency", "code": f"A{n}"}))
            elif step == "contact":
                made.append(s.add("contact", {"name": name, "agency": "CCF"}))
            elif step == "resource":
                made.append(s.add("resource", {"name": name, "agency": "CCF"}))
            elif step == "channel":
                made.append(s.add("channel", {"name": f"{word.upper()}{n}",
                                              "rx_freq": 155.0 + n / 100, "agency": "CCF"}))
            elif step == "idle":
                s.idle()
            elif made:
                rid = made[pick % len(made)]
                rec = s.get(rid)
                if step == "edit" and not rec.deleted:
                    field = "code" if rec.kind == "agency" else "name"
                    s.edit(rid, {"name": f"{name} renamed"} if field == "name" else
                           {"name": f"{name} renamed agency"})
                elif step == "delete" and not rec.deleted:
                    s.delete(rid)
                elif step == "restore" and rec.deleted:
                    s.restore(rid)
        searches = [(w, k) for w in _WORDS for k in (None, "agency", "contact", "resource")]
        found = {q: [(h.kind, h.id) for h in s.search(q[0], kind=q[1], limit=50)]
                 for q in searches}
        for (word, kind), hits in found.items():
            assert all(k == kind for k, _ in hits) if kind else True, (word, kind, hits)
        s.idle()
        numbers_name_their_records(s.conn)
        with s.transaction():
            fts.rebuild_all(s.conn)
        assert {q: [(h.kind, h.id) for h in s.search(q[0], kind=q[1], limit=50)]
                for q in searches} == found
    finally:
        s.close()


def test_document_numbers_are_the_same_looked_up_or_read_through(store, directory, monkeypatch):
    """A few records' numbers are looked up by id, a large load's read from the whole table:
    the same numbers either way, and none for an id no row holds."""
    from fieldcoord.core import kinds as K
    from fieldcoord.store import search as fts
    keys = [(kind, rid) for kind in ("agency", "contact", "resource") for (rid,) in
            store.conn.execute(f'SELECT id FROM "{K.KINDS[kind].table}"')]
    keys.append(("contact", "0190b8a4-0000-7000-8000-00000000dead"))
    looked_up = fts.doc_numbers(store.conn, keys)
    monkeypatch.setattr(fts, "SCAN_NUMBERS", 0)
    assert fts.doc_numbers(store.conn, keys) == looked_up
    assert len(looked_up) == len(keys) - 1
    assert all(n >> fts.KIND_SHIFT == fts.CODE_OF[kind] for (kind, _), n in looked_up.items())


def test_a_document_whose_number_names_no_kind_is_never_shown(store, directory):
    """A search document numbered past every kind (a damaged file, or a snapshot from a hub that
    lied) breaks no search, short or full-text, and shows nothing."""
    store.idle()
    with store.transaction():
        for n in ((99 << 32) | 1, -5):
            store.conn.execute("INSERT INTO search_doc (docid, title, body, digits) "
                               "VALUES (?, 'Jo Forged', 'jose forged', '')", (n,))
        store.conn.execute("INSERT INTO search_fts (search_fts) VALUES ('rebuild')")
    for text in ("jo", "forged", "jose"):
        assert all(h.title != "Jo Forged" for h in store.search(text)), text
    assert any(h.title == "José Núñez" for h in store.search("jose"))
