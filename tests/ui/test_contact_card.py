# SPDX-License-Identifier: GPL-3.0-or-later
"""The contact card: 24/7 lines first, one-click copy, stale badge, mark verified today."""
import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from fieldcoord.store.alerts import Thresholds
from fieldcoord.ui import present
from fieldcoord.ui.detail import DetailPane


def _contact_with_lines(store, verified_on):
    rid = store.add("contact", {"name": "Dana Duty", "agency": "HCSO", "title": "Watch Commander"})
    store.add("method", {"contact": rid, "kind": "email", "value": "dana.duty@hcso.example",
                         "verified_on": verified_on})
    store.add("method", {"contact": rid, "kind": "mobile", "value": "+1 360 555 0142",
                         "priority": 2, "verified_on": verified_on})
    store.add("method", {"contact": rid, "kind": "phone", "value": "(360) 555-0100",
                         "duty": "24/7", "label": "Watch desk", "priority": 3,
                         "verified_on": verified_on})
    store.add("method", {"contact": rid, "kind": "call_sign", "value": "HARBOR 12"})
    return rid


def test_lines_are_ordered_for_a_call(demo_store):
    rid = _contact_with_lines(demo_store, "2026-01-05")
    lines = present.lines_of(demo_store, rid)
    assert [ln.kind for ln in lines][:2] == ["phone", "mobile"]
    assert lines[0].duty == "24/7", "the 24/7 line comes first"
    assert lines[-1].kind in ("email", "call_sign")


def test_copy_puts_the_number_on_the_clipboard(demo_store, qtbot):
    rid = _contact_with_lines(demo_store, dt.date.today().isoformat())
    pane = DetailPane(demo_store)
    qtbot.addWidget(pane)
    pane.show()
    pane.show_record(rid)
    card = pane.card
    assert card.isVisible()
    with qtbot.waitSignal(pane.copied, timeout=1000) as got:
        qtbot.mouseClick(card.copy_buttons[0], Qt.LeftButton)
    text = QGuiApplication.clipboard().text()
    assert got.args == [text]
    assert text.replace(" ", "").replace("-", "") == "+13605550100", text
    shown = [ln.shown for ln in card.lines]
    assert "HARBOR 12" in shown, "the call sign is shown, with its own Copy button"
    assert len(card.copy_buttons) >= len(card.lines)
    assert "HC LAW TAC 3" in card.extra.text(), "the agency's radio channel is shown"
    assert not card.stale_badge.isVisible()


def test_stale_badge_and_mark_verified_today(demo_store, qtbot):
    old = (dt.date.today() - dt.timedelta(days=400)).isoformat()
    rid = _contact_with_lines(demo_store, old)
    pane = DetailPane(demo_store)
    qtbot.addWidget(pane)
    pane.show()
    pane.show_record(rid)
    card = pane.card
    assert card.stale_badge.isVisible(), "not verified for 400 days: stale"
    assert "400 days ago" in card.verified_label.text()
    with qtbot.waitSignal(pane.changed, timeout=1000) as got:
        qtbot.mouseClick(card.verify_button, Qt.LeftButton)
    today = dt.date.today().isoformat()
    lines = present.lines_of(demo_store, rid)
    assert all(ln.verified_on == today for ln in lines)
    assert all(ln.verified_by == demo_store.home for ln in lines)
    assert {ln.id for ln in lines} <= got.args[0]
    assert not card.stale_badge.isVisible()
    assert today in card.verified_label.text()


def test_stale_after_is_configurable(demo_store, qtbot):
    rid = _contact_with_lines(demo_store,
                              (dt.date.today() - dt.timedelta(days=40)).isoformat())
    pane = DetailPane(demo_store)
    qtbot.addWidget(pane)
    pane.show()
    pane.show_record(rid)
    assert not pane.card.stale_badge.isVisible()
    Thresholds(stale_days=30).save(demo_store)       # Edit > Alert thresholds
    pane.show_record(rid)
    assert pane.card.stale_badge.isVisible()


def test_partner_lines_cannot_be_marked_without_permission(demo_store, qtbot):
    contact = next(c for c in demo_store.list("contact", limit=50)
                   if c.owner != demo_store.home and c.scope == "all")
    pane = DetailPane(demo_store)
    qtbot.addWidget(pane)
    pane.show()
    pane.show_record(contact.id)
    before = demo_store.dump()
    qtbot.mouseClick(pane.card.verify_button, Qt.LeftButton)
    assert contact.owner in pane.card.verified_label.text(), "the card says who maintains it"
    assert demo_store.dump() == before


def test_lines_and_link_records_can_be_edited_from_the_details(demo_store, qtbot):
    from PySide6.QtCore import QUrl
    rid = _contact_with_lines(demo_store, "2026-01-05")
    pane = DetailPane(demo_store)
    qtbot.addWidget(pane)
    pane.show()
    pane.show_record(rid)
    line = pane.card.lines[0]
    with qtbot.waitSignal(pane.edit_requested, timeout=1000) as got:
        pane.card.edit_requested.emit(line.id)
    assert got.args == [line.id]
    op = demo_store.list("operation")[0]
    pane.show_record(op.id)
    member = demo_store.list("member", {"operation": op.id})[0]
    assert f"fcedit:{member.id}" in pane.browser.toHtml()
    with qtbot.waitSignal(pane.edit_requested, timeout=1000) as got:
        pane.browser.anchorClicked.emit(QUrl(f"fcedit:{member.id}"))
    assert got.args == [member.id]
    assert pane.add_button.menu() is not None, "an operation offers several kinds to add"
    kinds = [a.text() for a in pane.add_button.menu().actions()]
    assert "Member agency" in kinds and "Log entry" in kinds
