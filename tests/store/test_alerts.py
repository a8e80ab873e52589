# SPDX-License-Identifier: GPL-3.0-or-later
"""Alerts fire at their thresholds, on records dated relative to a fixed day, and not before."""
import datetime as dt

import pytest

from fieldcoord.core.errors import ValidationError
from fieldcoord.store.alerts import NOTICE, OVERDUE, SOON, Thresholds, alerts

TODAY = dt.date(2026, 6, 15)


def day(offset: int) -> str:
    return (TODAY + dt.timedelta(days=offset)).isoformat()


def of(store, kind, thresholds=None):
    return [a for a in alerts(store, thresholds, today=TODAY) if a.kind == kind]


@pytest.mark.parametrize("offset, level", [(91, None), (90, NOTICE), (31, NOTICE), (30, NOTICE),
                                           (8, NOTICE), (7, SOON), (0, SOON), (-1, OVERDUE)])
def test_an_agreement_review_alerts_at_90_30_and_7_days_and_when_past(store, offset, level):
    rid = store.add("agreement", {"title": "Fire MAA", "review_date": day(offset)})
    found = of(store, "agreement_review")
    assert [(a.level, a.record, a.days) for a in found] == \
        ([] if level is None else [(level, rid, offset)])


def test_an_expired_agreement_says_it_expired_and_not_that_its_review_is_due(store):
    store.add("agreement", {"title": "Old MOU", "effective_date": day(-800),
                            "review_date": day(-400), "expiry_date": day(-3)})
    assert [a.title for a in alerts(store, today=TODAY)] == ["Old MOU expired"]


def test_the_agreement_thresholds_are_the_users(store):
    store.add("agreement", {"title": "Data sharing", "expiry_date": day(40)})
    assert of(store, "agreement_expiry")[0].level == NOTICE
    assert of(store, "agreement_expiry", Thresholds(agreement_days=(30, 14))) == []
    assert of(store, "agreement_expiry", Thresholds(agreement_days=(60, 45)))[0].level == SOON


def test_24_7_lines_not_verified_within_the_threshold_are_counted_per_agency(store):
    mpd = store.add("agency", {"name": "Metro Police", "code": "MPD"})
    c = store.add("contact", {"name": "Watch Commander", "agency": "MPD"})
    store.add("method", {"contact": c, "kind": "phone", "value": "202 555 0100", "duty": "24/7",
                         "verified_on": day(-181)})
    store.add("method", {"agency": "MPD", "kind": "phone", "value": "202 555 0101",
                         "duty": "24/7", "verified_on": day(-180)})
    store.add("method", {"agency": "MPD", "kind": "phone", "value": "202 555 0102",
                         "duty": "office_hours"})           # not a 24/7 line: not counted
    store.add("method", {"agency": "CCF", "kind": "phone", "value": "360 555 0100",
                         "duty": "24/7", "verified_on": day(-10)})
    found = of(store, "stale_lines")
    assert [(a.record, a.level, a.extra) for a in found] == \
        [(mpd, NOTICE, {"stale": 1, "lines": 2})]
    assert found[0].title == "MPD: 1 of 2 24/7 lines not verified in 180 days"
    assert of(store, "stale_lines", Thresholds(stale_days=200)) == []
    both = of(store, "stale_lines", Thresholds(stale_days=100))
    assert both[0].level == SOON and both[0].extra == {"stale": 2, "lines": 2}


def test_overdue_open_action_items_and_urgent_uncommitted_requests(store):
    ev = store.add("event", {"title": "Flood TTX", "kind": "tabletop", "start": day(-60)})
    late = store.add("action", {"event": ev, "text": "Fix the call-down list",
                                "due_date": day(-1), "assigned_to": "HCEM planner"})
    store.add("action", {"event": ev, "text": "Done already", "due_date": day(-5),
                         "status": "done", "closing_note": "Fixed in May"})
    store.add("action", {"event": ev, "text": "Due today", "due_date": day(0)})
    assert [(a.record, a.level, a.days) for a in of(store, "action_overdue")] == \
        [(late, OVERDUE, -1)]
    urgent = store.add("request", {"requesting_agency": "CCF", "description": "Pump",
                                   "priority": "urgent", "number": "CCF-1"})
    store.add("request", {"requesting_agency": "CCF", "description": "Sandbags"})
    store.add("request", {"requesting_agency": "CCF", "description": "Boat",
                          "priority": "urgent", "status": "committed",
                          "supplying_agency": "CCF"})
    assert [(a.record, a.title) for a in of(store, "urgent_request")] == \
        [(urgent, "Urgent request CCF-1 not yet committed")]


def test_conflicts_refusals_and_peers_not_reached_open_their_pages(store):
    store.conn.execute("INSERT INTO conflict (tbl, rid, col, hlc, site, value, state) VALUES "
                       "('contact', 'x', 'title', 1, 1, '\"A\"', 'open')")
    store.conn.execute("INSERT INTO sync_event (at, peer, kind, message) VALUES (?, 'hub', "
                       "'refused', 'refused 2 changes')", (day(-3) + "T10:00:00Z",))
    store.conn.execute("INSERT INTO sync_event (at, peer, kind, message) VALUES (?, 'hub', "
                       "'refused', 'long ago')", (day(-40) + "T10:00:00Z",))
    store.conn.executemany("INSERT INTO peer (name, url, last_sync) VALUES (?, ?, ?)",
                           [("hub", "https://hub", day(-8) + "T09:00:00Z"),
                            ("lan", "http://10.0.0.2", day(-7) + "T09:00:00Z"),
                            ("new", "https://new", None)])
    got = {a.kind: a for a in alerts(store, today=TODAY)}
    assert got["conflicts"].page == "conflicts" and got["conflicts"].extra == {"count": 1}
    assert got["refused"].page == "sync" and got["refused"].extra == {"count": 1}
    peers = [a.extra["peer"] for a in of(store, "peer")]
    assert sorted(peers) == ["hub", "new"], "lan was reached 7 days ago: not reported"


def test_thresholds_are_kept_with_the_database_and_checked(store):
    Thresholds(agreement_days=(60, 14), stale_days=90).save(store)
    got = Thresholds.load(store.conn)
    assert got.agreement_days == (60, 14) and got.stale_days == 90 and got.peer_days == 7
    with pytest.raises(ValidationError, match="whole numbers of days"):
        Thresholds(stale_days=0)
    store.conn.execute("UPDATE meta SET value = 'not json' WHERE key = 'alert_thresholds'")
    assert Thresholds.load(store.conn) == Thresholds(), "unreadable: the defaults"
