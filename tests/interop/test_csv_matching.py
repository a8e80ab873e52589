# SPDX-License-Identifier: GPL-3.0-or-later
"""CSV import: rows sharing a number stay apart, the report names matches, a matched row can be
told apart, ragged rows are skipped, email-only files import (defects a new user hit)."""
import pytest

from fieldcoord.core.errors import ValidationError
from fieldcoord.interop import csv_table
from fieldcoord.interop.contacts import names_compatible
from fieldcoord.interop.runner import run_import

SHARED = (
    "name,email,phone,mobile\n"
    "First0 Last0,first0@host.invalid,(202) 555-0100,(202) 555-0177\n"
    "First10000 Last10000,first10000@host.invalid,(202) 555-0100,(202) 555-0177\n"
    "First20000 Last20000,first20000@host.invalid,(202) 555-0100,(202) 555-0177\n")


def names(store):
    return sorted(c.values["name"] for c in store.list("contact"))


def emails_of(store, rid):
    return sorted(m.values["value"] for m in store.children("method", "contact", rid)
                  if m.values["kind"] == "email")


def test_rows_sharing_a_station_line_and_duty_mobile_stay_three_people(hcem, write):
    report = run_import(hcem, "csv", [write("staff.csv", SHARED)])
    assert report.added["contact"] == 3 and not report.updated
    assert names(hcem) == ["First0 Last0", "First10000 Last10000", "First20000 Last20000"]
    for c in hcem.list("contact"):
        assert len(emails_of(hcem, c.id)) == 1
    again = run_import(hcem, "csv", [write("staff.csv", SHARED)])
    assert again.unchanged["contact"] == 3 and not again.added


def test_a_shared_number_never_merges_rows_whose_emails_differ(hcem, write):
    run_import(hcem, "csv", [write("a.csv", "name,email,phone\n"
                                   "Pat Lee,pat@harbor.example,(202) 555-0100\n")])
    report = run_import(hcem, "csv", [write("b.csv", "name,email,phone\n"
                                            "P. Lee,p.lee@port.example,(202) 555-0100\n")])
    assert report.added["contact"] == 1 and len(hcem.list("contact")) == 2


def test_names_differing_only_in_case_accents_initials_and_spacing_fit():
    assert names_compatible("José Núñez", "J. NUNEZ")
    assert names_compatible("Mary Ann Smith", "Maryann Smith")
    assert names_compatible("John Q. Smith", "John Smith")
    assert names_compatible("Núñez, José", "Jose Nunez")
    assert names_compatible("John Smith, Jr.", "John Smith Jr")
    assert names_compatible("+1 202 555 0100", "Desk A")       # a card named by its number
    assert not names_compatible("First0 Last0", "First10000 Last10000")
    assert not names_compatible("Desk A", "Desk C")
    assert not names_compatible("John Smith", "Joan Smith")
    assert not names_compatible("Unit 12", "Unit 14")


