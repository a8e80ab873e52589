# SPDX-License-Identifier: GPL-3.0-or-later
"""The After-action page: every improvement item in one list, overdue ones flagged; the dialog
will not close an item without a note."""
import datetime as dt

from dialoghelp import fill_and_save

from fieldcoord.ui.dialogs import RecordDialog


def test_every_item_in_one_list_with_the_overdue_ones_flagged(window, qtbot):
    store = window.store
    op = store.list("operation")[0]
    late = store.add("action", {"operation": op.id, "text": "Pump hoses were too short",
                                "due_date": (dt.date.today() - dt.timedelta(days=2)).isoformat()})
    window.records_changed({"action"}, {late})
    page = window.go("actions")
    lst = page.current()
    lst.ensure_loaded()
    assert lst.model.total == store.count("action")
    col = lst.spec.columns.index("overdue")
    rows = {r.id: lst.query.display(col, r.values[col]) for r in lst.model.rows}
    assert rows[late] == "overdue"
    for rec in store.list("action"):
        due = rec.values["due_date"]
        flagged = rec.values["status"] == "open" and due and due < dt.date.today().isoformat()
        assert (rows[rec.id] == "overdue") == bool(flagged), rec.title


def test_the_dialog_asks_how_an_item_was_closed(demo_store, qtbot):
    rec = next(a for a in demo_store.list("action") if a.values["status"] == "open")
    d = RecordDialog(demo_store, "action", record=rec)
    qtbot.addWidget(d)
    d.editors["status"].set_value("done")
    d.save()
    assert d.result() != d.DialogCode.Accepted
    assert "say how it was closed" in d.errors["closing_note"].text()
    assert demo_store.get(rec.id).values["status"] == "open"


def test_an_operation_offers_to_add_an_after_action_item(window, qtbot, monkeypatch):
    op = window.store.list("operation")[0]
    window.open_record(op.id)
    pane = window.pages["operations"].current().detail
    assert "After-action item" in [a.text() for a in pane.add_button.menu().actions()]

    def fill(d):
        assert d.editors["operation"].value() == op.id
        d.editors["text"].setText("Fuel resupply for the pumps was not planned")
    fill_and_save(monkeypatch, fill)
    next(a for a in pane.add_button.menu().actions() if a.text() == "After-action item").trigger()
    assert any(a.title.startswith("Fuel resupply") for a in window.store.list("action"))
