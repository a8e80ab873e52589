# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input is refused with a message naming the field, and nothing is written."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldcoord.core import kinds as K
from fieldcoord.core.errors import ValidationError
from fieldcoord.core.validate import (
    normalise_datetime,
    normalise_email,
    normalise_phone,
    normalise_scope,
)

BAD = [
    ("agency", {"name": "X", "code": "a"}, "code"),
    ("agency", {"name": "X", "code": "TOO-LONG-CODE-1"}, "code"),
    ("agency", {"name": "X", "code": "XX", "level": "galactic"}, "level"),
    ("agency", {"name": "X", "code": "XX", "lat": "91"}, "lat"),
    ("agency", {"name": "X", "code": "XX", "website": "not a url"}, "website"),
    ("agency", {"name": "X", "code": "XX", "parent": "NOPE"}, "parent"),
    ("agency", {"code": "XX"}, "name"),
    ("contact", {"name": "A", "agency": "NOPE"}, "agency"),
    ("contact", {"name": "A", "agency": "CCF", "shoe_size": "9"}, "shoe_size"),
    ("contact", {"name": "A", "owner": "NOPE"}, "owner"),
    ("contact", {"name": "A", "scope": "friends"}, "scope"),
    ("contact", {"name": "A", "scope": "MPD,XYZ"}, "scope"),
    ("contact", {"name": "A", "scope": ["all", "private"]}, "scope"),
    ("method", {"kind": "phone", "value": "555"}, "contact"),
    ("method", {"agency": "CCF", "kind": "phone", "value": "call me"}, "value"),
    ("method", {"agency": "CCF", "kind": "email", "value": "a@b"}, "value"),
    ("method", {"agency": "CCF", "kind": "pigeon", "value": "x"}, "kind"),
    ("method", {"agency": "CCF", "kind": "phone", "value": "555", "priority": "0"}, "priority"),
    ("method", {"agency": "CCF", "kind": "phone", "value": "555", "verified_on": "31/12/2026"},
     "verified_on"),
    ("resource", {"name": "E1", "agency": "CCF", "type_id": "9-999-9999"}, "type_id"),
    ("resource", {"name": "E1", "agency": "CCF", "type_id": "4-508-1273", "type_level": "4"},
     "type_level"),
    ("resource", {"name": "E1", "agency": "CCF", "quantity": "-2"}, "quantity"),
    ("resource", {"name": "E1", "agency": "CCF", "quantity": "two"}, "quantity"),
    ("resource", {"name": "E1"}, "agency"),
    ("request", {"requesting_agency": "CCF", "description": "x", "priority": "asap"}, "priority"),
    ("request", {"requesting_agency": "CCF", "description": "x",
                 "committed_resources": "0190b8a4-0000-7000-8000-000000000000"},
     "committed_resources"),
    ("agreement", {"title": "MAA", "effective_date": "2026-05-01", "expiry_date": "2025-05-01"},
     "expiry_date"),
    ("operation", {"name": "Op", "start": "2026-05-02 10:00", "end": "2026-05-01 10:00"}, "end"),
    ("channel", {"name": "C", "rx_freq": "5000"}, "rx_freq"),
    ("channel", {"name": "C", "rx_tone": "loud"}, "rx_tone"),
    ("event", {"title": "Drill", "kind": "drill", "start": "tomorrow-ish"}, "start"),
    ("event", {"title": "Drill", "kind": "party", "start": "2026-12-01"}, "kind"),
    ("log", {"text": "", "operation": None}, "text"),
]


@pytest.mark.parametrize("kind,values,field", BAD, ids=[f"{k}-{f}" for k, _, f in BAD])
def test_bad_input_is_refused_and_nothing_written(store, kind, values, field):
    dump = store.dump()
    with pytest.raises(ValidationError) as err:
        store.add(kind, values)
    assert err.value.field == field
    assert "Traceback" not in str(err.value) and len(str(err.value)) < 300
    assert store.dump() == dump


