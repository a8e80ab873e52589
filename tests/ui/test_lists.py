# SPDX-License-Identifier: GPL-3.0-or-later
"""Record lists read a page at a time, sort in SQL, and update edited rows in place."""
from PySide6.QtCore import Qt

from fieldcoord.ui.models import PAGE, RecordTableModel
from fieldcoord.ui.query import ListSpec, RecordQuery

SPEC = ListSpec("contact", ("name", "agency", "title", "best_number"), ("agency", "scope"))


def _model(store):
    return RecordTableModel(RecordQuery(store.conn, SPEC))


def test_rows_are_read_a_page_at_a_time_in_order(demo_store, qtmodeltester):
    model = _model(demo_store)
    model.reload()
    assert model.rowCount() == PAGE and model.canFetchMore()
    assert model.total == demo_store.count("contact")
    while model.canFetchMore():
        model.fetchMore()
    assert model.rowCount() == model.total
    names = [r.values[0] for r in model.rows]
    assert names == sorted(names, key=lambda n: (n or "").lower()) or \
        [n.lower() for n in names] == sorted(n.lower() for n in names)
    assert len({r.id for r in model.rows}) == model.total, "no row twice across pages"
    qtmodeltester.check(model, force_py=True)


def test_sorting_by_a_column_and_descending(demo_store):
    model = _model(demo_store)
    model.reload()
    model.sort(1, Qt.DescendingOrder)
    while model.canFetchMore():
        model.fetchMore()
    codes = [r.values[1] or "" for r in model.rows]
    assert codes == sorted(codes, key=str.lower, reverse=True)
    model.sort(3)          # a computed column is not sorted (it would read every record)
    assert model.query.sort_column == 1


def test_an_edit_updates_its_row_only(demo_store):
    model = _model(demo_store)
    model.reload()
    resets, changed, moved = [], [], []
    model.modelReset.connect(lambda: resets.append(1))
    model.dataChanged.connect(lambda a, b: changed.append(a.row()))
    model.rowsInserted.connect(lambda p, a, b: moved.append(("in", a)))
    model.rowsRemoved.connect(lambda p, a, b: moved.append(("out", a)))
    i = next(i for i, r in enumerate(model.rows) if r.owner == demo_store.home and i > 0)
    target = model.rows[i]
    _, changes = demo_store.write(lambda: demo_store.edit(target.id,
                                                          {"title": "Duty Officer (acting)"}))
    model.update_records(changes.ids)
    assert changed == [i] and not moved and not resets
    assert model.rows[i].values[2] == "Duty Officer (acting)"
    # a rename moves the row to its new place
    _, changes = demo_store.write(lambda: demo_store.edit(target.id,
                                                          {"name": "AAAA First In Line"}))
    model.update_records(changes.ids)
    assert model.rows[0].id == target.id and not resets
    # a delete removes it
    _, changes = demo_store.write(lambda: demo_store.delete(target.id))
    assert changes.kinds == {"contact", "method"}, "its numbers went with it"
    model.update_records(changes.ids)
    assert model.row_of(target.id) == -1 and not resets


def test_filters_by_agency_and_scope(demo_store):
    model = _model(demo_store)
    hcso = demo_store.agency_id("HCSO")
    model.query.set_filter("agency", hcso)
    model.reload()
    assert model.total == len(demo_store.list("contact", {"agency": hcso}))
    assert {r.values[1] for r in model.rows} == {"HCSO"}
    model.query.set_filter("agency", None)
    model.query.set_filter("scope", "private")
    model.reload()
    assert model.total == 0


