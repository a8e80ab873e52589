# SPDX-License-Identifier: GPL-3.0-or-later
"""Exports that other programs read: spreadsheets, Google and Outlook CSV, vCards in other
address books, files in shared folders (issue 15)."""
import csv
import json
import os
import re
import stat

import pytest

from fieldcoord.core.errors import ValidationError
from fieldcoord.interop import csvexport, runner
from fieldcoord.interop.runner import run_export, run_import
from fieldcoord.interop.vcard_write import name_kind


def people(store) -> dict:
    return {c.values["name"]: c for c in store.list("contact")}


def methods_of(store, cid) -> list:
    return sorted((m.values["kind"], m.values["value"], m.values["label"], m.values["priority"],
                   m.values["duty"]) for m in store.children("method", "contact", cid))


def rows_of(path, encoding="utf-8-sig") -> tuple[list[str], list[dict]]:
    with open(path, encoding=encoding, newline="") as f:
        reader = csv.reader(f)
        head = next(reader)
        return head, [dict(zip(head, r)) for r in reader]


@pytest.fixture
def directory(hcem):
    """An agency with a duty line, a person with an extension, a call sign, a satellite phone
    and a labelled web page, and a standing position."""
    mpd = hcem.add("agency", {"name": "Metro Police Department", "code": "MPD",
                              "address": "300 Indiana Ave NW, Washington, DC 20001",
                              "website": "https://mpd.example", "lat": 38.8951,
                              "lon": -77.0164})
    hcem.add("method", {"agency": mpd, "kind": "phone", "value": "(202) 555-0100",
                        "duty": "24/7", "label": "dispatch"})
    ana = hcem.add("contact", {
        "name": "Ana Lima", "agency": "MPD", "title": "Sergeant", "ics_position": "Liaison",
        "notes": "Prefers text.", "phone": "(202) 555-0142 ext. 12", "mobile": "+1 360 555 0117",
        "email": "ana@mpd.example", "call_sign": "METRO 12",
        "satellite_phone": "+1 360 555 0199"})
    hcem.add("method", {"contact": ana, "kind": "other", "value": "TAC 2",
                        "label": "radio channel"})
    hcem.add("method", {"contact": ana, "kind": "other", "value": "https://ops.example/ana",
                        "label": "incident page"})
    hcem.add("contact", {"name": "Officer of the Day", "agency": "MPD",
                         "phone": "+1 202 555 0111"})
    return hcem


# ----------------------------------------------------------------------- one extension syntax
def test_extensions_are_written_one_way_in_csv_and_vcard(directory, tmp_path):
    out = tmp_path / "c.csv"
    run_export(directory, "csv", out, {})
    _head, rows = rows_of(out)
    ana = next(r for r in rows if r["name"] == "Ana Lima")
    assert ana["phone"] == "+12025550142 ext. 12"
    assert ";ext=" not in out.read_text(encoding="utf-8-sig")
    card = tmp_path / "c.vcf"
    run_export(directory, "vcard", card, {})
    assert ":+12025550142 ext. 12\r\n" in card.read_bytes().decode("utf-8")
    assert csvexport.phone_text("+12025550142;ext=12") == "+1 202-555-0142 ext. 12"
    assert csvexport.phone_text("+12025550142;ext=12", international=False) == \
        "+12025550142 ext. 12"
    assert csvexport.phone_text("555-0100 ask for Bo") == "555-0100 ask for Bo"


def test_fieldcoord_csv_with_extensions_reads_back(directory, other_store, tmp_path):
    out = tmp_path / "c.csv"
    run_export(directory, "csv", out, {})
    run_import(other_store, "csv", [out])
    phones = {m.values["value"] for m in other_store.list("method")
              if m.values["kind"] == "phone"}
    assert "+12025550142;ext=12" in phones