def test_values_are_normalised(store):
    aid = store.add("agency", {"name": " Metro PD ", "code": "mpd", "level": "Local",
                               "discipline": "Law Enforcement", "website": "mpd.example"})
    a = store.get(aid)
    assert a.values["code"] == "MPD" and a.values["name"] == "Metro PD"
    assert a.values["discipline"] == "law_enforcement" and a.values["website"] == "https://mpd.example"
    m = store.get(store.add("method", {"agency": "MPD", "kind": "phone",
                                       "value": "(202) 555-0142 x12", "duty": "24x7"}))
    assert m.values["value"] == "+12025550142;ext=12" and m.values["duty"] == "24/7"
    odd = store.get(store.add("method", {"agency": "MPD", "kind": "phone", "value": "ext 4411#"}))
    assert odd.values["value"] == "ext 4411#", "an unparseable number is kept as typed"
    r = store.get(store.add("resource", {"name": "Ladder 2", "agency": "MPD",
                                         "type_id": "aerial apparatus – fire", "type_level": "1"}))
    assert r.values["type_id"] == "4-508-1273" and r.values["type_level"] == "Type 1"
    assert r.values["type_category"] == "Fire/Hazardous Materials"
    assert r.values["status"] == "available" and r.values["quantity"] == 1


def test_child_records_inherit_their_parents_scope(store):
    store.add("agency", {"name": "Metro PD", "code": "MPD"})
    cid = store.add("contact", {"name": "Dana", "agency": "CCF", "scope": "mpd",
                                "phone": "360 555 0100"})
    assert store.get(cid).scope == "MPD"
    assert store.list("method", {"contact": cid})[0].scope == "MPD"
    op = store.add("operation", {"name": "Flood"})
    assert store.get(op).scope == "all+edit"


def test_deleting_what_others_use_is_refused(store):
    ch = store.add("channel", {"name": "VTAC11", "rx_freq": 151.1375})
    op = store.add("operation", {"name": "Flood"})
    store.add("comms", {"operation": op, "channel": ch, "assignment": "Tactical"})
    with pytest.raises(ValidationError, match="still used by comms plan row"):
        store.delete(ch)
    store.add("contact", {"name": "A", "agency": "CCF"})
    with pytest.raises(ValidationError, match="still used by contact 'A'"):
        store.delete(store.agency_id("CCF"))
    store.delete(op)                     # the comms plan goes with its operation
    store.delete(ch)


def test_agency_code_is_identity(store):
    aid = store.add("agency", {"name": "Metro PD", "code": "MPD"})
    with pytest.raises(ValidationError, match="already used"):
        store.add("agency", {"name": "Other", "code": "mpd"})
    with pytest.raises(ValidationError, match="cannot be changed"):
        store.edit(aid, {"code": "MPX"})
    store.delete(aid)
    with pytest.raises(ValidationError, match="restore it"):
        store.add("agency", {"name": "Metro PD", "code": "MPD"})


@pytest.mark.parametrize("text,expected", [
    ("2026-11-25 14:30", "2026-11-25T14:30"), ("2026-11-25T14:30:05Z", "2026-11-25T14:30:05Z"),
    ("2026-11-25T14:30+0200", "2026-11-25T14:30+02:00"), ("2026-11-25", "2026-11-25"),
    ("2026-11-25t9:05-05:00", "2026-11-25T09:05-05:00")])
def test_datetimes(text, expected):
    assert normalise_datetime(text) == expected


@pytest.mark.parametrize("text", ["2026-02-30", "2026-11-25 25:00", "25/11/2026", "soon",
                                  "2026-11"])
def test_bad_datetimes(text):
    with pytest.raises(ValueError):
        normalise_datetime(text)


def test_phone_and_email_forms():
    assert normalise_phone("+44 20 7946 0958") == "+442079460958"
    assert normalise_phone("(360) 555-0142") == "+13605550142"
    assert normalise_phone("360 555 0142", "US") == normalise_phone("+1-360-555-0142")
    assert normalise_email("MAILTO:Jane@CCF.Example") == "Jane@ccf.example"
    assert normalise_scope("mpd, ccf +edit") == "CCF,MPD+edit"
    assert normalise_scope("ALL") == "all"


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(list(K.KINDS.values())), data=st.data())
def test_field_normaliser_never_crashes(kind, data):
    from fieldcoord.core.validate import normalise_field
    fld = data.draw(st.sampled_from(kind.fields))
    value = data.draw(st.one_of(st.text(max_size=30), st.integers(), st.floats(), st.none()))
    try:
        normalise_field(kind, fld, value)
    except ValidationError as e:
        assert e.field == fld.name and str(e)


def test_a_refused_shortcut_names_its_own_field(store):
    """phone=, email= ... given with a new contact or agency: the refusal names that field,
    so a dialog shows it at its box without reading the message."""
    with pytest.raises(ValidationError) as e:
        store.add("contact", {"name": "Dana Whitfield", "agency": "CCF",
                              "phone": "(202) 555-0100", "email": "dana@"})
    assert e.value.field == "email" and "dana@" in e.value.message
    assert store.count("contact") == 0, "nothing was written"
