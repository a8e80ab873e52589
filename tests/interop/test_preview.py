# SPDX-License-Identifier: GPL-3.0-or-later
"""The look at a file before importing it: format guessed, first rows, suggested mapping."""
import pytest

from fieldcoord.core.errors import ValidationError
from fieldcoord.interop import csv_profiles
from fieldcoord.interop.preview import guess_format, preview, target_fields
from fieldcoord.interop.runner import run_import


def test_thunderbird_export_shows_its_rows_and_the_columns_it_is_read_from(corpus):
    path = corpus / "contacts-csv/thunderbird/basic_csv_addressbook.csv"
    pv = preview(path, guess_format(path))
    assert pv.format == "csv" and pv.profile == "thunderbird"
    assert pv.encoding == "utf-8" and pv.delimiter == "," and pv.total == 2
    assert pv.columns[:3] == ["First Name", "Last Name", "Display Name"]
    assert [r[2] for r in pv.rows] == ["John Doe", "Jane Doe"]
    assert all(len(r) == len(pv.columns) for r in pv.rows)
    assert pv.kind == "contact"
    assert pv.mapping["name"] == "Display Name"
    assert pv.mapping["email"] == ["Primary Email", "Secondary Email"]   # each one an email
    assert "Thunderbird" in pv.details() and "2 rows" in pv.details()


def test_utf16_and_shift_jis_files_are_decoded_for_the_preview(corpus):
    pv = preview(corpus / "contacts-csv/thunderbird/utf16_addressbook.csv", "csv")
    assert pv.encoding.startswith("utf-16") and pv.rows[0][0] == "John"
    pv = preview(corpus / "contacts-csv/thunderbird/shiftjis_addressbook.csv", "csv")
    assert pv.encoding == "cp932"
    assert any("\u3000" <= ch <= "\u9fff" for row in pv.rows for ch in "".join(row))


def test_usfa_registry_suggests_the_registry_mapping_as_agencies(corpus):
    pv = preview(corpus / "agencies/usfa-registry-station.csv", "csv")
    assert pv.profile == "usfa" and pv.kind == "agency" and pv.total == 8077
    assert len(pv.rows) == 20
    assert pv.rows[0][pv.columns.index("Fire Dept Name")] == \
        "101 Gamaliel Fire Protection District #5"
    assert pv.mapping == csv_profiles.USFA_MAP
    # the same file read as contacts gets no registry mapping
    assert "code" not in pv.suggestions["contact"]


def test_a_generic_table_gets_its_same_named_columns_and_a_headerless_one_numbers(tmp_path):
    p = tmp_path / "staff.csv"
    p.write_text("name;title;email;Shoe size\nAda Park;Chief;ada@x.org;9\n", encoding="utf-8")
    pv = preview(p, "csv")
    assert pv.delimiter == ";" and pv.profile is None
    assert pv.mapping == {"name": "name", "title": "title", "email": "email"}
    pv = preview(p, "csv", {"header": False})
    assert pv.columns == ["1", "2", "3", "4"] and pv.rows[0][0] == "name"
    assert pv.mapping == {} and "no header row" in pv.details()


def test_what_the_preview_suggests_is_what_the_import_does(corpus, hcem):
    path = corpus / "contacts-csv/thunderbird/basic_csv_addressbook.csv"
    pv = preview(path, "csv")
    report = run_import(hcem, "csv", [path], {"map": pv.mapping, "kind": pv.kind})
    assert report.added["contact"] == 2
    names = sorted(r.values["name"] for r in hcem.list("contact"))
    assert names == ["Jane Doe", "John Doe"]


def test_geojson_layer_lists_properties_locations_and_mapping(corpus):
    path = corpus / "geojson/mecklenburg-nc/hospitals.geo.json"
    pv = preview(path, guess_format(path))
    assert pv.format == "geojson" and pv.kinds == ["agency", "resource", "facility"]
    assert "name" in pv.columns and pv.columns[-1] == "Location (lat, lon)"
    lat, lon = (float(x) for x in pv.rows[0][-1].split(","))
    assert 35 < lat < 36 and -81 < lon < -80
    assert pv.mapping["name"] == "name"
    assert pv.suggestions["resource"]["location"].startswith("address+city")


def test_geojson_without_a_name_property_says_so(tmp_path):
    p = tmp_path / "x.geojson"
    p.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature", "properties":'
                 ' {"LABEL": "Station 1"}, "geometry": {"type": "Point", "coordinates": [1, 2]}}'
                 ']}', encoding="utf-8")
    pv = preview(p, "geojson")
    assert "name" not in pv.mapping and "called name" in pv.notes[0]
    assert target_fields("geojson", "agency")[0] == ("name", "Name", True)


