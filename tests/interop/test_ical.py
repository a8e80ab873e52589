# SPDX-License-Identifier: GPL-3.0-or-later
"""iCalendar import and export: real calendar files, recurrence, round trips, broken files."""
import datetime as dt
import json
import time
import warnings
import zoneinfo
from pathlib import Path

import icalendar
import pytest

from fieldcoord.cli import main
from fieldcoord.core.errors import ValidationError
from fieldcoord.interop.ical_times import from_stored, local_zone, zone_component
from fieldcoord.interop.runner import run_export, run_import
from fieldcoord.store import Store

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "ical"
VALID = sorted((CORPUS / "ical4j-valid").glob("*.ics"))
INVALID = sorted((CORPUS / "ical4j-invalid").glob("*.ics"))
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no iCalendar corpus at {CORPUS}")

# A ten-minute weekly call in New York time, one date skipped and one moved.
SERIES = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Example//Liaison calendar//EN\r
BEGIN:VEVENT\r
UID:weekly-ops-call@example.org\r
DTSTAMP:20260101T120000Z\r
DTSTART;TZID=America/New_York:20260105T090000\r
DTEND;TZID=America/New_York:20260105T091000\r
RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=20\r
EXDATE;TZID=America/New_York:20260119T090000\r
SUMMARY:Regional ops call\r
DESCRIPTION:Dial-in on the bridge\\, PIN 4411\r
LOCATION:Conference bridge\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:weekly-ops-call@example.org\r
DTSTAMP:20260101T120000Z\r
RECURRENCE-ID;TZID=America/New_York:20260126T090000\r
DTSTART;TZID=America/New_York:20260127T140000\r
DTEND;TZID=America/New_York:20260127T141000\r
SUMMARY:Regional ops call (moved)\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:ttx-2026@example.org\r
DTSTAMP:20260101T120000Z\r
DTSTART;VALUE=DATE:20260310\r
DTEND;VALUE=DATE:20260312\r
SUMMARY:Dam failure TTX\r
CATEGORIES:Tabletop exercise\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:cancelled@example.org\r
DTSTAMP:20260101T120000Z\r
DTSTART:20260401T150000Z\r
SUMMARY:Called off\r
STATUS:CANCELLED\r
END:VEVENT\r
END:VCALENDAR\r
"""


@pytest.fixture
def store(tmp_path):
    s = Store.create(tmp_path / "t.db", "Harbor County Emergency Management", "HCEM")
    yield s
    s.close()


@pytest.fixture(autouse=True)
def _quiet_tzid_guesses():
    # icalendar warns when it maps a vendor TZID (/softwarestudio.org/...) to an IANA zone
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _write(tmp_path, name, text) -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode("utf-8"))
    return p


def _by_title(store):
    return {r.title: r for r in store.list("event")}


def _instant(text):
    """A stored time as an instant in UTC: one without offset is a time of this computer's zone."""
    v = from_stored(text)
    if not isinstance(v, dt.datetime):
        return v
    if v.tzinfo is None:
        zone = local_zone()
        v = v.replace(tzinfo=zone) if zone is not None else v.astimezone()
    return v.astimezone(dt.UTC)


