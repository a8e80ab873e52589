# SPDX-License-Identifier: GPL-3.0-or-later
"""What the ICS 205, 205A, 213 RR and 214 forms say for an operation (no Qt needed)."""
import csv
import datetime as dt
import re
import shutil

import pytest

from fieldcoord.core.errors import ValidationError
from fieldcoord.core.format import display_phone, local_time
from fieldcoord.interop.icsforms import Options, Row, Table, build_forms, find_operation
from fieldcoord.store import Store

OP = "Tolliver River Flood Task Force"


@pytest.fixture
def demo(demo_template, tmp_path):
    path = tmp_path / "demo.db"
    shutil.copy(demo_template, path)
    s = Store.open(path)
    yield s
    s.close()


def op_id(store):
    return store.list("operation", {"name": OP})[0].id


def tables(form):
    return [i for i in form.body if isinstance(i, Table)]


def blocks(form):
    return [b for item in [*form.header, *form.body, *form.footer] if isinstance(item, Row)
            for b in item.blocks]


def numbers(form):
    return {b.number for b in blocks(form)} | {t.number for t in tables(form)}


def test_ics205_lists_the_comms_plan_with_each_channels_settings(demo):
    form, = build_forms(demo, "ics205", op_id(demo))
    assert form.code == "ICS 205" and form.title == "INCIDENT RADIO COMMUNICATIONS PLAN"
    assert numbers(form) == {"1", "2", "3", "4", "5", "6"}
    table, = tables(form)
    assert table.title == "Basic Radio Channel Use"
    assert [c.label for c in table.columns][:4] == [
        "Zone Grp.", "Ch #", "Function", "Channel Name/Trunked Radio System Talkgroup"]
    comms = demo.children("comms", "operation", op_id(demo))
    assert len(table.rows) == len(comms) == form.rows == 13
    # zones together, channel numbers in order within each zone
    keys = [(r[0], int(r[1])) for r in table.rows]
    assert keys == sorted(keys)
    by_assignment = {r[4]: r for r in table.rows}
    for row in comms:
        ch = demo.get(row.values["channel"]).values
        printed = by_assignment[row.values["assignment"]]
        assert printed[3].startswith(ch["name"])
        if ch["rx_freq"] is not None:
            assert float(printed[5]) == ch["rx_freq"] and float(printed[7]) == ch["tx_freq"]
    vtac = next(r for r in table.rows if r[3] == "VTAC11")
    assert vtac[5:10] == ["151.1375", "156.7", "151.1375", "156.7", "A"]
    law = next(r for r in table.rows if r[3].startswith("HC LAW TAC 3"))
    assert "talkgroup 2103" in law[3] and law[9] == "D", "a trunked talkgroup, digital"
    assert "AES-256" in law[10], "encryption is named in the remarks"


def test_ics205_header_shows_operational_period_and_preparer(demo):
    when = dt.datetime(2026, 3, 4, 9, 30)
    form, = build_forms(demo, "ics205", OP, Options(prepared_by="Casey Ortiz", prepared_at=when,
                                                   special_instructions="Use plain language."))
    head = {b.number: b for b in blocks(form)}
    start = demo.get(op_id(demo)).values["start"]
    period = {e.label: e.value for e in head["3"].entries}
    assert period["Date From"] == start[:10] and period["Time From"] == start[11:16]
    assert {e.label: e.value for e in head["2"].entries} == {"Date": "2026-03-04",
                                                            "Time": "09:30"}
    assert head["5"].text == "Use plain language."
    assert head["6"].entries[0].value == "Casey Ortiz"
    assert head["1"].value == OP


