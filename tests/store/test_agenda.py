# SPDX-License-Identifier: GPL-3.0-or-later
"""What falls on which day: events over their days, agreement dates, action items due."""
import datetime as dt

from fieldcoord.store.agenda import DUE, EVENT, EXPIRY, REVIEW, agenda


def test_agenda_lists_each_dated_thing_on_its_day(store):
    ev = store.add("event", {"title": "ICS-300", "kind": "course", "start": "2026-06-10 08:00",
                             "end": "2026-06-12 17:00", "location": "Station 1"})
    ag = store.add("agreement", {"title": "Fire MAA", "review_date": "2026-06-11",
                                 "expiry_date": "2027-06-11"})
    act = store.add("action", {"event": ev, "text": "Fix the roster", "due_date": "2026-06-12",
                               "assigned_to": "Training officer"})
    got = agenda(store.conn, dt.date(2026, 6, 11), dt.date(2026, 6, 12))
    assert [(d.day.isoformat(), d.what, d.record) for d in got] == [
        ("2026-06-11", EVENT, ev), ("2026-06-11", REVIEW, ag),
        ("2026-06-12", EVENT, ev), ("2026-06-12", DUE, act)]
    assert got[0].detail == "course, Station 1", "the start time only on the first day"
    assert [d.what for d in agenda(store.conn, dt.date(2027, 6, 1), dt.date(2027, 6, 30))] \
        == [EXPIRY]
    store.delete(ag)
    assert all(d.record != ag for d in agenda(store.conn, dt.date(2026, 6, 1),
                                              dt.date(2026, 6, 30)))
