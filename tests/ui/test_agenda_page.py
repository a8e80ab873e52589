# SPDX-License-Identifier: GPL-3.0-or-later
"""The Agenda page: the month marks busy days, the week lists them, an item opens its record."""
import datetime as dt

from PySide6.QtCore import QDate

from fieldcoord.ui.agenda_page import RECORD_ROLE


def test_the_week_lists_what_falls_on_it_and_an_item_opens_its_record(window, qtbot):
    store = window.store
    day = dt.date.today() + dt.timedelta(days=9)
    ev = store.add("event", {"title": "Shelter drill", "kind": "drill",
                             "start": f"{day.isoformat()} 10:00"})
    page = window.go("agenda")
    page.calendar.setSelectedDate(QDate(day.year, day.month, day.day))
    texts = [page.week.topLevelItem(i).text(0) for i in range(page.week.topLevelItemCount())]
    assert any("Shelter drill" in t for t in texts)
    assert page.calendar.dateTextFormat(QDate(day.year, day.month, day.day)).fontWeight() > 400
    item = next(page.week.topLevelItem(i) for i in range(page.week.topLevelItemCount())
                if page.week.topLevelItem(i).data(0, RECORD_ROLE) == ev)
    page.week.itemActivated.emit(item, 0)
    assert window.current_page == "calendar" and window.selected_id() == ev