def test_ics205a_lists_assigned_people_alphabetised_with_their_numbers(demo):
    form, = build_forms(demo, "ics205a", OP)
    assert numbers(form) == {"1", "2", "3", "4"}
    table, = tables(form)
    assert [c.label for c in table.columns] == [
        "Incident Assigned Position", "Name (Alphabetized)",
        "Method(s) of Contact (phone, pager, cell, etc.)"]
    names = [r[1] for r in table.rows]
    assert names == sorted(names, key=str.casefold)
    # every person assigned to the operation is listed with their agency code
    members = demo.children("member", "operation", op_id(demo))
    for m in members:
        code = demo.get(m.values["agency"]).values["code"]
        for person in filter(None, (m.values["assigned_people"] or "").split("; ")):
            assert f"{person} ({code})" in names
    # a listed person's contact methods come from their contact record
    hsco = demo.agency_id("HCSO")
    boyd = next(r for r in table.rows if r[1].startswith("Dale Boyd"))
    contact = demo.list("contact", {"name": "Dale Boyd", "agency": hsco})[0]
    for method in demo.children("method", "contact", contact.id):
        value = method.values["value"]
        shown = display_phone(value) if value.startswith("+") else value
        assert shown in boyd[2]
    assert boyd[0] == (contact.values["ics_position"] or
                       next(m for m in members if m.values["agency"] == hsco).values["role"])


def test_ics205a_member_without_people_shows_the_agencys_duty_line(demo):
    form, = build_forms(demo, "ics205a", OP)
    cng = next(r for r in tables(form)[0].rows if "(CNG)" in r[1])
    lines = [m for m in demo.children("method", "agency", demo.agency_id("CNG"))
             if m.values["duty"] == "24/7" and not m.values["contact"]]
    assert lines, "the demo's National Guard has a 24/7 line"
    for line in lines:
        assert display_phone(line.values["value"]) in cng[2]


def test_ics213rr_one_form_per_request_in_number_order(demo):
    forms = build_forms(demo, "ics213rr", OP)
    requests = demo.children("request", "operation", op_id(demo))
    assert len(forms) == len(requests) == 9
    numbers_printed = [{b.number: b for b in blocks(f)}["3"].value for f in forms]
    assert numbers_printed == sorted(r.values["number"] for r in requests)
    assert numbers(forms[0]) == {str(n) for n in range(1, 20)}


def test_ics213rr_of_one_request(demo):
    req = next(r for r in demo.children("request", "operation", op_id(demo))
               if r.values["number"] == "TRF-001")
    by_id = build_forms(demo, "ics213rr", req.id)
    by_number = build_forms(demo, "ics213rr", OP, Options(request="TRF-001"))
    assert len(by_id) == len(by_number) == 1
    form = by_id[0]
    head = {b.number: b for b in blocks(form)}
    order = tables(form)[0].rows[0]
    assert order[:4] == ["1", "Team", req.values["type"], req.values["description"]]
    assert order[4] == req.values["needed_by"].replace("T", " ")
    assert head["5"].value == req.values["delivery_location"]
    assert head["7"].value == "Harbor County Fire District 3 (HCFD3)"
    priority = head["8"].entries[0]
    assert priority.choices == ("Urgent", "Routine", "Low") and priority.value == "Urgent"
    assert "Harbor County Search and Rescue Council (HCSAR)" in head["12"].value
    assert "SAR Swiftwater Team" in head["13"].text, "committed resources are noted"
    # times and names from the request's history: requested, committed, every step
    steps = demo.request_history(req.id)
    assert [s.status for s in steps] == ["requested", "acknowledged", "committed", "en_route",
                                         "on_scene"]
    assert head["2"].value == local_time(steps[0].at)
    assert head["15"].value == local_time(steps[2].at)
    assert f"Committed {local_time(steps[2].at)} by {steps[2].who}" in head["13"].text
    assert "Under: Harbor County Fire and EMS Mutual Aid Agreement." in head["13"].text
    with pytest.raises(ValidationError, match="is a resource request, not an operation"):
        build_forms(demo, "ics205", req.id)
    with pytest.raises(ValidationError, match="no resource request 'TRF-999'"):
        build_forms(demo, "ics213rr", OP, Options(request="TRF-999"))


def test_ics213rr_without_requests_is_refused(demo):
    oid = demo.add("operation", {"name": "Quiet Week"})
    with pytest.raises(ValidationError, match="no resource requests"):
        build_forms(demo, "ics213rr", oid)


