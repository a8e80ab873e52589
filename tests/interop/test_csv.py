# SPDX-License-Identifier: GPL-3.0-or-later
"""CSV import and export: mail-client exports, encodings, mappings, the USFA fire registry."""
import csv
import json
from pathlib import Path

import pytest

from fieldcoord.core.errors import Cancelled, ValidationError
from fieldcoord.interop import csvio
from fieldcoord.interop.runner import run_export, run_import
from fieldcoord.interop.textfile import decode, sniff_delimiter

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
CSV_FILES = sorted((CORPUS / "contacts-csv").rglob("*.csv")) + \
    sorted((CORPUS / "agencies").glob("*.csv")) if CORPUS.is_dir() else []
USFA = CORPUS / "agencies" / "usfa-registry-station.csv"
THUNDERBIRD = CORPUS / "contacts-csv" / "thunderbird"


def _corpus_or_skip():
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS}")


def people(store):
    return {c.values["name"]: c for c in store.list("contact")}


def methods_of(store, rid):
    return sorted((m.values["kind"], m.values["value"], m.values["label"])
                  for m in store.children("method", "contact", rid))


def usfa_subset(tmp_path, rows=400):
    """The registry's header and first rows (a fast stand-in for the 8,077-row file)."""
    with USFA.open(encoding="utf-8", newline="") as f:
        lines = [next(f) for _ in range(rows + 1)]
    p = tmp_path / "usfa-subset.csv"
    p.write_text("".join(lines), encoding="utf-8", newline="")
    return p


# ----------------------------------------------------------------------- the corpus
@pytest.mark.parametrize("path", [p for p in CSV_FILES if p != USFA], ids=lambda p: p.name)
def test_every_corpus_csv_imports_or_fails_with_a_clear_message(path, hcem):
    _corpus_or_skip()
    before = hcem.dump()
    try:
        report = run_import(hcem, "csv", [path])
    except ValidationError as e:
        # a file without a header row: the message names the columns and the way out
        assert "--map" in str(e) and str(path) in str(e)
        assert hcem.dump() == before
        return
    assert report.added or report.updated or report.unchanged
    assert not report.skipped


def test_thunderbird_exports_in_utf16_shift_jis_and_semicolons(hcem):
    _corpus_or_skip()
    run_import(hcem, "csv", [THUNDERBIRD / "utf16_addressbook.csv",
                             THUNDERBIRD / "shiftjis_addressbook.csv",
                             THUNDERBIRD / "csv_semicolon.csv"])
    got = people(hcem)
    assert "名無しの権兵衛" in got
    nanashi = got["名無しの権兵衛"]
    assert ("email", "名無しの権兵衛@host.invalid", None) in methods_of(hcem, nanashi.id)
    assert {"John Doe", "Jane Doe"} <= set(got)


def test_an_organisation_row_becomes_an_agency_with_its_line(hcem):
    _corpus_or_skip()
    run_import(hcem, "csv", [THUNDERBIRD / "quote.csv"])
    acer = [a for a in hcem.list("agency") if a.values["name"] == "Acer America"][0]
    lines = [(m.values["kind"], m.values["value"]) for m in hcem.list("method")
             if m.values["agency"] == acer.id and not m.values["contact"]]
    assert lines == [("phone", "+18000000000")]


def test_a_file_without_header_imports_with_column_numbers(hcem):
    _corpus_or_skip()
    report = run_import(hcem, "csv", [THUNDERBIRD / "csv_no_header.csv"],
                        {"map": {"name": "1", "email": "4"}})
    assert report.added["contact"] == 2
    assert ("email", "john@doe.invalid", None) in methods_of(hcem, people(hcem)["John Doe"].id)


# ----------------------------------------------------------------------- hand-written files
GOOGLE = (
    'Name,Given Name,Family Name,Notes,E-mail 1 - Type,E-mail 1 - Value,Phone 1 - Type,'
    'Phone 1 - Value,Phone 2 - Type,Phone 2 - Value,Organization 1 - Name,Organization 1 - Title\n'
    'Ana Lima,Ana,Lima,"Two lines:\nsecond one",* Work,ana@harbor.example,Mobile,'
    '+1 360 555 0117,Work Fax,(202) 555-0111 ::: (202) 555-0112,Harbor County Sheriff,Sergeant\n')
OUTLOOK = (
    '"Title","First Name","Middle Name","Last Name","Suffix","Company","Job Title",'
    '"Business Street","Business City","Business State","Business Postal Code",'
    '"Business Phone","Mobile Phone","Business Fax","E-mail Address","Notes"\n'
    '"Dr.","Renée","","Façade","","Port City Hospital","Duty Physician","1 Pier Rd",'
    '"Port City","WA","98001","(202) 555-0150","","","renee@pch.example",""\n')


