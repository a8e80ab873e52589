# SPDX-License-Identifier: GPL-3.0-or-later
"""File > Import… wizard and File > Export… dialog: preview, mapping, trial run, report."""
import threading

import pytest
from PySide6.QtCore import Qt

from fieldcoord.store import Store
from fieldcoord.ui.export_dialog import open_export_dialog
from fieldcoord.ui.import_wizard import ImportWizard, open_import_wizard

WAIT = 20000


@pytest.fixture
def db(tmp_path):
    """An empty directory whose home agency is HCEM; the path, as the main window has it."""
    path = tmp_path / "hcem.db"
    Store.create(path, "Harbor County Emergency Management", "HCEM", device="laptop-1").close()
    return path


def dump(path) -> str:
    with Store.open(path) as s:
        return s.dump()


def to_mapping(qtbot, wizard, path, fmt=None) -> None:
    wizard.file_page.add_paths([str(path)])
    if fmt:
        wizard.file_page.set_format(fmt)
    assert wizard.file_page.isComplete()
    wizard.next()
    page = wizard.mapping_page
    qtbot.waitUntil(lambda: page.preview is not None or page.message.text() != "", timeout=WAIT)


def settle(qtbot, page) -> None:
    qtbot.waitUntil(lambda: page.task is not None and not page.running(), timeout=WAIT)


@pytest.fixture
def wizard(qtbot, db):
    done = []
    w = ImportWizard(db, on_done=lambda report, ids: done.append((report, ids)))
    w.done_calls = done
    qtbot.addWidget(w)
    w.show()
    yield w
    for task in list(w.tasks):
        task.cancel()
        task.wait()


def test_usfa_registry_preview_shows_first_rows_and_the_registry_mapping(qtbot, wizard, corpus):
    to_mapping(qtbot, wizard, corpus / "agencies/usfa-registry-station.csv")
    page = wizard.mapping_page
    assert wizard.fmt() == "csv"
    assert "USFA" in page.details.text() and "8077 rows" in page.details.text()
    assert page.rows.rowCount() == 20
    header = [page.rows.horizontalHeaderItem(c).text() for c in range(page.rows.columnCount())]
    assert page.rows.item(0, header.index("Fire Dept Name")).text() == \
        "101 Gamaliel Fire Protection District #5"
    assert page.kind_name() == "agency"
    assert page.combos["name"].currentText() == "Fire Dept Name"
    assert page.combos["code"].currentText() == "{HQ State}-{FDID}"
    assert page.combos["discipline"].currentText() == "=fire"
    assert page.uses_profile() and "built-in" in page.profile.text()
    assert page.options() == {"kind": "agency"}


def test_thunderbird_export_is_prefilled_and_imports_to_the_end(qtbot, wizard, corpus, db):
    to_mapping(qtbot, wizard, corpus / "contacts-csv/thunderbird/basic_csv_addressbook.csv")
    page = wizard.mapping_page
    assert "Thunderbird" in page.details.text()
    assert page.rows.rowCount() == 2 and page.rows.item(1, 2).text() == "Jane Doe"
    assert page.combos["name"].currentText() == "Display Name"
    assert page.combos["email"].currentText() == "Primary Email"
    before = dump(db)
    wizard.next()                                            # the trial run
    check = wizard.check_page
    settle(qtbot, check)
    assert check.isComplete(), check.message.text()
    assert "2 contacts" in check.summary.text()
    assert dump(db) == before                                # a trial writes nothing
    wizard.next()                                            # the import
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.report_page, timeout=WAIT)
    with Store.open(db) as s:
        assert sorted(r.values["name"] for r in s.list("contact")) == ["Jane Doe", "John Doe"]
    assert "2 contacts" in wizard.report_page.summary.text()
    (report, ids), = wizard.done_calls
    assert report.added["contact"] == 2 and len(ids) >= 2


