# SPDX-License-Identifier: GPL-3.0-or-later
"""Alerts in the window: the panel with its count, opening what an alert is about, the
thresholds dialog, and staleness visible in the contact and agency lists."""
import datetime as dt

from PySide6.QtCore import Qt

from fieldcoord.store.alerts import OVERDUE, Thresholds, alerts
from fieldcoord.ui.alerts_panel import ALERT_ROLE, ThresholdsDialog


def _items(panel):
    tree = panel.tree
    return [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]


def test_the_button_counts_the_alerts_and_is_red_while_some_are_overdue(window, qtbot):
    found = alerts(window.store)
    overdue = sum(a.level == OVERDUE for a in found)
    assert overdue >= 2, "the demo has agreements past review and overdue action items"
    button = window.alerts_button
    assert button.text() == f"Alerts {len(found)}" and "background" in button.styleSheet()
    assert not window.alerts_dock.isVisible()
    qtbot.mouseClick(button, Qt.LeftButton)
    assert window.alerts_dock.isVisible()
    shown = [it.data(0, ALERT_ROLE) for it in _items(window.alerts_panel)
             if it.data(0, ALERT_ROLE) is not None]
    assert shown == found
    assert _items(window.alerts_panel)[0].text(0) == f"Overdue ({overdue})"


def test_an_alert_opens_the_record_it_is_about(window, qtbot):
    review = next(a for a in alerts(window.store) if a.kind == "agreement_review")
    item = next(it for it in _items(window.alerts_panel) if it.data(0, ALERT_ROLE) == review)
    window.alerts_panel.tree.itemActivated.emit(item, 0)
    assert window.current_page == "agreements"
    assert window.selected_id() == review.record
    stale = next(a for a in alerts(window.store) if a.kind == "stale_lines")
    window.open_alert(stale)
    assert window.current_page == "agencies" and window.selected_id() == stale.record


def test_a_change_refreshes_the_alerts(window, qtbot):
    before = len(alerts(window.store))
    rid = window.store.add("agreement", {"title": "Water MOU", "expiry_date":
                                         (dt.date.today() + dt.timedelta(days=3)).isoformat()})
    window.records_changed({"agreement"}, {rid})
    qtbot.waitUntil(lambda: window.alerts_button.text() == f"Alerts {before + 1}", timeout=3000)


def test_the_thresholds_dialog_saves_with_the_database_and_refuses_nonsense(demo_store, qtbot):
    d = ThresholdsDialog(demo_store)
    qtbot.addWidget(d)
    d.agreement.setText("60, 14")
    d.spins["stale_days"].setValue(30)
    d.save()
    assert d.result() == d.DialogCode.Accepted
    got = Thresholds.load(demo_store.conn)
    assert got.agreement_days == (60, 14) and got.stale_days == 30
    e = ThresholdsDialog(demo_store)
    qtbot.addWidget(e)
    e.agreement.setText("soon")
    e.save()
    assert e.error.isVisibleTo(e) and "whole numbers" in e.error.text()
    assert Thresholds.load(demo_store.conn).agreement_days == (60, 14)


def test_contacts_show_when_they_were_last_verified_and_filter_the_stale_ones(window, qtbot):
    page = window.go("contacts")
    lst = page.current()
    col = lst.spec.columns.index("last_verified")
    assert lst.query.titles[col] == "Verified"
    combo = lst.filters["verified"]
    combo.setCurrentIndex(combo.findData("stale"))
    qtbot.waitUntil(lambda: lst.model.rowCount() > 0, timeout=3000)
    limit = (dt.date.today() - dt.timedelta(days=Thresholds.load(
        window.store.conn).stale_days)).isoformat()
    shown = [lst.query.display(col, r.values[col]) for r in lst.model.rows]
    assert all(v == "" or v < limit for v in shown), shown[:5]
    stale_total = lst.model.total
    combo.setCurrentIndex(0)
    qtbot.waitUntil(lambda: lst.model.total > stale_total, timeout=3000)