def test_google_csv_with_quoted_newlines_and_several_values(hcem, write):
    report = run_import(hcem, "csv", [write("google.csv", GOOGLE, newline="\n")])
    assert report.added["contact"] == 1 and "Google Contacts" in report.notes[-1]
    ana = people(hcem)["Ana Lima"]
    assert ana.values["notes"] == "Two lines:\nsecond one"
    assert ana.values["title"] == "Sergeant"
    assert hcem.get(ana.values["agency"]).values["name"] == "Harbor County Sheriff"
    assert methods_of(hcem, ana.id) == [
        ("email", "ana@harbor.example", "work"), ("fax", "+12025550111", "work"),
        ("fax", "+12025550112", "work"), ("mobile", "+13605550117", None)]


def test_outlook_csv_in_a_windows_code_page(hcem, write):
    run_import(hcem, "csv", [write("outlook.csv", OUTLOOK, encoding="cp1252")])
    renee = people(hcem)["Dr. Renée Façade"]
    assert renee.values["title"] == "Duty Physician"
    assert methods_of(hcem, renee.id) == [
        ("email", "renee@pch.example", None),
        ("other", "1 Pier Rd, Port City, WA 98001", "work address"),
        ("phone", "+12025550150", "work")]


def test_reimporting_a_csv_updates_or_leaves_unchanged_and_adds_nothing(hcem, write):
    path = write("google.csv", GOOGLE, newline="\n")
    run_import(hcem, "csv", [path])
    before = hcem.dump()
    again = run_import(hcem, "csv", [path])
    assert not again.added and again.unchanged["contact"] == 1
    assert hcem.dump() == before


def test_a_mapping_is_saved_and_used_again(hcem, write, config_dir):
    path = write("staff.csv", "Who;Unit;Cell;Radio\nAna Lima;Metro Police Department;"
                              "202-555-0142;metro 12\n")
    opts = {"map": {"name": "Who", "organization": "Unit", "mobile": "Cell",
                    "call_sign": "Radio"}, "save_mapping": "staff list"}
    report = run_import(hcem, "csv", [path], opts)
    assert report.added["contact"] == 1
    saved = json.loads((config_dir / "csv-mappings.json").read_text(encoding="utf-8"))
    assert saved["staff list"]["map"]["name"] == "Who"
    second = write("staff2.csv", "Who;Unit;Cell;Radio\nBen Ode;Metro Police Department;"
                                 "202-555-0143;metro 13\n")
    run_import(hcem, "csv", [second], {"mapping": "staff list"})
    ben = people(hcem)["Ben Ode"]
    assert ("call_sign", "METRO 13", None) in methods_of(hcem, ben.id)
    assert hcem.get(ben.values["agency"]).values["code"] == "MPD"
    with pytest.raises(ValidationError, match="no saved CSV mapping called 'nope'"):
        run_import(hcem, "csv", [second], {"mapping": "nope"})


def test_bad_mappings_are_refused_with_the_reason(hcem, write):
    path = write("x.csv", "Who,Cell\nAna,1\n")
    with pytest.raises(ValidationError, match="no column 'Phone'; its columns are: Who, Cell"):
        run_import(hcem, "csv", [path], {"map": {"name": "Who", "phone": "Phone"}})
    with pytest.raises(ValidationError, match="has no field 'colour'"):
        run_import(hcem, "csv", [path], {"map": {"colour": "Who"}})
    with pytest.raises(ValidationError, match="unknown text encoding"):
        run_import(hcem, "csv", [path], {"encoding": "klingon"})


def test_rows_of_other_kinds_with_a_mapping(hcem, write):
    path = write("channels.csv", "Channel,RX,Tone\nVTAC11,151.1375,156.7\nBAD,abc,\n")
    report = run_import(hcem, "csv", [path], {"kind": "channel",
                                              "map": {"name": "Channel", "rx_freq": "RX",
                                                      "rx_tone": "Tone"}})
    assert report.added["channel"] == 2
    assert any("rx_freq" in n and "'abc' on line 3" in n for n in report.notes)


def test_a_row_that_fails_is_skipped_with_its_line(hcem, write):
    path = write("res.csv", "Name,Agency\nEngine 1,HCEM\nEngine 2,NOPE\n")
    report = run_import(hcem, "csv", [path], {"kind": "resource"})
    assert report.added["resource"] == 1
    assert [(p.line, "NOPE" in p.reason) for p in report.skipped] == [(3, True)]


# ----------------------------------------------------------------------- agency registry
def test_usfa_registry_rows_become_departments_with_their_stations(hcem, tmp_path):
    _corpus_or_skip()
    path = usfa_subset(tmp_path)
    with path.open(encoding="utf-8", newline="") as f:
        rows = [{k.strip(): v for k, v in r.items()} for r in csv.DictReader(f)]
    departments = {(r["HQ State"], r["FDID"]) for r in rows}
    report = run_import(hcem, "csv", [path], {"kind": "agency"})
    assert report.added["agency"] == len(departments) < len(rows)
    gamaliel = hcem.get(hcem.agency_id("AR-03010"))
    v = gamaliel.values
    assert v["name"] == "101 Gamaliel Fire Protection District #5"
    assert v["address"] == "5012 101 HWY, Gamaliel, AR 72537"
    assert v["discipline"] == "fire" and v["level"] == "local"
    assert v["jurisdiction"] == "Baxter County, AR"
    assert "Station: Station #2, 291 CR 241, Gamaliel, AR 72537" in v["notes"]
    # a department with several stations lists each of them once
    def rows_of(d):
        return [r for r in rows if (r["HQ State"], r["FDID"]) == d]
    multi = max(departments, key=lambda d: len(rows_of(d)))
    agency = hcem.get(hcem.agency_id(f"{multi[0]}-{multi[1]}"))
    assert all(r["Station Addr1"] in agency.values["notes"] for r in rows_of(multi))
    assert agency.values["notes"].count("Station:") == len(
        {(r["Station Name"], r["Station Addr1"]) for r in rows_of(multi)})
    again = run_import(hcem, "csv", [path], {"kind": "agency"})
    assert not again.added and again.unchanged["agency"] == len(departments)