def test_own_mapping_saved_and_loaded_for_a_plain_table(qtbot, db, tmp_path):
    table = tmp_path / "roster.csv"
    table.write_text("Who;Cell;Unit\nAda Park;+1 360 555 0101;Harbor Fire\n"
                     "Bo Lind;+1 360 555 0102;Harbor Fire\n", encoding="utf-8")
    w = ImportWizard(db)
    qtbot.addWidget(w)
    w.show()
    to_mapping(qtbot, w, table)
    page = w.mapping_page
    assert page.rows.rowCount() == 2 and page.combos["name"].currentText() == "(not imported)"
    assert not page.validatePage()
    assert "name" in page.message.text()
    page.combos["name"].setCurrentIndex(page.combos["name"].findData("Who"))
    page.combos["mobile"].setCurrentIndex(page.combos["mobile"].findData("Cell"))
    page.combos["organization"].setCurrentIndex(page.combos["organization"].findData("Unit"))
    assert page.save_mapping("county roster")
    w2 = ImportWizard(db)
    qtbot.addWidget(w2)
    w2.show()
    to_mapping(qtbot, w2, table)
    page2 = w2.mapping_page
    assert page2.saved.findData("county roster") > 0
    page2.load_saved("county roster")
    assert page2.current_mapping() == {"name": "Who", "mobile": "Cell", "organization": "Unit"}
    assert page2.validatePage()
    w2.next()
    settle(qtbot, w2.check_page)
    w2.next()
    qtbot.waitUntil(lambda: w2.currentPage() is w2.report_page, timeout=WAIT)
    with Store.open(db) as s:
        ada = next(r for r in s.list("contact") if r.values["name"] == "Ada Park")
        assert s.get(ada.values["agency"]).values["name"] == "Harbor Fire"


def test_vcard_file_shows_its_cards_as_they_will_be_imported(qtbot, wizard, corpus):
    to_mapping(qtbot, wizard, corpus / "vcard/ez-vcard/John_Doe_EVOLUTION.vcf")
    page = wizard.mapping_page
    assert wizard.fmt() == "vcard" and not page.mapping_box.isVisible()
    header = [page.rows.horizontalHeaderItem(c).text() for c in range(page.rows.columnCount())]
    assert page.rows.item(0, header.index("Organization")).text() == "IBM"


def test_a_bad_file_shows_a_clear_message_and_writes_nothing(qtbot, wizard, corpus, db):
    before = dump(db)
    to_mapping(qtbot, wizard, corpus / "ical/ical4j-invalid/boeing.ics")
    page = wizard.mapping_page
    assert page.preview is None and not page.isComplete()
    assert "not a valid iCalendar file" in page.message.text()
    assert "Traceback" not in page.message.text()
    assert dump(db) == before


def test_a_mapping_that_fails_in_the_trial_run_is_explained_and_writes_nothing(qtbot, wizard,
                                                                               db, tmp_path):
    table = tmp_path / "roster.csv"
    table.write_text("name,email\nAda Park,ada@example.org\n", encoding="utf-8")
    before = dump(db)
    to_mapping(qtbot, wizard, table)
    page = wizard.mapping_page
    page.combos["mobile"].setEditText("{Cell phone}")        # a column the file lacks
    wizard.next()
    check = wizard.check_page
    settle(qtbot, check)
    assert not check.isComplete()
    assert "no column 'Cell phone'" in check.message.text()
    assert "Traceback" not in check.message.text()
    assert dump(db) == before


@pytest.mark.parametrize("how", ["stop button", "wizard cancel"])
def test_stopping_the_import_writes_nothing(qtbot, wizard, corpus, db, monkeypatch, how):
    from fieldcoord.ui.import_wizard import run_pages
    real = run_pages.import_work
    reached = threading.Event()

    def held(db_path, fmt, paths, options, dry_run):
        work = real(db_path, fmt, paths, options, dry_run)
        if dry_run:
            return work

        def run(progress, cancel):
            def hold(label, value, maximum):       # the import is under way: wait for Stop
                progress(label, value, maximum)
                reached.set()
                cancel.wait(10)
            return work(hold, cancel)
        return run

    monkeypatch.setattr(run_pages, "import_work", held)
    before = dump(db)
    to_mapping(qtbot, wizard, corpus / "contacts-csv/thunderbird/basic_csv_addressbook.csv")
    wizard.next()
    settle(qtbot, wizard.check_page)
    wizard.next()
    qtbot.waitUntil(reached.is_set, timeout=WAIT)
    if how == "stop button":
        qtbot.mouseClick(wizard.import_page.stop, Qt.LeftButton)
        settle(qtbot, wizard.import_page)
        assert "nothing was imported" in wizard.import_page.status.text()
        assert wizard.currentPage() is wizard.import_page
    else:
        wizard.reject()                       # stops the import, then closes
        settle(qtbot, wizard.import_page)
        qtbot.waitUntil(lambda: not wizard.isVisible(), timeout=WAIT)
    assert wizard.import_page.task.state == "cancelled"
    assert not wizard.done_calls
    assert dump(db) == before


