# SPDX-License-Identifier: GPL-3.0-or-later
"""The duty-line check: which lines are due, in what order, and what a call records: on the
line when this agency maintains it, on this replica alone when a partner does."""
import datetime as dt

import pytest

from fieldcoord.core.errors import ValidationError
from fieldcoord.store.calls import NO_ANSWER, REACHED, WRONG_NUMBER, due_lines, record_outcome

TODAY = dt.date(2026, 6, 15)


def day(offset):
    return (TODAY + dt.timedelta(days=offset)).isoformat()


@pytest.fixture
def lines(store):
    c = store.add("contact", {"name": "Duty Chief", "agency": "CCF"})
    ids = {
        "person_old": store.add("method", {"contact": c, "kind": "mobile", "value": "360 555 0101",
                                           "duty": "24/7", "verified_on": day(-300)}),
        "dispatch": store.add("method", {"agency": "CCF", "kind": "phone",
                                         "value": "360 555 0100", "duty": "24/7",
                                         "verified_on": day(-200)}),
        "person_never": store.add("method", {"contact": c, "kind": "phone",
                                             "value": "360 555 0102", "duty": "24/7"}),
        "fresh": store.add("method", {"agency": "CCF", "kind": "phone", "value": "360 555 0103",
                                      "duty": "24/7", "verified_on": day(-10)}),
        "office": store.add("method", {"agency": "CCF", "kind": "phone",
                                       "value": "360 555 0104", "duty": "office_hours"}),
    }
    return ids


def test_due_lines_agency_lines_first_then_never_verified_then_oldest(store, lines):
    got = [ln.id for ln in due_lines(store.conn, 180, TODAY, home=store.home)]
    assert got == [lines["dispatch"], lines["person_never"], lines["person_old"]]


def test_a_call_sets_the_verification_or_flags_the_line(store, lines):
    record_outcome(store, lines["dispatch"], REACHED, TODAY)
    rec = store.get(lines["dispatch"]).values
    assert (rec["verified_on"], rec["verified_by"], rec["check_flag"]) == \
        (TODAY.isoformat(), "CCF", None)
    record_outcome(store, lines["person_old"], WRONG_NUMBER, TODAY)
    assert store.get(lines["person_old"]).values["check_flag"] == "wrong_number"
    due = due_lines(store.conn, 180, TODAY, home=store.home)
    assert [ln.id for ln in due] == [lines["person_old"], lines["person_never"]], \
        "a wrong number first; a line reached is off the list"
    record_outcome(store, lines["person_old"], REACHED, TODAY)
    assert store.get(lines["person_old"]).values["check_flag"] is None
    with pytest.raises(ValidationError, match="reached, wrong_number or no_answer"):
        record_outcome(store, lines["person_never"], "maybe", TODAY)


def test_a_call_to_a_partners_line_stays_on_this_replica(replicas):
    from fieldcoord.sync.engine import StorePeer, sync
    ccf, mpd = replicas("ccf", "CCF"), replicas("mpd", "MPD")
    line = ccf.add("method", {"agency": "CCF", "kind": "phone", "value": "360 555 0100",
                              "duty": "24/7"})
    sync(mpd, StorePeer(ccf))
    before = ccf.dump()
    record_outcome(mpd, line, NO_ANSWER)
    assert [ln.flag for ln in due_lines(mpd.conn, 180, home=mpd.home)] == ["no_answer"]
    record_outcome(mpd, line, REACHED)
    assert due_lines(mpd.conn, 180, home=mpd.home) == [], "off MPD's list"
    assert mpd.get(line).values["verified_on"] is None, "CCF's record is CCF's"
    sync(mpd, StorePeer(ccf))
    assert ccf.dump() == before and due_lines(ccf.conn, 180, home=ccf.home)[0].id == line