def test_usfa_registry_with_an_explicit_mapping(hcem, tmp_path):
    _corpus_or_skip()
    path = usfa_subset(tmp_path, rows=50)
    report = run_import(hcem, "csv", [path], {
        "kind": "agency", "map": {"code": "FDID", "name": "Fire Dept Name",
                                  "address": "{HQ Addr1}, {HQ City}, {HQ State} {HQ Zip}",
                                  "discipline": "=fire"}})
    assert report.added["agency"] > 0
    assert hcem.get(hcem.agency_id("03010")).values["discipline"] == "fire"


@pytest.mark.slow
def test_the_whole_usfa_registry(hcem):
    _corpus_or_skip()
    report = run_import(hcem, "csv", [USFA], {"kind": "agency"})
    assert report.added["agency"] == 3216 and not report.skipped


def test_a_cancelled_import_leaves_the_database_as_it_was(hcem, tmp_path):
    _corpus_or_skip()
    before = hcem.dump()
    with pytest.raises(Cancelled):
        run_import(hcem, "csv", [usfa_subset(tmp_path)], {"kind": "agency"},
                   cancelled=lambda: True)
    assert hcem.dump() == before


# ----------------------------------------------------------------------- detection
def test_encodings_and_delimiters_are_detected():
    text = "Name;Phone\nJosé Núñez;555\n"
    for enc in ("utf-8", "utf-8-sig", "utf-16", "cp1252"):
        assert decode(text.encode(enc))[0] == text
    japanese = "名前,メール\n山田太郎,taro@example.jp\n"
    assert decode(japanese.encode("shift_jis")) == (japanese, "cp932")
    cyrillic = "Имя,Телефон\nИван Петров,555\n"
    assert decode(cyrillic.encode("cp1251")) == (cyrillic, "cp1251")
    assert decode("Sánchez,Gómez\n".encode("cp1252"))[1] == "cp1252"
    assert sniff_delimiter(text) == ";"
    assert sniff_delimiter('a\tb\tc\n"x,y"\tz\tw\n') == "\t"
    assert sniff_delimiter("a,b\n1,2\n") == ","


# ----------------------------------------------------------------------- export
def test_csv_export_of_contacts_reads_back(hcem, other_store, tmp_path):
    hcem.add("agency", {"name": "Metro Police Department", "code": "MPD"})
    hcem.add("contact", {"name": "Ana Lima", "agency": "MPD", "title": "Sergeant",
                         "notes": "line 1\nline 2, with comma", "phone": "(202) 555-0142",
                         "mobile": "+1 360 555 0117", "email": "ana@mpd.example"})
    out = tmp_path / "contacts.csv"
    report = run_export(hcem, "csv", out, {})
    assert report.written == {"contact": 1}
    with out.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["phone"] == "+12025550142" and rows[0]["email"] == "ana@mpd.example"
    assert rows[0]["agency"] == "MPD" and rows[0]["notes"] == "line 1\nline 2, with comma"
    run_import(other_store, "csv", [out])
    ana = people(other_store)["Ana Lima"]
    assert ana.values["notes"] == "line 1\nline 2, with comma"
    mpd = other_store.get(ana.values["agency"]).values     # created with its code and name
    assert (mpd["code"], mpd["name"]) == ("MPD", "Metro Police Department")
    assert methods_of(other_store, ana.id) == methods_of(hcem, people(hcem)["Ana Lima"].id)
    run_export(hcem, "csv", out, {"kind": "agency"})
    assert "MPD" in out.read_text(encoding="utf-8-sig")
    with pytest.raises(ValidationError, match="contacts or agencies"):
        run_export(hcem, "csv", out, {"kind": "channel"})


def test_cli_imports_the_registry_by_its_profile(hcem, tmp_path, capsys):
    _corpus_or_skip()
    from fieldcoord.cli import main
    db = str(hcem.path)
    hcem.close()
    path = usfa_subset(tmp_path, rows=60)
    assert main(["--db", db, "--json", "import", "csv", str(path), "--kind", "agency"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["added"]["agency"] > 10 and not got["skipped"]
    assert main(["--db", db, "import", "csv", str(path), "--kind", "agency",
                 "--map", "name=Nope"]) == 2
    assert "no column 'Nope'" in capsys.readouterr().err


def test_config_folder_follows_the_environment(config_dir):
    assert csvio.config_dir() == config_dir