def test_open_import_wizard_with_a_file_starts_on_it(qtbot, db, corpus):
    w = open_import_wizard(None, db, paths=[corpus / "radio/chirp/US_MURS_Channels.csv"])
    qtbot.addWidget(w)
    assert w.isVisible() and w.fmt() == "chirp" and len(w.paths()) == 1


def test_export_dialog_writes_an_agencys_vcards(qtbot, demo_db, tmp_path):
    dialog = open_export_dialog(None, demo_db, agency="AFPD")
    qtbot.addWidget(dialog)
    assert dialog.by_agency.isChecked() and dialog.agency.currentData() == "AFPD"
    out = tmp_path / "afpd.vcf"
    dialog.path.setText(str(out))
    dialog.version.setCurrentIndex(dialog.version.findData("4.0"))
    assert dialog.options() == {"vcard_version": "4.0", "agency": "AFPD"}
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.report is not None or dialog.message.text() != "",
                    timeout=WAIT)
    assert dialog.report is not None, dialog.message.text()
    text = out.read_text(encoding="utf-8")
    assert text.count("BEGIN:VCARD") == 1 + 6                # the agency and its 6 contacts
    assert "VERSION:4.0" in text and "Alder Falls Police Department" in text
    assert dialog.result.isVisible()
    assert dialog.result.text() == f"Exported 1 agency and 6 contacts to {out}."


def test_export_asks_before_replacing_a_file(qtbot, demo_db, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox
    out = tmp_path / "keep.vcf"
    out.write_text("precious", encoding="utf-8")
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: asked.append(a[2]) or QMessageBox.No)
    dialog = open_export_dialog(None, demo_db, agency="AFPD")
    qtbot.addWidget(dialog)
    dialog.path.setText(str(out))
    assert dialog.start() is None
    assert asked and "keep.vcf exists already" in asked[0]
    assert out.read_text(encoding="utf-8") == "precious"


def test_export_dialog_says_what_is_missing(qtbot, demo_db, tmp_path):
    dialog = open_export_dialog(None, demo_db, search="")
    qtbot.addWidget(dialog)
    dialog.by_search.setChecked(True)
    assert dialog.start() is None
    assert "search" in dialog.message.text()
    dialog.all.setChecked(True)
    dialog.path.setText(str(tmp_path / "no" / "such" / "folder" / "x.vcf"))
    assert dialog.start() is None and "does not exist" in dialog.message.text()


def test_the_report_lists_each_skipped_row_with_its_file_and_line(qtbot, wizard, db, tmp_path):
    memories = tmp_path / "channels.csv"
    memories.write_text("Location,Name,Frequency,Duplex,Offset,Tone\n1,Simplex 1,146.52,,0,\n"
                        "2,Odd,146.55,sideways,0,\n", encoding="utf-8")
    to_mapping(qtbot, wizard, memories)
    assert wizard.fmt() == "chirp"
    wizard.next()
    settle(qtbot, wizard.check_page)
    assert wizard.check_page.skipped.rowCount() == 1
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.report_page, timeout=WAIT)
    table = wizard.report_page.skipped
    assert table.rowCount() == 1
    assert [table.item(0, c).text() for c in range(2)] == ["channels.csv", "3"]
    assert "Duplex 'sideways'" in table.item(0, 2).text()
    assert "1 channel" in wizard.report_page.summary.text()
    with Store.open(db) as s:
        assert [r.values["name"] for r in s.list("channel")] == ["Simplex 1"]


def test_files_of_another_format_are_refused_before_reading(qtbot, wizard, corpus):
    wizard.file_page.add_paths([str(corpus / "contacts-csv/thunderbird/basic_csv_addressbook.csv"),
                                str(corpus / "ical/ical4j-valid/EXDATE.ics")])
    assert wizard.fmt() == "csv"
    assert not wizard.file_page.validatePage()
    assert "EXDATE.ics is iCalendar events, not CSV table" in wizard.file_page.message.text()