@pytest.fixture
def clock_zone(monkeypatch):
    """clock_zone(name) sets this computer's time zone (TZ) for the rest of the test."""
    def set_zone(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()
    yield set_zone
    monkeypatch.undo()
    time.tzset()


@needs_corpus
@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_every_valid_corpus_calendar_imports_and_reimports_without_duplicates(store, path):
    report = run_import(store, "ical", [path])
    n = sum(report.added.values()) + sum(report.updated.values())
    assert n or any("holds no events" in note for note in report.notes), report.summary()
    count = store.count("event")
    again = run_import(store, "ical", [path])
    assert not again.added and not again.updated
    assert store.count("event") == count
    for rec in store.list("event"):
        assert rec.title and rec.values["start"]


@needs_corpus
@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_every_invalid_corpus_calendar_imports_its_usable_events_or_is_refused_whole(
        store, tmp_path, path):
    run_import(store, "ical", [_write(tmp_path, "series.ics", SERIES)])
    before = store.dump()
    # a good file first: a refused one must undo it too
    files = [_write(tmp_path, "good.ics", SERIES.replace("weekly-ops-call", "other-call")), path]
    try:
        report = run_import(store, "ical", files)
    except ValidationError as e:
        assert f"{path.name}, line " in str(e) and "not a valid iCalendar file" in str(e)
        assert store.dump() == before
        return
    assert report.added["event"] >= 3
    assert all(p.line for p in report.skipped), report.summary()
    assert all("line " in n for n in report.notes if path.name in n), report.summary()


def test_invalid_corpus_reasons_are_specific(tmp_path, store):
    if not INVALID:
        pytest.skip(f"no invalid iCalendar corpus at {CORPUS}")
    got = {path.name: path for path in INVALID}
    # free/busy only, with dates that are not dates: no event, so not a calendar of events
    with pytest.raises(ValidationError) as e:
        run_import(store, "ical", [got["boeing.ics"]])
    assert "boeing.ics, line 5" in str(e.value) and "DTSTAMP" in str(e.value)
    # a bad GEO, an empty line, an empty CLASS: properties the importer does not use
    for name, what in (("sogo-geo-escaped-semicolon.ics", "line 9: GEO"),
                       ("korganizer.ics", None), ("tmeher.ics", "line 36: CLASS has no value")):
        report = run_import(store, "ical", [got[name]])
        assert report.added["event"] == 1 and not report.skipped, report.summary()
        if what:
            assert any(what in n for n in report.notes), report.summary()
    # one event with DTEND:20031114T18300 is skipped, the 16 others imported
    report = run_import(store, "ical", [got["phpicalendar_sample.ics"]])
    assert report.added["event"] == 16
    assert [(p.line, "DTEND '20031114T18300'" in p.reason) for p in report.skipped] == \
        [(186, True)]


def _calendar(*events: str) -> str:
    """A calendar of VEVENTs, each given as its lines between BEGIN and END."""
    out = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Example//Test//EN"]
    for i, body in enumerate(events):
        out += ["BEGIN:VEVENT", f"UID:ev{i}@example.org", "DTSTAMP:20260101T120000Z",
                *body.strip().splitlines(), "END:VEVENT"]
    return "\r\n".join(out + ["END:VCALENDAR", ""])


def _one(store, tmp_path, body: str, name="one.ics"):
    report = run_import(store, "ical", [_write(tmp_path, name, _calendar(body))])
    assert report.added["event"] == 1 and not report.skipped, report.summary()
    return store.list("event")[0].values, report


def test_year_0000_in_created_does_not_refuse_the_file(store, tmp_path):
    # Google writes CREATED:00001231T000000Z; year 0000 is a valid date in RFC 5545
    got, report = _one(store, tmp_path, "CREATED:00001231T000000Z\nDTSTART:20260105T090000Z\n"
                                        "SUMMARY:Shelter walkthrough")
    assert (got["title"], got["start"]) == ("Shelter walkthrough", "2026-01-05T09:00Z")
    assert not report.notes


def test_empty_class_is_ignored(store, tmp_path):
    got, report = _one(store, tmp_path, "CLASS:\nDTSTART:20260105T090000Z\nSUMMARY:EOC shift")
    assert got["title"] == "EOC shift"
    assert any("line 7: CLASS has no value" in n for n in report.notes), report.notes


def test_dtend_and_duration_together_use_dtend(store, tmp_path):
    got, _ = _one(store, tmp_path, "DTSTART:20260105T090000Z\nDURATION:PT2H\n"
                                   "DTEND:20260105T093000Z\nSUMMARY:Radio check")
    assert (got["start"], got["end"]) == ("2026-01-05T09:00Z", "2026-01-05T09:30Z")


def test_rule_with_spaces_in_byday_is_read(store, tmp_path):
    got, _ = _one(store, tmp_path, "DTSTART:20260105T090000Z\nSUMMARY:Net check-in\n"
                                   "RRULE:FREQ=WEEKLY;BYDAY=MO, TU;COUNT=4")
    assert "Repeats: FREQ=WEEKLY;COUNT=4;BYDAY=MO,TU" in got["notes"].splitlines()


def test_value_with_a_leading_space_is_read(store, tmp_path):
    got, report = _one(store, tmp_path, "DTSTART: 20260105T090000Z\nDTEND;VALUE=DATE-TIME: "
                                        "20260105T100000Z\nDTSTAMP: 20260101T120000Z\n"
                                        "SUMMARY: Liaison briefing")
    assert (got["title"], got["start"], got["end"]) == (
        "Liaison briefing", "2026-01-05T09:00Z", "2026-01-05T10:00Z")
    assert not report.notes


def test_empty_exdate_means_no_exception(store, tmp_path):
    got, _ = _one(store, tmp_path, "DTSTART:20260105T090000Z\nSUMMARY:Ops call\n"
                                   "RRULE:FREQ=DAILY;COUNT=3\nEXDATE:")
    assert not any(line.startswith("Except:") for line in got["notes"].splitlines())
    assert "Repeats: FREQ=DAILY;COUNT=3" in got["notes"]


def test_one_unusable_event_is_skipped_with_its_line_and_the_others_imported(store, tmp_path):
    text = _calendar("DTSTART:20260105T090000Z\nSUMMARY:First",
                     "DTSTART:2026-01-06\nSUMMARY:Broken start",            # line 13
                     "SUMMARY:No start at all",
                     "DTSTART:00000101T090000Z\nSUMMARY:Year zero",         # line 24
                     "DTSTART:20260107T090000Z\nSUMMARY:Last")
    path = _write(tmp_path, "mixed.ics", text)
    report = run_import(store, "ical", [path])
    assert sorted(_by_title(store)) == ["First", "Last"]
    assert [(p.source, p.line) for p in report.skipped] == [
        (str(path), 13), (str(path), 16), (str(path), 24)]
    assert "DTSTART '2026-01-06'" in report.skipped[0].reason
    assert "no start" in report.skipped[1].reason
    assert "year 0000" in report.skipped[2].reason
    assert "mixed.ics:13: DTSTART '2026-01-06'" in report.summary()
    # a file that is not a calendar after it: nothing of either is kept
    before = store.dump()
    with pytest.raises(ValidationError, match=r"notes\.txt, line 1: "):
        run_import(store, "ical", [path, _write(tmp_path, "notes.txt", "Radio log\r\n")])
    assert store.dump() == before


def test_recurring_series_stays_one_event_with_its_rule(store, tmp_path):
    report = run_import(store, "ical", [_write(tmp_path, "series.ics", SERIES)])
    assert report.added["event"] == 3
    assert [p.reason for p in report.skipped] == ["'Called off' is cancelled"]
    events = _by_title(store)
    master = events["Regional ops call"].values
    assert master["start"] == "2026-01-05T09:00-05:00"
    assert master["end"] == "2026-01-05T09:10-05:00"
    assert master["location"] == "Conference bridge"
    notes = master["notes"].splitlines()
    assert notes[0] == "Dial-in on the bridge, PIN 4411"
    assert "Repeats: FREQ=WEEKLY;COUNT=20;BYDAY=MO" in notes
    assert "Except: 2026-01-19T09:00-05:00" in notes
    assert "Time zone: America/New_York" in notes
    assert notes[-1] == "iCalendar UID: weekly-ops-call@example.org"
    moved = events["Regional ops call (moved)"].values
    assert moved["start"] == "2026-01-27T14:00-05:00"
    assert moved["notes"].endswith("(occurrence 2026-01-26T09:00-05:00)")
    ttx = events["Dam failure TTX"].values
    assert (ttx["kind"], ttx["start"], ttx["end"]) == ("tabletop", "2026-03-10", "2026-03-11")


def test_reimport_matches_by_uid_and_updates(store, tmp_path):
    path = _write(tmp_path, "series.ics", SERIES)
    run_import(store, "ical", [path])
    ids_before = {r.id for r in store.list("event")}
    path.write_bytes(SERIES.replace("SUMMARY:Dam failure TTX", "SUMMARY:Dam failure TTX (v2)")
                     .encode())
    report = run_import(store, "ical", [path])
    assert report.updated["event"] == 1 and report.unchanged["event"] == 2
    assert not report.added
    assert {r.id for r in store.list("event")} == ids_before
    assert "Dam failure TTX (v2)" in _by_title(store)


def test_export_round_trip_keeps_titles_times_and_kinds(store, tmp_path, clock_zone):
    from fieldcoord.demo import load_demo
    clock_zone("America/Los_Angeles")           # the demo's times have no offset: local times
    load_demo(store)
    run_import(store, "ical", [_write(tmp_path, "series.ics", SERIES)])
    store.add("event", {"title": "Night drill; pier 3, berth A", "kind": "drill",
                        "start": "2026-06-01T22:00+02:00", "end": "2026-06-02T01:30+02:00"})
    out = tmp_path / "out.ics"
    report = run_export(store, "ical", out, {"kind": "event"})
    assert report.written["event"] == store.count("event")
    other = Store.create(tmp_path / "other.db", "Other County", "OC")
    back = run_import(other, "ical", [out])
    assert back.added["event"] == store.count("event") and not back.skipped
    mine, theirs = _by_title(store), _by_title(other)
    assert set(mine) == set(theirs)
    for title, rec in mine.items():
        got = theirs[title].values
        assert _instant(got["start"]) == _instant(rec.values["start"]), title
        assert _instant(got["end"]) == _instant(rec.values["end"]) if rec.values["end"] \
            else got["end"] is None, title
        assert got["kind"] == rec.values["kind"], title
        assert got["location"] == rec.values["location"], title
    # the series keeps its rule, zone and exception; the moved occurrence its link
    assert "Repeats: FREQ=WEEKLY;COUNT=20;BYDAY=MO" in theirs["Regional ops call"].values["notes"]
    assert theirs["Regional ops call"].values["start"] == "2026-01-05T09:00-05:00"
    # importing our own export into the same directory changes nothing
    again = run_import(store, "ical", [out])
    assert not again.added and not again.updated


def test_export_follows_rfc5545(store, tmp_path):
    from fieldcoord.demo import load_demo
    load_demo(store)
    run_import(store, "ical", [_write(tmp_path, "series.ics", SERIES)])
    store.add("event", {"title": "Übung " + "lange Beschreibung " * 8, "kind": "course",
                        "start": "2026-05-04", "notes": "Room A; bring PPE, radios\nline two"})
    out = tmp_path / "all.ics"
    report = run_export(store, "ical", out, {})
    raw = out.read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n")          # CRLF only
    assert max(len(line) for line in raw.split(b"\r\n")) <= 75   # folded at 75 octets
    assert b"DESCRIPTION:Room A\\; bring PPE\\, radios\\nline two" in raw.replace(b"\r\n ", b"")
    cal = icalendar.Calendar.from_ical(raw)
    events = cal.walk("VEVENT")
    assert all(ev.get("DTSTAMP") and ev.get("UID") for ev in events)
    assert len({str(ev["UID"]) + str(ev.get("RECURRENCE-ID", "")) for ev in events}) == \
        len(events)
    series = [ev for ev in events if str(ev["SUMMARY"]) == "Regional ops call"][0]
    assert series["DTSTART"].params["TZID"] == "America/New_York"
    assert series["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=20;BYDAY=MO"
    assert "America/New_York" in [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")]
    day = [ev for ev in events if str(ev["SUMMARY"]).startswith("Übung")][0]
    assert day["DTSTART"].to_ical() == b"20260504" and day["DTEND"].to_ical() == b"20260505"
    # agreements: one all-day entry per review and expiry date, with a reminder
    dates = [ev for ev in events if str(ev["UID"]).endswith(("-review@fieldcoord",
                                                             "-expiry@fieldcoord"))]
    expected = sum(bool(a.values["review_date"]) + bool(a.values["expiry_date"])
                   for a in store.list("agreement"))
    assert len(dates) == expected > 0
    assert report.written["agreement"] == sum(
        1 for a in store.list("agreement") if a.values["review_date"] or a.values["expiry_date"])
    assert all(ev.walk("VALARM") for ev in dates)
    # the same records give the same UIDs next time
    run_export(store, "ical", tmp_path / "again.ics", {})
    uids = lambda p: sorted(str(e["UID"]) for e in icalendar.Calendar.from_ical(  # noqa: E731
        p.read_bytes()).walk("VEVENT"))
    assert uids(out) == uids(tmp_path / "again.ics")


def test_agreement_dates_are_not_imported_as_events(store, tmp_path):
    from fieldcoord.demo import load_demo
    load_demo(store)
    out = tmp_path / "agreements.ics"
    run_export(store, "ical", out, {"kind": "agreement"})
    count = store.count("event")
    report = run_import(store, "ical", [out])
    assert not report.added and report.skipped
    assert all("agreement" in p.reason for p in report.skipped)
    assert store.count("event") == count


def test_not_a_calendar_is_refused(store, tmp_path):
    for name, text, problem in (
            ("empty.ics", "", "holds no calendar"),
            ("vcard.ics", "BEGIN:VCARD\r\nFN:x\r\nEND:VCARD\r\n", "outside of a calendar"),
            ("open.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", "never ended"),
            ("notes.ics", "Meeting notes\r\nBring radios\r\n",
             "line 1: not a valid iCalendar file: 'Meeting notes' is not a NAME:value line")):
        with pytest.raises(ValidationError, match=problem) as e:
            run_import(store, "ical", [_write(tmp_path, name, text)])
        assert name in str(e.value)
    assert store.count("event") == 0


def test_cli_import_and_export_with_json(tmp_path, capsys):
    db = tmp_path / "cli.db"
    assert main(["--db", str(db), "init", "--agency", "Harbor County EM", "--code",
                 "HCEM"]) == 0
    capsys.readouterr()
    src = _write(tmp_path, "series.ics", SERIES)
    assert main(["--db", str(db), "--json", "import", "ical", str(src), "--agency",
                 "HCEM"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["added"] == {"event": 3} and len(got["skipped"]) == 1
    out = tmp_path / "out.ics"
    assert main(["--db", str(db), "--json", "export", "ical", str(out), "--kind",
                 "event"]) == 0
    assert json.loads(capsys.readouterr().out)["written"] == {"event": 3}
    assert b"X-FIELDCOORD-HOST:HCEM" in out.read_bytes()
    bad = _write(tmp_path, "bad.ics", "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nSUMMARY:x\r\n")
    assert main(["--db", str(db), "import", "ical", str(bad)]) == 2
    assert "bad.ics, line 1" in capsys.readouterr().err


def test_event_kind_option_and_unknown_zone(store, tmp_path):
    text = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:a@x\r\n"
            "DTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Mars/Olympus:20260105T090000\r\n"
            "SUMMARY:Pier evacuation\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:b@x\r\n"
            "DTSTAMP:20260101T000000Z\r\nDTSTART:20260106T090000Z\r\n"
            "SUMMARY:EOC staff meeting\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
    report = run_import(store, "ical", [_write(tmp_path, "z.ics", text)], {"kind": "drill"})
    events = _by_title(store)
    # the file says nothing of the first one's kind: --kind drill does; the second says meeting
    assert events["Pier evacuation"].values["kind"] == "drill"
    assert events["EOC staff meeting"].values["kind"] == "meeting"
    assert events["Pier evacuation"].values["start"] == "2026-01-05T09:00"
    assert any("Mars/Olympus" in n for n in report.notes)
    with pytest.raises(ValidationError, match="import as events"):
        run_import(store, "ical", [_write(tmp_path, "z.ics", text)], {"kind": "contact"})


def test_a_binary_file_is_refused_as_not_text(tmp_path):
    from fieldcoord.interop.runner import run_import
    from fieldcoord.store import Store
    path = tmp_path / "photo.ics"
    path.write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4)
    with Store.create(tmp_path / "t.db", "Harbor County Emergency Management", "HCEM") as store:
        before = store.dump()
        with pytest.raises(ValidationError, match="photo.ics: not a valid iCalendar file: it is "
                                                  "not a text file"):
            run_import(store, "ical", [path])
        assert store.dump() == before


# ------------------------------------------------------------------ export: times and zones

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def _export_events(store, tmp_path, name="out.ics", **options):
    out = tmp_path / name
    report = run_export(store, "ical", out, {"kind": "event", **options})
    raw = out.read_bytes()
    return raw.replace(b"\r\n ", b""), icalendar.Calendar.from_ical(raw), report


def _offsets_agree(component, tz, since: dt.datetime, until: dt.datetime):
    """The moments (every five days and some hours) where a VTIMEZONE, read by the icalendar
    package from its own rules, gives another UTC offset than zoneinfo."""
    theirs = icalendar.Timezone.from_ical(component.to_ical()).to_tz(lookup_tzid=False)
    wrong = []
    second, stop = int(since.timestamp()), int(until.timestamp())
    while second < stop:
        want = dt.datetime.fromtimestamp(second, tz).utcoffset()
        got = dt.datetime.fromtimestamp(second, theirs).utcoffset()
        if want != got:
            wrong.append((dt.datetime.fromtimestamp(second, dt.UTC), want, got))
        second += 5 * 86400 + 5 * 3600 + 7 * 60
    return wrong


def test_a_time_without_offset_is_written_in_its_zone_and_read_back_elsewhere(
        store, tmp_path, clock_zone):
    # issue 15: a tabletop at 09:00 in Los Angeles showed at 09:00 in New York, not 12:00
    clock_zone("America/Los_Angeles")
    store.add("event", {"title": "Dam failure tabletop", "kind": "tabletop",
                        "start": "2026-03-10T09:00", "end": "2026-03-10T12:00"})
    raw, cal, report = _export_events(store, tmp_path)
    assert b"DTSTART;TZID=America/Los_Angeles:20260310T090000\r\n" in raw
    assert b"DTEND;TZID=America/Los_Angeles:20260310T120000\r\n" in raw
    assert [str(z["TZID"]) for z in cal.walk("VTIMEZONE")] == ["America/Los_Angeles"]
    assert any("America/Los_Angeles" in n and "this computer" in n for n in report.notes)
    start = cal.walk("VEVENT")[0]["DTSTART"].dt.astimezone(NEW_YORK)
    assert (start.date(), start.hour, start.minute) == (dt.date(2026, 3, 10), 12, 0)
    # our own directory reads its export as the same moments: nothing changes
    again = run_import(store, "ical", [tmp_path / "out.ics"])
    assert not again.added and not again.updated and again.unchanged["event"] == 1
    # a partner on a computer in New York imports it: 12:00 to 15:00 there
    clock_zone("America/New_York")
    with Store.create(tmp_path / "ny.db", "Other County", "OC") as other:
        run_import(other, "ical", [tmp_path / "out.ics"])
        got = other.list("event")[0].values
        assert from_stored(got["start"]).astimezone(NEW_YORK) == \
            dt.datetime(2026, 3, 10, 12, 0, tzinfo=NEW_YORK)
        assert from_stored(got["end"]).astimezone(NEW_YORK) == \
            dt.datetime(2026, 3, 10, 15, 0, tzinfo=NEW_YORK)


def test_the_vtimezone_is_yearly_rules_not_rdate_lists(store, tmp_path, clock_zone):
    clock_zone("UTC")
    run_import(store, "ical", [_write(tmp_path, "series.ics", SERIES)])
    raw, cal, _ = _export_events(store, tmp_path)
    assert b"RDATE" not in raw and b"2038" not in raw        # no list that stops in 2037
    [zone] = cal.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "America/New_York"
    parts = {c.name: c for c in zone.subcomponents}
    assert sorted(parts) == ["DAYLIGHT", "STANDARD"] and len(zone.subcomponents) == 2
    assert dict(parts["DAYLIGHT"]["RRULE"]) == {"FREQ": ["YEARLY"], "BYMONTH": [3],
                                                "BYDAY": ["2SU"]}
    assert dict(parts["STANDARD"]["RRULE"]) == {"FREQ": ["YEARLY"], "BYMONTH": [11],
                                                "BYDAY": ["1SU"]}
    # DTSTART is the local time before the change (02:00), as RFC 5545 asks
    assert parts["DAYLIGHT"]["DTSTART"].dt == dt.datetime(2025, 3, 9, 2, 0)
    assert parts["STANDARD"]["DTSTART"].dt == dt.datetime(2025, 11, 2, 2, 0)
    assert parts["DAYLIGHT"]["TZOFFSETFROM"].to_ical() == "-0500"
    assert parts["DAYLIGHT"]["TZOFFSETTO"].to_ical() == "-0400"
    # read from its rules alone, the zone changes at the right second, in 2026 and in 2050
    theirs = icalendar.Timezone.from_ical(zone.to_ical()).to_tz(lookup_tzid=False)
    for change in (dt.datetime(2026, 3, 8, 7, 0), dt.datetime(2050, 11, 6, 6, 0)):
        change = change.replace(tzinfo=dt.UTC)
        for moment in (change - dt.timedelta(seconds=1), change):
            assert moment.astimezone(theirs).utcoffset() == moment.astimezone(NEW_YORK).utcoffset()
    assert not _offsets_agree(zone, NEW_YORK, dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                              dt.datetime(2060, 1, 1, tzinfo=dt.UTC))


@pytest.mark.parametrize("key, since", [
    ("America/Los_Angeles", 2005),    # the 2007 change of US rules: old rules end with UNTIL
    ("Europe/Dublin", 2020),          # winter is Ireland's "daylight" time (negative DST)
    ("Australia/Lord_Howe", 2020),    # half an hour of daylight saving, southern summer
    ("Asia/Jerusalem", 2020),         # Friday on or after the 23rd of March
    ("Africa/Cairo", 2024),           # the day after the last Thursday: Oct 26-31, or Nov 1
    ("America/Santiago", 2020),
    ("Africa/Casablanca", 2024),      # no rule: one change before and after each Ramadan
    ("America/Sao_Paulo", 2015),      # daylight saving abolished in 2019
])
def test_the_vtimezone_gives_the_offsets_zoneinfo_gives(key, since):
    tz = zoneinfo.ZoneInfo(key)
    first, last = dt.datetime(since, 6, 1, 9, tzinfo=tz), dt.datetime(2026, 6, 1, 9, tzinfo=tz)
    component = zone_component(tz, first, last)
    raw = component.to_ical()
    assert b"RDATE" not in raw
    assert all(c.name in ("STANDARD", "DAYLIGHT") for c in component.subcomponents)
    if key != "Africa/Casablanca":
        assert all(c.get("RRULE") for c in component.subcomponents
                   if c["DTSTART"].dt.year >= 2027), raw.decode()
    # described to 28 years past the last time (a rule still running goes on past that)
    assert not _offsets_agree(component, tz, first, dt.datetime(2055, 1, 1, tzinfo=tz))


def test_times_are_written_in_utc_where_no_zone_is_known(store, tmp_path, clock_zone):
    clock_zone("UTC")
    store.add("event", {"title": "Radio check", "kind": "drill", "start": "2026-03-10T09:00"})
    store.add("event", {"title": "Net control", "kind": "meeting", "start": "2026-03-10T16:00Z"})
    store.add("event", {"title": "Port briefing", "kind": "meeting",
                        "start": "2026-03-10T09:00-07:00", "end": "2026-03-10T10:00-07:00"})
    raw, cal, _ = _export_events(store, tmp_path)
    starts = {str(ev["SUMMARY"]): ev["DTSTART"].to_ical() for ev in cal.walk("VEVENT")}
    assert starts == {"Radio check": b"20260310T090000Z", "Net control": b"20260310T160000Z",
                      "Port briefing": b"20260310T160000Z"}
    assert not cal.walk("VTIMEZONE") and b"TZID" not in raw
    # a computer whose zone has no name (TZ holds a POSIX rule): its clock's rules convert
    clock_zone("<-03>3")
    raw, cal, report = _export_events(store, tmp_path, "posix.ics")
    starts = {str(ev["SUMMARY"]): ev["DTSTART"].to_ical() for ev in cal.walk("VEVENT")}
    assert starts["Radio check"] == b"20260310T120000Z"
    assert not cal.walk("VTIMEZONE")
    assert any("in UTC" in n for n in report.notes)


@pytest.mark.parametrize("key, offset", [("America/Phoenix", "-0700"),
                                         ("America/Sao_Paulo", "-0300")])
def test_a_zone_without_daylight_saving_is_one_standard(store, tmp_path, clock_zone, key,
                                                        offset):
    clock_zone(key)
    store.add("event", {"title": "Shelter walkthrough", "kind": "meeting",
                        "start": "2026-01-15T10:00", "end": "2026-01-15T11:00"})
    raw, cal, _ = _export_events(store, tmp_path)
    assert f"DTSTART;TZID={key}:20260115T100000\r\n".encode() in raw
    [zone] = cal.walk("VTIMEZONE")
    assert str(zone["TZID"]) == key
    [standard] = zone.subcomponents
    assert standard.name == "STANDARD"
    assert standard["TZOFFSETFROM"].to_ical() == standard["TZOFFSETTO"].to_ical() == offset
    assert "RRULE" not in standard and "RDATE" not in standard


def test_a_floating_series_runs_in_the_local_zone_with_until_in_utc(store, tmp_path,
                                                                      clock_zone):
    clock_zone("America/Chicago")
    _one(store, tmp_path, "DTSTART:20260105T090000\nSUMMARY:Levee patrol call\n"
                          "RRULE:FREQ=WEEKLY;UNTIL=20260302T090000;BYDAY=MO")
    raw, cal, _ = _export_events(store, tmp_path)
    ev = cal.walk("VEVENT")[0]
    assert ev["DTSTART"].params["TZID"] == "America/Chicago"
    assert ev["RRULE"]["UNTIL"] == [dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)]
    assert ev["RRULE"]["BYDAY"] == ["MO"]


def test_time_zone_option_names_the_zone_of_times_without_offset(store, tmp_path, clock_zone):
    clock_zone("UTC")
    store.add("event", {"title": "Harbor drill", "kind": "drill", "start": "2026-07-01T09:00"})
    raw, cal, report = _export_events(store, tmp_path, time_zone="Europe/Dublin")
    assert b"DTSTART;TZID=Europe/Dublin:20260701T090000\r\n" in raw
    assert any("the time_zone option" in n for n in report.notes)
    for bad in ("Mars/Olympus", "../etc/passwd"):
        with pytest.raises(ValidationError, match="is not one fieldcoord knows"):
            run_export(store, "ical", tmp_path / "bad.ics", {"time_zone": bad})
    assert not (tmp_path / "bad.ics").exists()
