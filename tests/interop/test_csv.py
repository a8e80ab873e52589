# SPDX-License-Identifier: GPL-3.0-or-later
"""CSV import and export: mail-client exports, encodings, mappings, the USFA fire registry."""
import csv
import json
from pathlib import Path

import pytest

from fieldcoord.core.errors import Cancelled, ValidationError
from fieldcoord.interop import csv_profiles, csv_table
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
    assert csv_table.config_dir() == config_dir


# ----------------------------------------------------------------------- every column read
OUTLOOK_VARIANTS = (
    '"First Name","Last Name","Company","E-mail Address","E-mail Type","E-mail Display Name",'
    '"E-mail 2 Address","E-mail 3 Address","Email Home","Email Work","Email Other",'
    '"Home Mobile","Phone Video","Business Phone","Home Street","Home City","Home State",'
    '"Home Postal Code","Home Country","Gender","Department","Nickname","Initials"\n'
    '"Ana","Lima","Harbor Fire","ana@hf.example","SMTP","Ana Lima (ana@hf.example)",'
    '"ana.2@hf.example","ana.3@hf.example","ana@home.example","ana@work.example",'
    '"ana@other.example","(202) 555-0191","(202) 555-0192","(202) 555-0193","1 Elm St",'
    '"Port City","WA","98001","USA","Unspecified","Marine unit","Annie","A.L."\n'
    '"Bo","Ek","","","","","","","","","","","","","","","","","","Unspecified","","",""\n')


def test_outlook_email_phone_and_home_address_variants_are_all_read(hcem, write):
    path = write("outlook.csv", OUTLOOK_VARIANTS)
    report = run_import(hcem, "csv", [path])
    assert "an Outlook export" in report.notes[-1]
    ana = people(hcem)["Ana Lima"]
    assert methods_of(hcem, ana.id) == [
        ("email", "ana.2@hf.example", None), ("email", "ana.3@hf.example", None),
        ("email", "ana@hf.example", None), ("email", "ana@home.example", "home"),
        ("email", "ana@other.example", "other"), ("email", "ana@work.example", "work"),
        ("mobile", "+12025550191", "home"),
        ("other", "1 Elm St, Port City, WA 98001, USA", "home address"),
        ("phone", "+12025550192", "video"), ("phone", "+12025550193", "work")]
    # what a contact has no place for is named, once, in one line; an e-mail's type and
    # display name, the initials and Outlook's 'Unspecified' are no loss
    unread = [n for n in report.notes if "not read" in n]
    assert unread == [f"{path}: 2 columns not read: Department, Nickname"]


def test_outlook_columns_are_told_by_their_words():
    col = csv_profiles.outlook_column
    assert col("E-mail 2 Address") == ("method", "email", None)
    assert col("Business Email") == ("method", "email", "work")
    assert col("E-mail 2 Display Name") == ("implied",)
    assert col("Home Mobile") == ("method", "mobile", "home")
    assert col("Mobile Phone 2") == ("method", "mobile", None)
    assert col("Phone Video") == ("method", "phone", "video")
    assert col("Work Fax") == ("method", "fax", "work")
    assert col("Car Phone") == ("method", "mobile", "car")
    assert col("Home Address PO Box") == ("address", "home address", "street")
    assert col("Business Country/Region") == ("address", "work address", "country")
    assert col("Other Postal Code") == ("address", "other address", "code")
    assert col("Personal Web Page") == ("method", "other", "personal website")
    assert col("IM Address") == ("method", "other", "IM")
    for nothing in ("Department", "Birthday", "Phonetic First Name", "Assistant's Name"):
        assert col(nothing) is None