def test_geojson_features_import_as_agencies_with_their_locations(qtbot, wizard, corpus, db):
    to_mapping(qtbot, wizard, corpus / "geojson/mecklenburg-nc/hospitals.geo.json")
    page = wizard.mapping_page
    assert wizard.fmt() == "geojson" and page.kind_name() == "agency"
    assert page.combos["name"].currentText() == "name"
    page.kind.setCurrentIndex(page.kind.findData("resource"))
    assert page.combos["location"].currentText().startswith("address+city")
    page.kind.setCurrentIndex(page.kind.findData("agency"))
    page.combos["discipline"].setEditText("=ems")
    assert page.options()["map"]["discipline"] == "=ems"
    wizard.next()
    settle(qtbot, wizard.check_page)
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.report_page, timeout=WAIT)
    report = wizard.report
    with Store.open(db) as s:
        added = [r for r in s.list("agency") if r.values["code"] != "HCEM"]
    assert len(added) == report.added["agency"] > 0
    assert all(r.values["discipline"] == "ems" and r.values["lat"] for r in added)


@pytest.mark.slow
def test_the_usfa_registry_imports_through_the_wizard(qtbot, wizard, corpus, db):
    to_mapping(qtbot, wizard, corpus / "agencies/usfa-registry-station.csv")
    wizard.next()
    settle(qtbot, wizard.check_page)
    assert "3216 agencies" in wizard.check_page.summary.text()
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.report_page, timeout=60000)
    with Store.open(db) as s:
        assert s.count("agency") == 3216 + 1


# ----------------------------------------------------------------------- matches, several columns
PAT = "name,email,phone\nPat Lee,pat@harbor.example,(202) 555-0100\n"
TWO = ("name,email,phone\nKim Ode,kim@harbor.example,\nPAT LEE,,(202) 555-0100\n"
       "Patricia Lee,pat@harbor.example,\n")


def cli_matches(capsys, db, path, *more) -> list[str]:
    """The matched rows `fieldcoord import csv --dry-run` prints."""
    from fieldcoord.cli import main
    assert main(["--db", str(db), "import", "csv", str(path), "--dry-run", *more]) == 0
    return [line.strip() for line in capsys.readouterr().out.splitlines()
            if ": matched contact " in line]


def shown_matches(table) -> list[str]:
    return [table.item(r, 1).toolTip() for r in range(table.rowCount())]


def test_the_trial_lists_the_cli_matches_and_an_unticked_row_is_added_apart(
        qtbot, wizard, db, tmp_path, capsys):
    from fieldcoord.interop.runner import run_import
    first = tmp_path / "a.csv"
    first.write_text(PAT, encoding="utf-8")
    with Store.open(db) as s:
        run_import(s, "csv", [first])
        pat = s.list("contact")[0].id
    path = tmp_path / "b.csv"
    path.write_text(TWO, encoding="utf-8")
    to_mapping(qtbot, wizard, path)
    wizard.next()
    check = wizard.check_page
    settle(qtbot, check)
    assert check.isComplete(), check.message.text()
    table = check.matches
    assert table.isVisible() and table.rowCount() == 2
    assert shown_matches(table) == cli_matches(capsys, db, path)
    assert [table.item(r, 0).text() for r in range(2)] == ["b.csv:3", "b.csv:4"]
    assert all(table.item(r, 0).checkState() == Qt.Checked for r in range(2))
    assert "untick" in check.matches_label.text()
    assert "Would be added" in check.summary.text() and "1 contact" in check.summary.text()
    before = dump(db)
    table.item(0, 0).setCheckState(Qt.Unchecked)            # PAT LEE is someone else
    settle(qtbot, check)
    assert wizard.kept_apart == {(str(path), 3)}
    assert wizard.options()["no_match"] == [(str(path), 3)]
    table = check.matches
    assert table.item(0, 0).checkState() == Qt.Unchecked and table.isEnabled()
    assert table.item(0, 3).text() == "kept apart, added as a new contact"
    assert shown_matches(table) == cli_matches(capsys, db, path, "--no-match", "3")
    assert "2 contacts" in check.summary.text()
    assert dump(db) == before                                # trials write nothing
    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.report_page, timeout=WAIT)
    with Store.open(db) as s:
        assert sorted(r.values["name"] for r in s.list("contact")) == [
            "Kim Ode", "PAT LEE", "Pat Lee"]
        apart = next(r for r in s.list("contact") if r.values["name"] == "PAT LEE")
        assert apart.id != pat
    shown = wizard.report_page.matches
    assert shown.rowCount() == 2 and shown.item(0, 3).text().startswith("kept apart")
    assert not (shown.item(0, 0).flags() & Qt.ItemIsUserCheckable)