def test_the_report_names_each_matched_row_and_its_contact(hcem, write, capsys):
    from fieldcoord.cli import main
    run_import(hcem, "csv", [write("a.csv", "name,email,phone\n"
                                   "Pat Lee,pat@harbor.example,(202) 555-0100\n")])
    path = write("b.csv", "name,email,phone\n"
                          "Kim Ode,kim@harbor.example,\n"
                          "PAT LEE,,(202) 555-0100\n")
    report = run_import(hcem, "csv", [path], dry_run=True)
    matched = [str(m) for m in report.matches]
    assert len(matched) == 1
    assert f"{path}:3" in matched[0] and "'Pat Lee'" in matched[0] and "+12025550100" in \
        matched[0]
    m = report.matches[0]
    assert (m.source, m.line, m.name, m.status) == (str(path), 3, "Pat Lee", "unchanged")
    db = str(hcem.path)
    hcem.close()
    assert main(["--db", db, "import", "csv", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "unchanged 1 contact" in out and f"{path}:3: matched" in out and "'Pat Lee'" in out


def test_rows_whose_field_count_differs_from_the_header_are_skipped(hcem, write):
    path = write("mixed.csv", "name,phone,email\n"
                              "Ana Lima,(202) 555-0101,ana@harbor.example\n"
                              "1\t1\t1@host.invalid\n"
                              "Bo Ek,(202) 555-0102,bo@harbor.example,\n")
    report = run_import(hcem, "csv", [path])
    assert names(hcem) == ["Ana Lima", "Bo Ek"]      # an empty cell after the last is fine
    assert [p.line for p in report.skipped] == [3]
    assert "1 field" in report.skipped[0].reason
    assert any("line 3" in n and "field" in n for n in report.notes)


def test_a_file_mixing_tab_and_comma_rows_without_header(hcem, write):
    path = write("tab_comma_mixed.csv", "1,1,1,1,1@host.invalid,,,,,,,,\n"
                                        "2\t2\t2\t2\t2@host.invalid\n"
                                        "3\t3\t3\t3\t3@host.invalid\n"
                                        "4\t4\t4\t4\t4@host.invalid\n")
    report = run_import(hcem, "csv", [path], {"map": {"name": "1", "email": "5"}})
    assert names(hcem) == ["2", "3", "4"]
    assert [p.line for p in report.skipped] == [1]


def test_an_email_only_csv_names_contacts_by_their_email(hcem, write):
    path = write("emails.csv", "Email\nana@harbor.example\nbo@harbor.example\n")
    report = run_import(hcem, "csv", [path])
    assert names(hcem) == ["ana@harbor.example", "bo@harbor.example"]
    assert report.added["contact"] == 2
    assert any("named by their email" in n for n in report.notes)
    table = csv_table.Table(path, None)
    assert table.columns == ["Email"]


# ----------------------------------------------------------------------- rows told apart
PAT = "name,email,phone\nPat Lee,pat@harbor.example,(202) 555-0100\n"
TWO = ("name,email,phone\n"
       "Kim Ode,kim@harbor.example,\n"
       "PAT LEE,,(202) 555-0100\n"
       "Patricia Lee,pat@harbor.example,\n")


def test_a_matched_row_told_apart_is_added_as_a_new_contact(hcem, write):
    run_import(hcem, "csv", [write("a.csv", PAT)])
    pat = hcem.list("contact")[0]
    before = sorted(m.values["value"] for m in hcem.children("method", "contact", pat.id))
    path = write("b.csv", TWO)
    dry = run_import(hcem, "csv", [path], dry_run=True)
    assert [(m.line, m.status) for m in dry.matches] == [(3, "unchanged"), (4, "unchanged")]
    report = run_import(hcem, "csv", [path], {"no_match": [3]})
    assert report.added["contact"] == 2 and report.unchanged["contact"] == 1
    assert [(m.line, m.kept_apart, m.contact) for m in report.matches] == [
        (3, True, pat.id), (4, False, pat.id)]
    assert "kept apart, added as a new contact" in str(report.matches[0])
    assert names(hcem) == ["Kim Ode", "PAT LEE", "Pat Lee"]
    new = next(c for c in hcem.list("contact") if c.values["name"] == "PAT LEE")
    assert [m.values["value"] for m in hcem.children("method", "contact", new.id)] == \
        ["+12025550100"]
    assert sorted(m.values["value"] for m in hcem.children("method", "contact", pat.id)) == \
        before                                          # the matched contact is untouched


def test_rows_to_tell_apart_are_named_by_line_file_and_line_or_pair(hcem, write, tmp_path):
    run_import(hcem, "csv", [write("a.csv", PAT)])
    path = write("b.csv", TWO)
    other = write("c.csv", "name,email\nP. Lee,pat@harbor.example\n")
    for given in (["b.csv:3"], [f"{path}:3"], [(str(path), 3)]):
        report = run_import(hcem, "csv", [path, other], {"no_match": given}, dry_run=True)
        assert [(m.source, m.line, m.kept_apart) for m in report.matches] == [
            (str(path), 3, True), (str(path), 4, False), (str(other), 2, False)]
    report = run_import(hcem, "csv", [path], {"no_match": ["2"]}, dry_run=True)
    assert report.added["contact"] == 1 and not any(m.kept_apart for m in report.matches)
    assert any(f"{path}:2:" in n and "matched no contact" in n for n in report.notes)


def test_bad_rows_to_tell_apart_are_refused_and_write_nothing(hcem, write):
    path = write("b.csv", TWO)
    other = write("c.csv", "name,phone\nP Lee,(202) 555-0100\n")
    before = hcem.dump()
    for bad, message in (("x", "'x' is not a row"), (0, "'0' is not a row"),
                         ("b.csv:two", "is not a row")):
        with pytest.raises(ValidationError, match=message):
            run_import(hcem, "csv", [path], {"no_match": [bad]})
    with pytest.raises(ValidationError, match=r"line 3: say which file it is in \(FILE:3\)"):
        run_import(hcem, "csv", [path, other], {"no_match": [3]})
    with pytest.raises(ValidationError, match="'d.csv' is not one of the files imported"):
        run_import(hcem, "csv", [path], {"no_match": ["d.csv:3"]})
    assert hcem.dump() == before


def test_cli_dry_run_lists_matches_and_no_match_keeps_a_row_apart(hcem, write, capsys):
    from fieldcoord.cli import main
    run_import(hcem, "csv", [write("a.csv", PAT)])
    path = write("b.csv", TWO)
    db = str(hcem.path)
    hcem.close()
    assert main(["--db", db, "import", "csv", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"  {path}:3: matched contact 'Pat Lee'" in out and f"{path}:4: matched" in out
    assert main(["--db", db, "--json", "import", "csv", str(path), "--no-match", "3"]) == 0
    import json
    got = json.loads(capsys.readouterr().out)
    assert got["added"] == {"contact": 2, "method": 2}
    assert [(m["line"], m["status"]) for m in got["matches"]] == [(3, "kept apart"),
                                                                 (4, "unchanged")]
    assert main(["--db", db, "import", "ical", str(path), "--no-match", "3"]) == 2
    assert "--no-match" in capsys.readouterr().err


def test_a_matched_vcard_can_be_told_apart_too(hcem, write, capsys):
    from fieldcoord.cli import main
    run_import(hcem, "csv", [write("a.csv", "name,email,phone\n"
                                   "Pat Lee,pat@harbor.example,(202) 555-0100\n")])
    card = write("pat.vcf", "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Pat Lee\r\nN:Lee;Pat;;;\r\n"
                             "TEL;TYPE=WORK:(202) 555-0100\r\nEND:VCARD\r\n")
    db = str(hcem.path)
    hcem.close()
    assert main(["--db", db, "import", "vcard", str(card), "--dry-run"]) == 0
    assert f"{card}:1: matched contact 'Pat Lee'" in capsys.readouterr().out
    assert main(["--db", db, "--json", "import", "vcard", str(card), "--no-match", "1"]) == 0
    import json
    got = json.loads(capsys.readouterr().out)
    assert got["added"]["contact"] == 1
    assert [(m["line"], m["status"]) for m in got["matches"]] == [(1, "kept apart")]
