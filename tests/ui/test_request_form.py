# SPDX-License-Identifier: GPL-3.0-or-later
"""The resource request form: a proposed number, committed resources picked by name, the
status starting on 'requested', and the saved request kept selected in the list."""
import datetime as dt

from dialoghelp import fill_and_save
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from fieldcoord.core import workflow
from fieldcoord.ui.dialogs import RecordDialog
from fieldcoord.ui.editors import EnumEditor, RefsEditor

YEAR = dt.date.today().year


def test_a_new_request_is_offered_its_agencys_next_number(demo_store, qtbot):
    hcem, hcfd3 = demo_store.agency_id("HCEM"), demo_store.agency_id("HCFD3")
    for n in (1, 4):
        demo_store.add("request", {"requesting_agency": "HCEM", "description": f"earlier {n}",
                                   "number": f"HCEM-{YEAR}-{n:03d}"})
    gone = demo_store.add("request", {"requesting_agency": "HCEM", "description": "deleted",
                                      "number": f"HCEM-{YEAR}-007"})
    demo_store.delete(gone)
    d = RecordDialog(demo_store, "request")
    qtbot.addWidget(d)
    number = d.editors["number"]
    assert number.text() == f"HCEM-{YEAR}-008", "the home agency's, past deleted numbers too"
    assert number.isEnabled() and not number.isReadOnly(), "the number may be changed"
    d.editors["requesting_agency"].set_value(hcfd3)
    assert number.text() == f"HCFD3-{YEAR}-001", "follows the requesting agency"
    d.editors["requesting_agency"].set_value(hcem)
    assert number.text() == f"HCEM-{YEAR}-008"
    number.setText("STATE-MISSION-22")
    d.editors["requesting_agency"].set_value(hcfd3)
    assert number.text() == "STATE-MISSION-22", "a number the user typed is kept"
    d.editors["description"].setPlainText("Sandbag crew")
    d.save()
    assert d.result() == QDialog.Accepted
    assert demo_store.get(d.saved_id).values["number"] == "STATE-MISSION-22"
    e = RecordDialog(demo_store, "request", preset={"requesting_agency": hcfd3})
    qtbot.addWidget(e)
    assert e.editors["number"].text() == f"HCFD3-{YEAR}-001", "a preset agency is used"
    e.editors["description"].setPlainText("Engine company")
    e.save()
    assert demo_store.get(e.saved_id).values["number"] == f"HCFD3-{YEAR}-001"
    f = RecordDialog(demo_store, "request", preset={"requesting_agency": hcfd3})
    qtbot.addWidget(f)
    assert f.editors["number"].text() == f"HCFD3-{YEAR}-002", "the next one after saving"
    rec = demo_store.get(e.saved_id)
    g = RecordDialog(demo_store, "request", record=rec)
    qtbot.addWidget(g)
    assert g.editors["number"].text() == f"HCFD3-{YEAR}-001", "an edit keeps its number"


def test_an_untouched_new_request_closes_on_esc_without_asking(demo_store, qtbot,
                                                               monkeypatch):
    from fieldcoord.ui import dialogs
    asked = []
    monkeypatch.setattr(dialogs, "ask_discard", lambda *a: asked.append(a) or True)
    d = RecordDialog(demo_store, "request")
    qtbot.addWidget(d)
    d.show()
    qtbot.keyClick(d.editors["description"], Qt.Key_Escape)
    assert not d.isVisible() and asked == [], "the proposed number is no change of the user's"