def test_a_contact_method_takes_several_columns_in_the_mapping(qtbot, db, tmp_path):
    table = tmp_path / "roster.csv"
    table.write_text("Who,Work mail,Home mail,Desk\n"
                     "Ada Park,ada@hf.example,ada@home.example,(202) 555-0101\n",
                     encoding="utf-8")
    w = ImportWizard(db)
    qtbot.addWidget(w)
    w.show()
    to_mapping(qtbot, w, table)
    page = w.mapping_page
    page.combos["name"].setCurrentIndex(page.combos["name"].findData("Who"))
    assert len(page.field_combos("name")) == 1              # a name comes from one column
    emails = page.field_combos("email")
    assert len(emails) == 1
    emails[0].setCurrentIndex(emails[0].findData("Work mail"))
    emails = page.field_combos("email")
    assert len(emails) == 2                                  # room for another column
    emails[1].setCurrentIndex(emails[1].findData("Home mail"))
    assert len(page.field_combos("email")) == 3
    labels = [page.mapping.item(r, 0).text() for r in range(page.mapping.rowCount())]
    assert labels[labels.index("Email"):labels.index("Email") + 3] == ["Email", "Email 2",
                                                                         "Email 3"]
    assert page.current_mapping()["email"] == ["Work mail", "Home mail"]
    assert page.options()["map"]["email"] == ["Work mail", "Home mail"]
    assert page.save_mapping("roster")
    w2 = ImportWizard(db)
    qtbot.addWidget(w2)
    w2.show()
    to_mapping(qtbot, w2, table)
    page2 = w2.mapping_page
    page2.load_saved("roster")
    assert [c.currentText() for c in page2.field_combos("email")] == [
        "Work mail", "Home mail", "(not imported)"]
    assert page2.current_mapping() == {"name": "Who", "email": ["Work mail", "Home mail"]}
    w2.next()
    settle(qtbot, w2.check_page)
    assert w2.check_page.isComplete(), w2.check_page.message.text()
    assert "Desk" in w2.check_page.summary.notes.text()      # a column left unread is named
    w2.next()
    qtbot.waitUntil(lambda: w2.currentPage() is w2.report_page, timeout=WAIT)
    with Store.open(db) as s:
        ada = s.list("contact")[0]
        assert sorted(m.values["value"] for m in s.children("method", "contact", ada.id)) == [
            "ada@hf.example", "ada@home.example"]


def test_an_outlook_export_shows_each_email_column_and_keeps_the_built_in_reading(
        qtbot, wizard, tmp_path):
    path = tmp_path / "outlook.csv"
    path.write_text("First Name,Last Name,E-mail Address,E-mail 2 Address,Email Home,"
                    "Mobile Phone\nAna,Lima,a@hf.example,b@hf.example,c@home.example,"
                    "(202) 555-0101\n", encoding="utf-8")
    to_mapping(qtbot, wizard, path)
    page = wizard.mapping_page
    assert "Outlook" in page.details.text()
    assert [c.currentText() for c in page.field_combos("email")] == [
        "E-mail Address", "E-mail 2 Address", "(not imported)"]
    assert page.uses_profile() and page.options() == {"kind": "contact"}


def test_enter_on_the_first_page_goes_on_and_never_reopens_the_file_picker(qtbot, wizard, db,
                                                                           tmp_path,
                                                                           monkeypatch):
    from PySide6.QtWidgets import QFileDialog
    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileNames",
                        lambda *a, **k: asked.append(a) or ([], ""))
    path = tmp_path / "staff.csv"
    path.write_text("name,email\nDana Whitfield,dana@ccf.example\n", encoding="utf-8")
    wizard.file_page.add_paths([str(path)])
    for widget in (wizard.file_page.files, wizard.file_page.add_button):
        widget.setFocus()
        assert not wizard.file_page.add_button.isDefault()
    qtbot.keyClick(wizard.file_page.files, Qt.Key_Return)
    assert asked == [], "Enter did not open the file picker"
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.mapping_page, timeout=WAIT)
