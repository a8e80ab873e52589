# SPDX-License-Identifier: GPL-3.0-or-later
"""Moving a resource request along its workflow from its details: one button per allowed next
step, the commit dialog picking the supplier's resources, the history shown."""
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QLabel, QPushButton

from fieldcoord.ui import request_steps
from fieldcoord.ui.request_steps import CommitDialog


def request(store, number):
    return next(r for r in store.list("request") if r.values.get("number") == number)


def step_buttons(pane):
    return [b.text() for b in pane.steps_box.findChildren(QPushButton)]


def test_the_details_offer_the_next_steps_and_show_the_history(window):
    store = window.store
    acked = request(store, "TRF-004")
    window.open_record(acked.id)
    pane = window.pages["requests"].current().detail
    assert not pane.steps_box.isHidden()
    assert step_buttons(pane) == ["Commit resources", "Cancel request", "Unable to fill"]
    text = pane.browser.toPlainText()
    assert "History" in text and "recorded as requested" in text
    assert "requested → acknowledged" in text
    ended = request(store, "TRF-009")
    window.open_record(ended.id)
    assert step_buttons(pane) == ["Returned"]
    window.open_record(store.agency_id("HCEM"))
    assert window.pages["agencies"].current().detail.steps_box.isHidden()


def test_a_step_button_moves_the_request_and_the_list_follows(window, qtbot):
    store = window.store
    req = request(store, "TRF-005")                 # requested, HCEM's own
    window.open_record(req.id)
    lst = window.pages["requests"].current()
    buttons = {b.text(): b for b in lst.detail.steps_box.findChildren(QPushButton)}
    qtbot.mouseClick(buttons["Acknowledge"], Qt.LeftButton)
    assert store.get(req.id).values["status"] == "acknowledged"
    qtbot.waitUntil(lambda: step_buttons(lst.detail)[:1] == ["Commit resources"])
    row = next(r for r in lst.model.rows if r.id == req.id)
    assert "acknowledged" in [lst.query.display(i, v) for i, v in enumerate(row.values)]


def test_cancelling_asks_why_and_keeps_the_reason(window, monkeypatch):
    store = window.store
    req = request(store, "TRF-008")
    monkeypatch.setattr(request_steps.QInputDialog, "getText",
                        lambda *a, **k: ("sandbags came from the state stockpile", True))
    window.step_record(req.id, "cancelled")
    got = store.get(req.id).values
    assert got["status"] == "cancelled"
    assert got["notes"].endswith("Cancelled: sandbags came from the state stockpile")


def test_the_commit_dialog_lists_the_suppliers_resources_and_commits(window, qtbot):
    store = window.store
    req = request(store, "TRF-005")
    store.edit(req.id, {"status": "acknowledged"})
    req = store.get(req.id)
    d = CommitDialog(store, req)
    qtbot.addWidget(d)
    d.save()
    assert not d.message.isHidden() and "agency supplying" in d.message.text()
    hcem = store.agency_id("HCEM")
    d.supplier.set_value(hcem)
    names = [d.resources.item(i).text() for i in range(d.resources.count())]
    ours = store.list("resource", {"agency": hcem})
    assert len(names) == len(ours) and names
    d.filter.setText(ours[0].title[:6])
    assert any(not d.resources.item(i).isHidden() for i in range(d.resources.count()))
    pick = next(i for i in range(d.resources.count())
                if d.resources.item(i).flags() & Qt.ItemIsEnabled)
    d.resources.item(pick).setCheckState(Qt.Checked)
    chosen = d.chosen()
    agreement = store.list("agreement")[0]
    d.agreement.set_value(agreement.id)
    d.save()
    assert d.result() == QDialog.Accepted, d.message.text()
    got = store.get(req.id).values
    assert got["status"] == "committed" and got["supplying_agency"] == hcem
    assert got["committed_resources"] == chosen and got["agreement"] == agreement.id
    assert store.get(chosen[0]).values["status"] == "assigned"
    assert d.findChildren(QLabel)


def test_a_step_no_longer_allowed_is_refused_with_the_stores_reason(window, qtbot, monkeypatch):
    store = window.store
    req = request(store, "TRF-005")
    window.open_record(req.id)
    lst = window.pages["requests"].current()
    buttons = {b.text(): b for b in lst.detail.steps_box.findChildren(QPushButton)}
    # meanwhile the request moved on (a sync brought the partner's steps)
    store.edit(req.id, {"status": "acknowledged"})
    store.edit(req.id, {"status": "committed", "supplying_agency": "HCEM"})
    store.edit(req.id, {"status": "en_route"})
    said = []
    monkeypatch.setattr(request_steps.QMessageBox, "warning",
                        lambda _p, title, text: said.append((title, text)))
    monkeypatch.setattr(request_steps.QInputDialog, "getText", lambda *a, **k: ("", True))
    qtbot.mouseClick(buttons["Unable to fill"], Qt.LeftButton)
    assert said and said[-1][0] == "Unable to fill"
    assert "is en route and cannot go to unable to fill" in said[-1][1]
    assert "It may go on to: on scene, demobilized" in said[-1][1]
    assert "Traceback" not in said[-1][1]
    assert store.get(req.id).values["status"] == "en_route"