def test_columns_not_read_are_named_for_every_profile(hcem, write, tmp_path):
    google = write("google.csv", 'Name,Nickname,Group Membership,E-mail 1 - Type,'
                                 'E-mail 1 - Value,Address 1 - Type,Address 1 - Street,'
                                 'Address 1 - City,Address 1 - Postal Code\n'
                                 'Ana Lima,Annie,* myContacts,Work,ana@hf.example,Home,'
                                 '1 Elm St,Port City,98001\n', newline="\n")
    report = run_import(hcem, "csv", [google])
    assert [n for n in report.notes if "not read" in n] == [
        f"{google}: 1 column not read: Nickname"]
    assert ("other", "1 Elm St, Port City, 98001", "home address") in \
        methods_of(hcem, people(hcem)["Ana Lima"].id)        # no Formatted: its parts
    mapped = write("staff.csv", "Who,Cell,Shoe size,Blank\nBo Ek,(202) 555-0144,9,\n")
    report = run_import(hcem, "csv", [mapped], {"map": {"name": "Who", "mobile": "Cell"}})
    assert [n for n in report.notes if "not read" in n] == [
        f"{mapped}: 1 column not read: Shoe size"]
    if CORPUS.is_dir():
        path = THUNDERBIRD / "export.csv"
        report = run_import(hcem, "csv", [path])
        assert [n for n in report.notes if "not read" in n] == [
            f"{path}: 4 columns not read: Custom 1, Custom 2, Custom 3, Custom 4"]
        report = run_import(hcem, "csv", [usfa_subset(tmp_path, rows=50)], {"kind": "agency"},
                            dry_run=True)
        assert [n.split(": ", 1)[1] for n in report.notes if "not read" in n] == [
            "2 columns not read: Non-Firefighting - Civilian, Non-Firefighting - Volunteer"]


# ----------------------------------------------------------------------- several columns
ROSTER = ("Who,Work mail,Home mail,Desk,Radio room,Unit\n"
          "Ana Lima,ana@hf.example,ana@home.example,(202) 555-0101,(202) 555-0102,Harbor Fire\n")


def test_a_contact_method_may_come_from_several_columns(hcem, write):
    path = write("roster.csv", ROSTER)
    report = run_import(hcem, "csv", [path], {"map": {
        "name": "Who", "email": ["Work mail", "Home mail"], "phone": ["Desk", "Radio room"],
        "organization": "Unit"}, "save_mapping": "roster"})
    assert report.added["contact"] == 1
    ana = people(hcem)["Ana Lima"]
    assert methods_of(hcem, ana.id) == [
        ("email", "ana@hf.example", None), ("email", "ana@home.example", None),
        ("phone", "+12025550101", None), ("phone", "+12025550102", None)]
    assert csv_table.load_mapping("roster")["map"]["email"] == ["Work mail", "Home mail"]
    again = run_import(hcem, "csv", [path], {"mapping": "roster"})
    assert again.unchanged["contact"] == 1 and not again.added


def test_a_field_that_takes_one_column_says_so_in_plain_words(hcem, write):
    path = write("roster.csv", ROSTER)
    before = hcem.dump()
    with pytest.raises(ValidationError) as e:
        run_import(hcem, "csv", [path], {"map": {"name": ["Who", "Unit"]}})
    assert str(e.value) == (
        "the contact field 'name' takes one column, but 2 were given for it: 'Who', 'Unit'; "
        "choose one (only phone, mobile, satellite_phone, email, fax, pager, call_sign, "
        "address, website may come from several columns)")
    with pytest.raises(ValidationError, match="the channel field 'name' takes one column"):
        run_import(hcem, "csv", [path], {"kind": "channel", "map": {"name": ["Who", "Unit"]}})
    assert hcem.dump() == before


def test_cli_map_repeats_a_field_for_several_columns(hcem, write, capsys):
    from fieldcoord.cli import main
    path = write("roster.csv", ROSTER)
    db = str(hcem.path)
    hcem.close()
    assert main(["--db", db, "import", "csv", str(path), "--map", "name=Who", "--map",
                 "email=Work mail", "--map", "email=Home mail", "--map", "name=Unit"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the contact field 'name' takes one column, but 2 were given "
                          "for it: 'Who', 'Unit'") and "[" not in err
    assert main(["--db", db, "--json", "import", "csv", str(path), "--map", "name=Who",
                 "--map", "email=Work mail", "--map", "Email=Home mail"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["added"] == {"contact": 1, "method": 2}