def test_a_large_list_is_reread_on_a_worker_thread(demo_store, qtbot, monkeypatch):
    from fieldcoord.ui import models
    monkeypatch.setattr(models, "BACKGROUND_ROWS", 10)
    model = RecordTableModel(RecordQuery(demo_store.conn, SPEC), db_path=demo_store.path)
    model.reload()                       # the first read, total unknown: on the GUI thread
    assert model.rowCount() == PAGE and model.total > 10
    hcso = demo_store.agency_id("HCSO")
    model.query.set_filter("agency", hcso)
    with qtbot.waitSignal(model.loading, timeout=5000, check_params_cb=lambda busy: not busy):
        model.reload()
        assert model.task is not None and model.rowCount() == PAGE, "old rows stay meanwhile"
    assert model.total == len(demo_store.list("contact", {"agency": hcso}))
    assert {r.values[1] for r in model.rows} == {"HCSO"}
    # two quick changes: only the last one's rows are shown
    model.query.set_filter("agency", None)
    model.reload()
    model.query.set_filter("agency", hcso)
    with qtbot.waitSignal(model.loading, timeout=5000, check_params_cb=lambda busy: not busy):
        model.reload()
    qtbot.waitUntil(lambda: not model.task.is_running(), timeout=5000)
    assert {r.values[1] for r in model.rows} == {"HCSO"}


def test_a_large_list_reads_the_next_page_ahead(demo_store, qtbot, monkeypatch):
    from fieldcoord.ui import models
    monkeypatch.setattr(models, "BACKGROUND_ROWS", 10)
    model = RecordTableModel(RecordQuery(demo_store.conn, SPEC), db_path=demo_store.path)
    model.reload()
    qtbot.waitUntil(lambda: model._ahead is not None and model._ahead[1] is not None,
                    timeout=5000)
    model.fetchMore()
    assert model.prefetched == 1
    assert model.rowCount() == model.total == demo_store.count("contact")
    assert len({r.id for r in model.rows}) == model.total
    names = [r.values[0].lower() for r in model.rows]
    assert names == sorted(names)


def test_calendar_filters_training_exercises_and_meetings(window):
    window.go("calendar")
    lst = window.pages["calendar"].current()
    combo = lst.filters["kind"]
    kinds = {}
    for label in ("exercises (all kinds)", "meetings", "training (courses)"):
        combo.setCurrentIndex(combo.findText(label))
        col = lst.spec.columns.index("kind")
        kinds[label] = {r.values[col] for r in lst.model.rows}
    assert kinds["exercises (all kinds)"] and kinds["exercises (all kinds)"] <= {
        "tabletop", "functional", "full_scale", "drill"}
    assert kinds["meetings"] == {"meeting"}
    assert kinds["training (courses)"] == {"course"}


def test_records_of_the_same_name_page_in_id_order_from_the_title_index(store):
    """The alphabetical index holds the title alone (schema version 23): records that share a
    name still come in the order of their ids, none twice or left out across pages, and the
    first page is read from that index."""
    for i in range(23):
        store.add("contact", {"name": "Pat Morgan" if i % 3 else "Alex Reyes", "agency": "CCF"})
    query = RecordQuery(store.conn, SPEC)
    rows, after = [], None
    while page := query.fetch(after, limit=5):
        rows += page
        after = page[-1]
    want = sorted(store.conn.execute("SELECT lower(name), id FROM contact WHERE _cl % 2 = 1"))
    assert [(r.values[0].lower(), r.id) for r in rows] == want
    assert query.position(rows[11]) == 11
    inner = ("SELECT t.id FROM contact t WHERE t._cl % 2 = 1 ORDER BY coalesce(t.\"name\", '') "
             "COLLATE NOCASE, t.id LIMIT 5")
    assert "contact_by_name" in str(store.conn.execute("EXPLAIN QUERY PLAN " + inner).fetchall())
    # a later page starts in the index where the one before ended, not at its beginning
    traced = []
    store.conn.set_trace_callback(traced.append)
    query.fetch(rows[11], limit=5)
    store.conn.set_trace_callback(None)
    plan = str(store.conn.execute("EXPLAIN QUERY PLAN " + traced[-1]).fetchall())
    assert "SEARCH t USING INDEX contact_by_name" in plan, plan
