# SPDX-License-Identifier: GPL-3.0-or-later
"""File > Export…: the format it starts with, the CSV layouts and the Excel workbook."""
import csv
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from fieldcoord.interop.runner import EXPORTERS, LAYOUTS
from fieldcoord.ui.export_dialog import CSV_LAYOUTS, EXPORTS, open_export_dialog

WAIT = 20000


def run(qtbot, dialog, path: Path):
    dialog.report = None
    dialog.path.setText(str(path))
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.report is not None or dialog.message.text() != "",
                    timeout=WAIT)
    assert dialog.report is not None, dialog.message.text()
    return dialog.report


def test_every_format_and_layout_it_offers_is_registered():
    assert {fmt for _label, fmt, _kind, _suffix in EXPORTS} <= set(EXPORTERS)
    assert [name for _label, name in CSV_LAYOUTS] == list(LAYOUTS["csv"])


def test_opened_from_the_calendar_page_it_starts_with_icalendar(qtbot, demo_db):
    dialog = open_export_dialog(None, demo_db, page="calendar")
    qtbot.addWidget(dialog)
    assert dialog.choice()[0] == "ical"
    assert dialog.path.text().endswith(".ics")
    assert dialog.options() == {}
    other = open_export_dialog(None, demo_db, page="contacts")
    qtbot.addWidget(other)
    assert other.choice()[0] == "vcard" and other.path.text().endswith(".vcf")


def test_the_main_window_opens_it_for_the_page_shown(qtbot, window):
    window.go("calendar")
    dialog = window.export_files()
    qtbot.addWidget(dialog)
    assert dialog.choice()[0] == "ical"
    dialog.close()
    window.go("contacts")
    dialog = window.export_files()
    qtbot.addWidget(dialog)
    assert dialog.choice()[0] == "vcard"


def test_csv_layout_is_offered_for_csv_only(qtbot, demo_db, tmp_path):
    dialog = open_export_dialog(None, demo_db, agency="AFPD")
    qtbot.addWidget(dialog)
    assert dialog.layout_choice.isHidden() and dialog.version.isVisible()
    dialog.set_format("csv", "contact")
    assert dialog.layout_choice.isVisible() and not dialog.version.isVisible()
    assert dialog.options() == {"kind": "contact", "layout": "fieldcoord", "agency": "AFPD"}
    dialog.layout_choice.setCurrentIndex(dialog.layout_choice.findData("google"))
    out = tmp_path / "afpd-google.csv"
    report = run(qtbot, dialog, out)
    assert report.written == {"contact": 6}
    with out.open(encoding="utf-8", newline="") as f:
        head = next(csv.reader(f))
    assert head[:3] == ["First Name", "Middle Name", "Last Name"] and "Phone 1 - Value" in head
    assert "Google Contacts" in dialog.result.text()


def test_the_workbook_is_written_from_the_dialog(qtbot, demo_db, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    dialog = open_export_dialog(None, demo_db, agency="AFPD")
    qtbot.addWidget(dialog)
    dialog.set_format("xlsx")
    assert dialog.path.text().endswith(".xlsx") and dialog.layout_choice.isHidden()
    assert dialog.options() == {"agency": "AFPD"}
    out = tmp_path / "afpd.xlsx"
    report = run(qtbot, dialog, out)
    assert report.written == {"agency": 1, "contact": 6}
    assert dialog.result.text() == f"Exported 1 agency and 6 contacts to {out}."
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["Contacts", "Agencies"]
    phones = [row[6] for row in book["Contacts"].iter_rows(min_row=2) if row[6].value]
    assert phones and all(c.data_type == "s" and c.value.startswith("+") for c in phones)


def test_short_channel_names_and_a_calendar_zone_can_be_chosen(qtbot, demo_db, tmp_path):
    dialog = open_export_dialog(None, demo_db)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.set_format("chirp")
    assert dialog.name_length.isVisible() and not dialog.time_zone.isVisible()
    assert "name_length" not in dialog.options()
    dialog.name_length.setCurrentIndex(dialog.name_length.findData(7))
    assert dialog.options()["name_length"] == 7
    out = tmp_path / "radio.csv"
    run(qtbot, dialog, out)
    with out.open(encoding="utf-8", newline="") as f:
        names = [row["Name"] for row in csv.DictReader(f)]
    assert names and all(len(n) <= 7 for n in names) and len(set(names)) == len(names)
    dialog.set_format("ical")
    assert dialog.time_zone.isVisible() and not dialog.name_length.isVisible()
    assert "time_zone" not in dialog.options(), "the computer's own zone by default"
    dialog.time_zone.setCurrentIndex(dialog.time_zone.findData("America/Los_Angeles"))
    assert dialog.options()["time_zone"] == "America/Los_Angeles"
    ics = tmp_path / "calendar.ics"
    run(qtbot, dialog, ics)
    assert "TZID:America/Los_Angeles" in ics.read_text(encoding="utf-8")
    dialog.time_zone.setEditText("Mars/Olympus_Mons")
    dialog.path.setText(str(tmp_path / "bad.ics"))
    qtbot.mouseClick(dialog.export_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "Mars/Olympus_Mons" in dialog.message.text(), timeout=WAIT)
    assert not (tmp_path / "bad.ics").exists()
