# SPDX-License-Identifier: GPL-3.0-or-later
"""The facility kind in the app: its page, its dialog, the agency's details and search."""
from dialoghelp import fill_and_save
from PySide6.QtCore import Qt

from fieldcoord.ui.editors import EnumEditor, RefEditor


def test_the_facilities_page_lists_the_demo_and_sits_under_coordination(window):
    page = window.go("facilities")
    lst = page.current()
    titles = [lst.query.display(0, r.values[0]) for r in lst.model.rows]
    assert "Kestrel Bay High School Shelter" in titles and lst.model.total == 8
    items = [window.sidebar.item(i) for i in range(window.sidebar.count())]
    names = [it.data(Qt.UserRole) or it.text() for it in items]
    assert names.index("COORDINATION") < names.index("facilities") < names.index("FIELD")
    assert window.sidebar.currentItem().data(Qt.UserRole) == "facilities"


def test_a_facility_added_from_the_agency_details_shows_there_and_in_search(
        window, qtbot, monkeypatch):
    store = window.store
    agency = store.agency_id("HCFD3")
    window.open_record(agency)
    pane = window.pages["agencies"].current().detail
    menu = pane.add_button.menu()
    assert "Facility" in [a.text() for a in menu.actions()]

    def fill(d):
        assert isinstance(d.editors["kind"], EnumEditor)
        assert isinstance(d.editors["agency"], RefEditor)
        assert d.editors["agency"].value() == agency, "the agency comes preset"
        d.editors["name"].setText("Station 31 Rehab Sector")
        d.editors["kind"].set_value("staging_area")
        d.editors["capacity"].setText("12")
        d.editors["phone"].setText("360 555 0129")
    fill_and_save(monkeypatch, fill)
    action = next(a for a in menu.actions() if a.text() == "Facility")
    action.trigger()
    rec = next(r for r in store.list("facility") if r.title == "Station 31 Rehab Sector")
    assert rec.values["capacity"] == 12 and rec.values["phone"] == "+13605550129"
    window.open_record(agency)
    html = window.pages["agencies"].current().detail.browser.toHtml()
    assert "Facilities" in html and "Station 31 Rehab Sector" in html
    window.focus_search()
    qtbot.keyClicks(window.search, "rehab sector")
    qtbot.waitUntil(lambda: rec.id in window.search_panel.result_ids(), timeout=3000)