def test_committed_resources_are_picked_by_name_and_kept_as_ids(demo_store, qtbot):
    boat = next(r for r in demo_store.list("resource") if r.title == "Surf Rescue Boat 81")
    team = next(r for r in demo_store.list("resource")
                if r.title == "SAR Swiftwater Team")
    d = RecordDialog(demo_store, "request")
    qtbot.addWidget(d)
    d.show()
    picker = d.editors["committed_resources"]
    assert isinstance(picker, RefsEditor)
    assert picker.value() is None
    line = picker.picker.lineEdit()
    line.setFocus()
    qtbot.keyClicks(line, "Surf Rescue Boat 81 (CPFD)")
    qtbot.keyClick(line, Qt.Key_Return)
    assert picker.value() == [boat.id], "Enter adds the resource named"
    assert d.result() != QDialog.Accepted, "Enter in the search adds; it does not save"
    assert picker.chosen.item(0).text() == "Surf Rescue Boat 81 (CPFD)", "shown by name"
    assert line.text() == "", "ready for the next one"
    i = picker.picker.findData(team.id)
    assert i > 0 and "(HCSAR)" in picker.picker.itemText(i), "listed with the agency's code"
    picker.picker.setCurrentIndex(i)
    picker.picker.activated.emit(i)                 # chosen from the drop-down list
    picker.add(boat.id)                             # once only
    assert picker.value() == [boat.id, team.id]
    picker.chosen.setCurrentRow(0)
    picker.chosen.setFocus()
    qtbot.keyClick(picker.chosen, Qt.Key_Delete)
    assert picker.value() == [team.id]
    picker.add(boat.id)
    d.editors["requesting_agency"].set_value(demo_store.agency_id("AFFR"))
    d.editors["description"].setPlainText("Rescue boats for Riverside Drive")
    d.save()
    assert d.result() == QDialog.Accepted
    rec = demo_store.get(d.saved_id)
    assert rec.values["committed_resources"] == [team.id, boat.id]
    e = RecordDialog(demo_store, "request", record=rec)
    qtbot.addWidget(e)
    shown = e.editors["committed_resources"]
    assert [shown.chosen.item(i).text() for i in range(shown.chosen.count())] == \
        ["SAR Swiftwater Team (HCSAR)", "Surf Rescue Boat 81 (CPFD)"]
    assert e.changed() is False


def test_the_status_list_starts_with_the_default_status(demo_store, qtbot):
    d = RecordDialog(demo_store, "request")
    qtbot.addWidget(d)
    status = d.editors["status"]
    assert isinstance(status, EnumEditor)
    assert [status.itemData(i) for i in range(status.count())] == list(workflow.STATES)
    assert None not in [status.itemData(i) for i in range(status.count())], "no blank entry"
    assert status.currentIndex() == 0 and status.value() == "requested"
    assert d.editors["priority"].itemData(0) == "urgent" and \
        d.editors["priority"].value() == "routine"
    # editing one: where it is now and its next steps only
    req = next(r for r in demo_store.list("request") if r.values["status"] == "acknowledged")
    e = RecordDialog(demo_store, "request", req)
    qtbot.addWidget(e)
    status = e.editors["status"]
    assert [status.itemData(i) for i in range(status.count())] == \
        ["acknowledged", "committed", "cancelled", "unable_to_fill"]
    assert status.value() == "acknowledged"
    r = RecordDialog(demo_store, "resource")
    qtbot.addWidget(r)
    level = r.editors["type_level"]
    assert level.itemData(0) is None, "an optional field without a default may stay blank"
    # a stored request without a status is shown as it is, and saving leaves it so
    rid = demo_store.add("request", {"requesting_agency": "HCEM", "description": "no status",
                                     "status": None})
    rec = demo_store.get(rid)
    assert rec.values["status"] is None
    e = RecordDialog(demo_store, "request", record=rec)
    qtbot.addWidget(e)
    assert e.editors["status"].value() is None and not e.changed()
    e.save()
    assert demo_store.get(rid).values["status"] is None


def test_the_saved_request_stays_selected(window, monkeypatch, qtmodeltester):
    window.go("requests")
    lst = window.pages["requests"].current()
    rid = lst.model.rows[4].id
    lst.show_record(rid)

    def renumber(d):
        d.editors["number"].setText("TRF-000")      # sorts first now
    fill_and_save(monkeypatch, renumber)
    window.edit_record(rid)
    assert lst.model.row_of(rid) == 0
    assert lst.current_id() == rid, "the detail shows the saved request"
    assert lst.table.currentIndex().row() == 0, "its row is the current one"
    assert [i.row() for i in lst.table.selectionModel().selectedRows()] == [0]

    def new(d):
        d.editors["requesting_agency"].set_value(window.store.agency_id("HCEM"))
        d.editors["number"].setText("TRF-005A")
        d.editors["description"].setPlainText("Generator for the shelter")
    fill_and_save(monkeypatch, new)
    made = window.new_record()
    row = lst.model.row_of(made)
    assert row > 0 and lst.current_id() == made
    assert [i.row() for i in lst.table.selectionModel().selectedRows()] == [row]

    def notes(d):
        d.editors["number"].setText("TRF-999")      # moves to the end
        d.editors["notes"].setPlainText("Moved to the end of the list")
    fill_and_save(monkeypatch, notes)
    window.edit_record(made)
    last = lst.model.rowCount() - 1
    assert lst.model.row_of(made) == last and lst.current_id() == made
    assert lst.table.currentIndex().row() == last
    qtmodeltester.check(lst.model)