def test_vcards_show_as_they_would_be_imported(corpus):
    path = corpus / "vcard/ez-vcard/John_Doe_EVOLUTION.vcf"
    if not path.exists():
        pytest.skip("the Evolution card is not in the corpus")
    pv = preview(path, guess_format(path))
    assert pv.format == "vcard" and pv.kinds == ["contact"] and pv.total == 1
    row = dict(zip(pv.columns, pv.rows[0]))
    assert row["Organization"] == "IBM" and row["Title"] == "Money Counter"
    assert "905-666-1234" in row["Phones"] and "john.doe@ibm.com" in row["Emails"]


def test_a_broken_card_is_listed_as_a_problem_with_its_line(tmp_path):
    p = tmp_path / "two.vcf"
    p.write_text("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ok Person\r\nEND:VCARD\r\n"
                 "BEGIN:VCARD\r\nVERSION:3.0\r\nNOTE:nothing to call\r\nEND:VCARD\r\n"
                 "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Cut Off\r\n", encoding="utf-8")
    pv = preview(p, "vcard")
    assert [r[1] for r in pv.rows] == ["Ok Person"]
    assert (5, "no name, organisation, email or phone number") in pv.problems
    assert any(line == 9 and "no END:VCARD" in reason for line, reason in pv.problems)


def test_calendar_and_channel_previews(corpus):
    pv = preview(corpus / "ical/ical4j-valid/EXDATE.ics", "ical")
    row = dict(zip(pv.columns, pv.rows[0]))
    assert row["Title"] == "Repeating Event" and row["Start"].startswith("2006-01-01T12:00")
    assert "FREQ=DAILY" in row["Repeats"]
    pv = preview(corpus / "radio/chirp/US_MURS_Channels.csv", "chirp")
    assert pv.total == 5 and pv.rows[0][1] == "MURS 1" and pv.rows[0][2] == "151.82"


def test_bad_files_raise_a_clear_error(corpus, tmp_path):
    with pytest.raises(ValidationError, match="not a valid iCalendar file"):
        preview(corpus / "ical/ical4j-invalid/boeing.ics", "ical")
    p = tmp_path / "broken.geojson"
    p.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(ValidationError, match="not valid JSON"):
        preview(p, "geojson")
    with pytest.raises(ValidationError, match="no such file"):
        preview(tmp_path / "missing.csv", "csv")
    with pytest.raises(ValidationError, match="not a CHIRP CSV"):
        preview(corpus / "contacts-csv/thunderbird/basic_csv_addressbook.csv", "chirp")
    with pytest.raises(ValidationError, match="import as channel"):
        preview(corpus / "radio/chirp/US_MURS_Channels.csv", "chirp", {"kind": "agency"})


def test_format_is_guessed_from_content_and_extension(corpus, tmp_path):
    assert guess_format(corpus / "radio/chirp/US_MURS_Channels.csv") == "chirp"
    assert guess_format(corpus / "agencies/usfa-registry-station.csv") == "csv"
    assert guess_format(corpus / "ical/ical4j-valid/EXDATE.ics") == "ical"
    odd = tmp_path / "contacts.txt"
    odd.write_text("BEGIN:VCARD\nFN:X\nEND:VCARD\n", encoding="utf-8")
    assert guess_format(odd) == "vcard"
    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"\x00\x01\x02")
    assert guess_format(blob) is None


def test_an_outlook_export_suggests_every_email_column_and_imports_as_read(tmp_path, hcem):
    p = tmp_path / "outlook.csv"
    p.write_text('First Name,Last Name,E-mail Address,E-mail 2 Address,E-mail 3 Address,'
                 'Business Phone,Home Phone,Mobile Phone\n'
                 'Ana,Lima,ana@hf.example,ana.2@hf.example,,(202) 555-0101,(202) 555-0102,'
                 '(202) 555-0103\n', encoding="utf-8")
    pv = preview(p, "csv")
    assert pv.profile == "outlook"
    assert pv.mapping["email"] == ["E-mail Address", "E-mail 2 Address", "E-mail 3 Address"]
    assert pv.mapping["phone"] == ["Business Phone", "Home Phone"]
    assert pv.mapping["mobile"] == "Mobile Phone"
    # the suggested mapping, used as a mapping of one's own, reads the same values
    run_import(hcem, "csv", [p], {"map": pv.mapping})
    ana = hcem.list("contact")[0]
    got = sorted(m.values["value"] for m in hcem.children("method", "contact", ana.id))
    assert got == ["+12025550101", "+12025550102", "+12025550103", "ana.2@hf.example",
                   "ana@hf.example"]