def test_ics214_log_in_time_order_with_resources_assigned(demo):
    form, = build_forms(demo, "ics214", OP, Options(prepared_by="Casey Ortiz",
                                                   position="Liaison Officer"))
    assert numbers(form) == {str(n) for n in range(1, 9)}
    resources, log = tables(form)
    assert (resources.title, log.title) == ("Resources Assigned", "Activity Log")
    entries = demo.children("log", "operation", op_id(demo))
    assert len(log.rows) == len(entries) == form.rows == 16
    times = [r[0] for r in log.rows]
    assert times == sorted(times)
    first = min(entries, key=lambda e: e.values["happened_at"])
    assert log.rows[0] == [first.values["happened_at"].replace("T", " "),
                           f"{first.values['author']}: {first.values['text']}"]
    assert any(r[0] == "Dale Boyd" and r[2] == "Harbor County Sheriff's Office (HCSO)"
               for r in resources.rows)
    head = {b.number: b for b in blocks(form)}
    assert head["3"].value == "Casey Ortiz" and head["4"].value == "Liaison Officer"
    assert head["5"].value == "Harbor County Emergency Management (HCEM)"


def test_ics214_operational_period_limits_the_log(demo):
    entries = demo.children("log", "operation", op_id(demo))
    day = min(e.values["happened_at"] for e in entries)[:10]
    form, = build_forms(demo, "ics214", OP, Options(period_from=f"{day}T00:00",
                                                   period_to=f"{day}T12:00"))
    rows = tables(form)[1].rows
    expected = [e for e in entries if f"{day}T00:00" <= e.values["happened_at"] <= f"{day}T12:00"]
    assert 0 < len(rows) == len(expected) < len(entries)


def test_operation_by_name_id_or_refusal(demo):
    oid = op_id(demo)
    assert find_operation(demo, OP.upper()).id == oid
    assert find_operation(demo, f"  {oid} ").id == oid
    with pytest.raises(ValidationError, match="no operation named 'Nope'"):
        find_operation(demo, "Nope")
    with pytest.raises(ValidationError, match="no operation with id"):
        find_operation(demo, "01a21322-0000-7000-8000-000000000000")
    contact = demo.list("contact", limit=1)[0]
    with pytest.raises(ValidationError, match="is a contact, not an operation"):
        find_operation(demo, contact.id)
    demo.add("operation", {"name": OP})
    with pytest.raises(ValidationError, match="2 operations are named"):
        find_operation(demo, OP)


def test_deleted_operation_and_unknown_form_are_refused(demo):
    oid = demo.add("operation", {"name": "Old Drill"})
    demo.delete(oid)
    with pytest.raises(ValidationError, match="is deleted"):
        build_forms(demo, "ics205", oid)
    with pytest.raises(ValidationError, match="unknown ICS form 'ics209'"):
        build_forms(demo, "ics209", op_id(demo))


def test_empty_operation_prints_blank_forms(demo):
    oid = demo.add("operation", {"name": "Quiet Week"})
    for name in ("ics205", "ics205a", "ics214"):
        form, = build_forms(demo, name, oid)
        assert form.rows == 0 and all(not t.rows for t in tables(form))
        assert f"{form.title} ({form.code})" == form.texts()[0]


def test_block_numbers_follow_the_fema_field_lists(demo, corpus):
    """The numbered blocks of ICS 205, 205A and 213 RR are those of the FEMA forms."""
    path = corpus / "ics-forms" / "ics205-205a-213rr-fields-winlink-DERIVED.csv"
    wanted: dict[str, set] = {}
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            for label in row["label_as_printed_in_template"].split(";"):
                m = re.match(r"\s*(\d+)[A-Z]?\.", label)
                if m:
                    wanted.setdefault(row["form"], set()).add(m.group(1))
    assert set(wanted) == {"ICS 205", "ICS 205A", "ICS 213RR"}
    for code, name in (("ICS 205", "ics205"), ("ICS 205A", "ics205a"),
                       ("ICS 213RR", "ics213rr")):
        form = build_forms(demo, name, OP)[0]
        assert wanted[code] <= numbers(form), (code, wanted[code] - numbers(form))
