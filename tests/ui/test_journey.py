# SPDX-License-Identifier: GPL-3.0-or-later
"""A liaison's first hour, start to finish, as one test: find a partner's 24/7 line by keyboard,
add an agreement with dates by keyboard, import a partner's CSV with shared station numbers,
import a real calendar export, print an ICS 205 from the app. (The window mapping on a real X
display is tests/ui/test_real_display.py.)"""
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox

from fieldcoord.ui import fileops, present
from fieldcoord.ui.dialogs import RecordDialog
from fieldcoord.ui.import_wizard import ImportWizard

WAIT = 30000
STATION = ("name,email,phone,mobile\n"
           "Avery Stone,avery.stone@cpfd.example,(360) 555-0150,(360) 555-0151\n"
           "Blake Moreno,blake.moreno@cpfd.example,(360) 555-0150,(360) 555-0151\n"
           "Casey Lindqvist,casey.lindqvist@cpfd.example,(360) 555-0150,(360) 555-0151\n")


def import_through_the_wizard(qtbot, window, path, fmt):
    done = []
    wizard = ImportWizard(window.db_path, window, lambda report, ids: done.append(report))
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.file_page.add_paths([str(path)])
    wizard.file_page.set_format(fmt)
    wizard.next()
    page = wizard.mapping_page
    qtbot.waitUntil(lambda: page.preview is not None or page.message.text() != "", timeout=WAIT)
    wizard.next()                                       # the trial run
    check = wizard.check_page
    qtbot.waitUntil(lambda: check.task is not None and not check.running(), timeout=WAIT)
    assert check.isComplete(), check.message.text()
    wizard.next()                                       # the import
    qtbot.waitUntil(lambda: bool(done), timeout=WAIT)
    window.records_changed(None, set())
    wizard.close()
    return done[0]


# a calendar as Google and Exchange write them, with the lines that once threw whole files away
# (year 0000, an empty CLASS, DTEND with DURATION, "BYDAY=MO, TU"); the corpus's real Google
# export is used instead when it is there
CALENDAR = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
            "PRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n"
            "BEGIN:VEVENT\r\nUID:a1@example\r\nDTSTART:20270105T170000Z\r\n"
            "DTEND:20270105T180000Z\r\nDURATION:PT1H\r\nCREATED:00001231T000000Z\r\n"
            "CLASS:\r\nSUMMARY:Harbor EOC tabletop\r\nEND:VEVENT\r\n"
            "BEGIN:VEVENT\r\nUID:a2@example\r\nDTSTART:20270111T150000Z\r\n"
            "DTEND:20270111T160000Z\r\nRRULE:FREQ=WEEKLY;COUNT=4;BYDAY=MO, TU\r\n"
            "SUMMARY:Radio net check\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")


@pytest.fixture
def calendar_file(tmp_path):
    corpus = Path(__file__).resolve().parents[3] / "shared" / "corpus"
    real = corpus / "ical/ical4j-valid/google_aus_holidays.ics"
    path = tmp_path / "holidays.ics"
    if real.exists():
        shutil.copy(real, path)
    else:
        path.write_text(CALENDAR, encoding="utf-8")
    return path


def test_a_liaisons_first_hour(window, qtbot, tmp_path, calendar_file, monkeypatch):
    store = window.store
    # 1. the sheriff's 24/7 line, by keyboard only: Ctrl+K, the agency's code, Enter, Ctrl+C
    window.go("contacts")
    qtbot.keyClick(window, Qt.Key_K, Qt.ControlModifier)
    qtbot.keyClicks(window.search, "hcso")
    panel = window.search_panel
    qtbot.waitUntil(lambda: len(panel.result_ids()) > 0, timeout=5000)
    first = store.get(panel.result_ids()[0])
    assert first.kind == "agency" and first.values["code"] == "HCSO"
    qtbot.keyClick(window.search, Qt.Key_Return)
    assert window.selected_id() == first.id
    lines = present.lines_of(store, first.id, "agency")
    assert lines and lines[0].duty == "24/7", "the 24/7 line comes first"
    lst = window.pages[window.current_page].current()
    lst.table.setFocus()
    qtbot.keyClick(lst.table, Qt.Key_C, Qt.ControlModifier)
    assert QGuiApplication.clipboard().text() == lines[0].copy_text

    # 2. an agreement with its dates, typed
    window.go("agreements")
    dialogs = []
    real_exec = RecordDialog.exec

    def typed(dialog):
        dialogs.append(dialog)
        dialog.show()
        dialog.editors["title"].setFocus()
        qtbot.keyClicks(dialog.editors["title"], "Harbor mutual aid, 2027")
        for name, text in (("effective_date", "2027-01-01"), ("expiry_date", "2029-12-31"),
                           ("review_date", "2028-06-30")):
            edit = dialog.editors[name].edit
            edit.setFocus()
            edit.selectAll()
            qtbot.keyClicks(edit, text)
        qtbot.keyClick(dialog.editors["review_date"].edit, Qt.Key_Tab)
        dialog.save()
        return dialog.result()
    monkeypatch.setattr(RecordDialog, "exec", typed)
    window.new_record()
    monkeypatch.setattr(RecordDialog, "exec", real_exec)
    made = [a for a in store.list("agreement") if a.values["title"] == "Harbor mutual aid, 2027"]
    assert len(made) == 1, [d.errors for d in dialogs]
    assert (made[0].values["effective_date"], made[0].values["expiry_date"],
            made[0].values["review_date"]) == ("2027-01-01", "2029-12-31", "2028-06-30")

    # 3. a partner's staff list sharing a station line and a duty mobile: three people
    staff = tmp_path / "cpfd-staff.csv"
    staff.write_text(STATION, encoding="utf-8")
    before = store.count("contact")
    report = import_through_the_wizard(qtbot, window, staff, "csv")
    assert report.added["contact"] == 3 and not report.updated
    assert store.count("contact") == before + 3

    # 4. a real calendar export (Google Calendar's) becomes calendar entries
    events = store.count("event")
    report = import_through_the_wizard(qtbot, window, calendar_file, "ical")
    assert report.added.get("event", 0) > 0
    assert store.count("event") == events + report.added["event"]

    # 5. an ICS 205 of the flood task force, from the app, as PDF
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    monkeypatch.setattr(QMessageBox, "exec", lambda box: 0)
    op = next(r for r in store.list("operation") if "Flood" in r.title)
    out = tmp_path / "ics205.pdf"
    task = fileops.start_print(window, "ics205", op.id, str(out))
    qtbot.waitUntil(lambda: task.state != "running", timeout=60000)
    assert task.state == "succeeded", task.error
    pypdf = pytest.importorskip("pypdf")
    text = " ".join(" ".join(p.extract_text().split()) for p in pypdf.PdfReader(str(out)).pages)
    assert "INCIDENT RADIO COMMUNICATIONS PLAN (ICS 205)" in text and op.title in text
    box = QApplication.activeModalWidget()
    assert isinstance(box, QMessageBox) and str(out) in box.informativeText()
    next(b for b in box.buttons() if b.text() == "Open PDF").click()
    assert [u.toLocalFile() for u in opened] == [str(out.resolve())]