# ----------------------------------------------------------------------- Google and Outlook
def test_google_layout_reads_back_as_a_google_export(directory, other_store, tmp_path):
    out = tmp_path / "google.csv"
    report = run_export(directory, "csv", out, {"layout": "google"})
    assert report.written == {"contact": 2} and "Google Contacts" in report.notes[0]
    data = out.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")          # Google's own files have no BOM
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    head, rows = rows_of(out, "utf-8")
    for col in ("First Name", "Last Name", "Organization Name", "Organization Title", "Notes",
                "E-mail 1 - Label", "E-mail 1 - Value", "Phone 1 - Label", "Phone 1 - Value",
                "Website 1 - Value", "Custom Field 1 - Label", "Custom Field 1 - Value"):
        assert col in head, col
    ana = next(r for r in rows if r["Last Name"] == "Lima")
    assert (ana["First Name"], ana["Organization Name"], ana["Organization Title"]) == \
        ("Ana", "Metro Police Department", "Sergeant")
    phones = {ana[f"Phone {i} - Label"]: ana[f"Phone {i} - Value"] for i in range(1, 4)}
    assert phones == {"": "+1 202-555-0142 ext. 12", "Mobile": "+1 360-555-0117",
                      "Satellite": "+1 360-555-0199"}
    custom = {ana[c]: ana[c.replace("Label", "Value")] for c in head
              if c.startswith("Custom Field") and c.endswith("Label") and ana[c]}
    assert custom == {"ICS position": "Liaison", "Call sign": "METRO 12",
                      "Radio channel": "TAC 2"}
    assert ("incident page", "https://ops.example/ana") in {
        (ana[c], ana[c.replace("Label", "Value")]) for c in head if c.startswith("Website")
        and c.endswith("Label")}
    role = next(r for r in rows if r["First Name"] == "Officer of the Day")
    assert role["Last Name"] == "" and role["Middle Name"] == ""
    back = run_import(other_store, "csv", [out])
    assert "read as a Google Contacts export" in back.notes[-1] or any(
        "Google Contacts" in n for n in back.notes)
    got = people(other_store)
    assert set(got) == {"Ana Lima", "Officer of the Day"}
    kinds = {(m[0], m[1]) for m in methods_of(other_store, got["Ana Lima"].id)}
    assert {("phone", "+12025550142;ext=12"), ("mobile", "+13605550117"),
            ("satellite_phone", "+13605550199"), ("email", "ana@mpd.example")} <= kinds
    assert other_store.get(got["Ana Lima"].values["agency"]).values["name"] == \
        "Metro Police Department"
    assert got["Ana Lima"].values["notes"] == "Prefers text."


def test_google_layout_of_agencies_reads_back_as_agencies(directory, other_store, tmp_path):
    out = tmp_path / "agencies.csv"
    run_export(directory, "csv", out, {"layout": "google", "kind": "agency"})
    _head, rows = rows_of(out, "utf-8")
    mpd = next(r for r in rows if r["Organization Name"] == "Metro Police Department")
    assert mpd["First Name"] == mpd["Last Name"] == ""
    assert mpd["Phone 1 - Value"] == "+1 202-555-0100"
    run_import(other_store, "csv", [out])
    names = {a.values["name"] for a in other_store.list("agency")}
    assert "Metro Police Department" in names and not other_store.list("contact")


def test_outlook_layout_reads_back_as_an_outlook_export(directory, other_store, tmp_path):
    out = tmp_path / "outlook.csv"
    run_export(directory, "csv", out, {"layout": "outlook"})
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")   # Excel and Outlook read it as UTF-8
    head, rows = rows_of(out)
    assert head[:8] == ["Title", "First Name", "Middle Name", "Last Name", "Suffix", "Company",
                        "Department", "Job Title"]
    ana = next(r for r in rows if r["Last Name"] == "Lima")
    assert ana["Business Phone"] == "+1 202-555-0142 ext. 12"
    assert ana["Mobile Phone"] == "+1 360-555-0117"
    assert ana["Radio Phone"] == "+1 360-555-0199"               # the satellite phone
    assert (ana["E-mail Address"], ana["E-mail Type"], ana["E-mail Display Name"]) == \
        ("ana@mpd.example", "SMTP", "Ana Lima (ana@mpd.example)")
    assert ana["Web Page"] == "https://ops.example/ana"
    assert ana["Notes"].split("\n\n")[0] == "Prefers text."
    for line in ("ICS position: Liaison", "Call sign: METRO 12", "Radio channel: TAC 2"):
        assert line in ana["Notes"].splitlines()
    role = next(r for r in rows if r["First Name"] == "Officer of the Day")
    assert role["Last Name"] == "" and role["Company"] == "Metro Police Department"
    back = run_import(other_store, "csv", [out])
    assert any("Outlook" in n for n in back.notes)
    got = people(other_store)
    assert set(got) == {"Ana Lima", "Officer of the Day"}
    values = {m[1] for m in methods_of(other_store, got["Ana Lima"].id)}
    assert {"+12025550142;ext=12", "+13605550117", "ana@mpd.example"} <= values


def test_outlook_slots_overflow_into_notes(hcem, tmp_path):
    cid = hcem.add("contact", {"name": "Bo Ode"})
    for i in range(5):
        hcem.add("method", {"contact": cid, "kind": "email", "value": f"bo{i}@harbor.example",
                            "priority": i + 1})
    out = tmp_path / "o.csv"
    run_export(hcem, "csv", out, {"layout": "outlook"})
    _head, rows = rows_of(out)
    bo = rows[0]
    assert [bo["E-mail Address"], bo["E-mail 2 Address"], bo["E-mail 3 Address"]] == \
        ["bo0@harbor.example", "bo1@harbor.example", "bo2@harbor.example"]
    assert bo["Notes"].splitlines() == ["Email: bo3@harbor.example", "Email: bo4@harbor.example"]


def test_partner_layouts_write_a_known_header_when_no_one_has_an_email(hcem, tmp_path):
    hcem.add("contact", {"name": "Cy Roe"})
    out = tmp_path / "g.csv"
    run_export(hcem, "csv", out, {"layout": "google"})
    head, _rows = rows_of(out, "utf-8")
    assert "E-mail 1 - Value" in head and "Phone 1 - Value" in head


# ----------------------------------------------------------------------- workbook
def test_workbook_phone_cells_are_text(directory, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    directory.add("contact", {"name": '=HYPERLINK("http://x.example")',
                              "phone": "+44 20 7946 0000"})
    out = tmp_path / "directory.xlsx"
    report = run_export(directory, "xlsx", out, {})
    assert report.written == {"contact": 3, "agency": 2}    # HCEM and MPD
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Contacts", "Agencies"]
    sheet = book["Contacts"]
    head = [c.value for c in sheet[1]]
    assert head == list(csvexport.CONTACT_HEADERS)
    assert sheet.freeze_panes == "A2"
    rows = {r[0].value: r for r in sheet.iter_rows(min_row=2)}
    ana = rows["Ana Lima"]
    phone = ana[head.index("Phone")]
    assert phone.value == "+1 202-555-0142 ext. 12"
    assert phone.data_type == "s" and phone.number_format == "@"
    mobile = ana[head.index("Mobile")]
    assert mobile.value == "+1 360-555-0117" and mobile.data_type == "s"
    assert rows["Officer of the Day"][head.index("Phone")].value == "+1 202-555-0111"
    formula = rows['=HYPERLINK("http://x.example")'][0]
    assert formula.data_type == "s"                  # a name, never run as a formula
    assert rows['=HYPERLINK("http://x.example")'][head.index("Phone")].value == "+44 20 7946 0000"
    widths = {k: d.width for k, d in sheet.column_dimensions.items()}
    assert 8 <= widths["A"] <= 60 and widths["G"] >= len("+1 202-555-0142 ext. 12")
    agencies = book["Agencies"]
    ahead = [c.value for c in agencies[1]]
    mpd = next(r for r in agencies.iter_rows(min_row=2) if r[0].value == "MPD")
    assert mpd[ahead.index("Phone")].value == "+1 202-555-0100"
    assert mpd[ahead.index("Phone")].number_format == "@"
    assert mpd[ahead.index("Latitude")].value == pytest.approx(38.8951)
    assert mpd[ahead.index("Latitude")].data_type == "n"


def test_workbook_leaves_out_control_characters(hcem, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    hcem.add("contact", {"name": "Bell Notes", "notes": "ring\x07 the bell"})
    out = tmp_path / "bell.xlsx"
    run_export(hcem, "xlsx", out, {"kind": "contact"})
    row = next(openpyxl.load_workbook(out)["Contacts"].iter_rows(min_row=2))
    assert row[13].value == "ring the bell"


def test_workbook_of_one_kind_has_one_sheet(directory, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    out = tmp_path / "agencies.xlsx"
    assert run_export(directory, "xlsx", out, {"kind": "agency"}).written == {"agency": 2}
    assert openpyxl.load_workbook(out).sheetnames == ["Agencies"]
    run_export(directory, "xlsx", out, {"agency": "MPD", "kind": "contact"})
    sheet = openpyxl.load_workbook(out)["Contacts"]
    assert sorted(r[0].value for r in sheet.iter_rows(min_row=2)) == \
        ["Ana Lima", "Officer of the Day"]


# ----------------------------------------------------------------------- registry and options
def test_formats_and_layouts_are_registered(tmp_path, hcem):
    assert "xlsx" in runner.EXPORTERS and "csv" in runner.EXPORTERS
    assert runner.LAYOUTS["csv"] == ("fieldcoord", "google", "outlook")
    assert set(runner.LAYOUTS["csv"]) == set(csvexport._TABLES)
    with pytest.raises(ValidationError, match="layouts are: fieldcoord, google, outlook"):
        run_export(hcem, "csv", tmp_path / "x.csv", {"layout": "excel"})
    with pytest.raises(ValidationError, match="vcard has no layouts"):
        run_export(hcem, "vcard", tmp_path / "x.vcf", {"layout": "google"})
    with pytest.raises(ValidationError, match="contacts or agencies"):
        run_export(hcem, "xlsx", tmp_path / "x.xlsx", {"kind": "channel"})
    with pytest.raises(ValidationError, match="contacts or agencies"):
        run_export(hcem, "csv", tmp_path / "x.csv", {"kind": "channel", "layout": "google"})
    assert not list(tmp_path.glob("x.*"))


def test_cli_exports_layouts_and_workbooks(hcem, tmp_path, capsys):
    from fieldcoord.cli import main
    hcem.add("contact", {"name": "Ana Lima", "phone": "(202) 555-0142"})
    db = str(hcem.path)
    hcem.close()
    out = tmp_path / "g.csv"
    assert main(["--db", db, "--json", "export", "csv", str(out), "--layout", "google"]) == 0
    assert json.loads(capsys.readouterr().out)["written"] == {"contact": 1}
    assert out.read_text(encoding="utf-8").startswith("First Name,")
    assert main(["--db", db, "export", "csv", str(out), "--layout", "nope"]) == 2
    assert "no csv layout called 'nope'" in capsys.readouterr().err
    assert main(["--db", db, "export", "xlsx", str(tmp_path / "d.xlsx")]) == 0
    assert (tmp_path / "d.xlsx").read_bytes()[:2] == b"PK"


# ----------------------------------------------------------------------- permissions
@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
@pytest.mark.parametrize("fmt,name", [("csv", "c.csv"), ("vcard", "c.vcf"), ("xlsx", "c.xlsx")])
def test_exported_files_follow_the_umask(directory, tmp_path, fmt, name):
    out = tmp_path / name
    before = os.umask(0o022)
    try:
        run_export(directory, fmt, out, {})
        assert stat.S_IMODE(out.stat().st_mode) == 0o644
        out.unlink()
        os.umask(0o002)
        run_export(directory, fmt, out, {})
        assert stat.S_IMODE(out.stat().st_mode) == 0o664
        os.chmod(out, 0o640)                                # a file written over keeps its mode
        run_export(directory, fmt, out, {})
        assert stat.S_IMODE(out.stat().st_mode) == 0o640
    finally:
        os.umask(before)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".fieldcoord-")]


# ----------------------------------------------------------------------- vCard
def _unfolded(path) -> list[str]:
    return path.read_bytes().decode("utf-8").replace("\r\n ", "").split("\r\n")


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_call_signs_and_other_methods_show_in_other_address_books(directory, other_store,
                                                                  tmp_path, version):
    out = tmp_path / "c.vcf"
    run_export(directory, "vcard", out, {"vcard_version": version})
    lines = _unfolded(out)
    note = next(x for x in lines if x.startswith("NOTE:Prefers"))
    assert note == "NOTE:Prefers text.\\n\\nCall sign: METRO 12\\nRadio channel: TAC 2"
    url = next(x for x in lines if re.match(r"item\d+\.URL", x))
    group = url.split(".")[0]
    assert url.endswith(":https://ops.example/ana")
    assert f"{group}.X-ABLabel:incident page" in lines
    # an independent reader sees them
    vobject = pytest.importorskip("vobject")
    cards = list(vobject.readComponents(out.read_text(encoding="utf-8")))
    ana = next(c for c in cards if c.fn.value == "Ana Lima")
    assert "Call sign: METRO 12" in ana.note.value
    # fieldcoord takes each once, and the notes as they were
    run_import(other_store, "vcard", [out])
    again = people(other_store)["Ana Lima"]
    assert again.values["notes"] == "Prefers text."
    mine = people(directory)["Ana Lima"]
    assert methods_of(other_store, again.id) == methods_of(directory, mine.id)
    before = directory.dump()
    report = run_import(directory, "vcard", [out])
    assert not report.added and not report.updated and directory.dump() == before


def test_a_card_with_only_restated_methods_has_no_notes_after_import(hcem, other_store,
                                                                     tmp_path):
    hcem.add("contact", {"name": "Medic 12 Crew", "call_sign": "MEDIC 12"})
    out = tmp_path / "c.vcf"
    run_export(hcem, "vcard", out, {})
    assert "NOTE:Call sign: MEDIC 12" in _unfolded(out)
    run_import(other_store, "vcard", [out])
    crew = people(other_store)["Medic 12 Crew"]
    assert crew.values["notes"] in (None, "")
    assert [m[:2] for m in methods_of(other_store, crew.id)] == [("call_sign", "MEDIC 12")]


def test_a_note_edited_elsewhere_is_kept(hcem, write):
    path = write("edited.vcf", """BEGIN:VCARD
VERSION:3.0
FN:Ana Lima
N:Lima;Ana;;;
X-FIELDCOORD-CALL-SIGN;X-FIELDCOORD-SHOWN-AS=NOTE:METRO 12
NOTE:Call sign: METRO 12\\nMeet at the north gate
END:VCARD
""")
    run_import(hcem, "vcard", [path])
    ana = people(hcem)["Ana Lima"]
    assert ana.values["notes"] == "Call sign: METRO 12\nMeet at the north gate"


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_a_position_or_an_agency_named_contact_has_no_person_name(directory, tmp_path,
                                                                  version):
    directory.add("contact", {"name": "Metro Police Department", "agency": "MPD"})
    out = tmp_path / "c.vcf"
    run_export(directory, "vcard", out, {"vcard_version": version})
    text = out.read_bytes().decode("utf-8")
    cards = {re.search(r"\r\nFN:(.*?)\r\n", c).group(1): c
             for c in text.split("END:VCARD") if "FN:" in c}
    assert "\r\nN:;;;;\r\n" in cards["Officer of the Day"]
    assert "\r\nN:Lima;Ana;;;\r\n" in cards["Ana Lima"]
    person_named_like_agency = [c for n, c in cards.items() if n == "Metro Police Department"
                                and "ORG:Metro Police Department" in c and "X-FIELDCOORD-CODE"
                                not in c]
    assert person_named_like_agency and "\r\nN:;;;;\r\n" in person_named_like_agency[0]


def test_positions_are_told_from_people():
    for name in ("Officer of the Day", "Duty Officer", "EOC Duty Line", "Watch Commander",
                 "Marine Unit On-Call Deputy", "Administrator on Call", "ED Charge Nurse",
                 "Traffic Management Center", "Medic 12", "Plant Operator on Duty"):
        assert name_kind(name) == "role", name
    for name in ("Ana Lima", "José de la Cruz", "Dr. Ana Lima Jr.", "Lima, Ana", "Paul Nurse",
                 "In Kyung Park", "Mary van der Berg"):
        assert name_kind(name) == "person", name
    assert name_kind("Harbor EMS", agency_name="harbor  ems") == "org"
    assert name_kind("Night Desk", title="Night desk") == "role"


@pytest.mark.parametrize("fmt, name", [("csv", "out.csv"), ("xlsx", "out.xlsx"),
                                       ("vcard", "out.vcf")])
def test_a_cancelled_export_says_so_and_writes_no_file(directory, tmp_path, fmt, name):
    from fieldcoord.core.errors import Cancelled
    with pytest.raises(Cancelled, match="export cancelled; no file was written"):
        run_export(directory, fmt, tmp_path / name, cancelled=lambda: True)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith((name, "." + name))]
