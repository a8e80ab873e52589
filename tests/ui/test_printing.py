# SPDX-License-Identifier: GPL-3.0-or-later
"""ICS forms as PDF: `fieldcoord print ...` and print_form write letter-size forms whose text a
reader can extract, over as many pages as the rows need."""
import os
import re
import shutil
import subprocess
import sys
import unicodedata

import pytest

pytest.importorskip("PySide6")
pypdf = pytest.importorskip("pypdf")

from fieldcoord.cli import main  # noqa: E402
from fieldcoord.core.errors import ValidationError  # noqa: E402
from fieldcoord.store import Store  # noqa: E402

OP = "Tolliver River Flood Task Force"
TITLES = {
    "ics205": ["INCIDENT RADIO COMMUNICATIONS PLAN (ICS 205)", "1. Incident Name:",
               "2. Date/Time Prepared:", "3. Operational Period:",
               "4. Basic Radio Channel Use:", "Zone Grp.", "RX Tone/NAC", "Mode (A, D, or M)",
               "5. Special Instructions:", "6. Prepared by (Communications Unit Leader):"],
    "ics205a": ["COMMUNICATIONS LIST (ICS 205A)", "1. Incident Name:", "2. Operational Period:",
                "3. Basic Local Communications Information:", "Incident Assigned Position",
                "Name (Alphabetized)", "4. Prepared by:"],
    "ics213rr": ["RESOURCE REQUEST MESSAGE (ICS 213 RR)", "3. Resource Request Number:",
                 "4. Order:", "5. Requested Delivery/Reporting Location:",
                 "6. Suitable Substitutes and/or Suggested Sources:", "8. Priority:",
                 "12. Name of Supplier/POC:", "16. Order placed by (check box):",
                 "19. Date/Time:", "REQUESTOR", "LOGISTICS", "FINANCE"],
    "ics214": ["ACTIVITY LOG (ICS 214)", "3. Name:", "4. ICS Position:",
               "5. Home Agency (and Unit):", "6. Resources Assigned:", "7. Activity Log:",
               "Notable Activities", "8. Prepared by:"],
}


def flat(text: str) -> str:
    """Extracted text with any run of white space as one space."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def pdf_pages(path) -> list[str]:
    return [flat(p.extract_text()) for p in pypdf.PdfReader(str(path)).pages]


@pytest.fixture
def demo(demo_template, tmp_path, qapp):
    path = tmp_path / "demo.db"
    shutil.copy(demo_template, path)
    s = Store.open(path)
    yield s
    s.close()


def op_id(store) -> str:
    return store.list("operation", {"name": OP})[0].id


@pytest.mark.parametrize("form", list(TITLES))
def test_cli_prints_each_form_with_its_blocks(form, demo, tmp_path, capsys):
    out = tmp_path / f"{form}.pdf"
    assert main(["--db", str(demo.path), "print", form, "--operation", op_id(demo),
                 str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    pages = pdf_pages(out)
    squeezed = pages[0].replace(" ", "")        # column headings wrap inside their cells
    for title in TITLES[form]:
        assert title.replace(" ", "") in squeezed, f"{form}: block '{title}' missing"
    assert OP in pages[0]
    code = {"ics205": "ICS 205", "ics205a": "ICS 205A", "ics213rr": "ICS 213 RR",
            "ics214": "ICS 214"}[form]
    assert re.search(rf"{code}, Page 1 of \d+", pages[0])
    reader = pypdf.PdfReader(str(out))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792), "US letter"
    assert not list(tmp_path.glob("*.part")), "no partial file is left behind"


def test_cli_prints_in_a_fresh_process_without_a_display(demo, tmp_path):
    """The command makes its own headless Qt application and exits cleanly."""
    out = tmp_path / "log.pdf"
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    r = subprocess.run([sys.executable, "-m", "fieldcoord", "--db", str(demo.path), "print",
                        "ics214", "--operation", OP, str(out)], capture_output=True, text=True,
                       timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("exported 16 log entries")
    assert "7. Activity Log:" in pdf_pages(out)[0]


def test_ics205_pdf_holds_every_comms_row(demo, tmp_path):
    from fieldcoord.ui.paper import print_form
    out = tmp_path / "205.pdf"
    report = print_form(demo, "ics205", OP, out)
    assert report.written["comms plan rows"] == 13 and report.written["pages"] == 1
    text = pdf_pages(out)[0]
    for row in demo.children("comms", "operation", op_id(demo)):
        channel = demo.get(row.values["channel"]).values
        assert channel["name"] in text
    for value in ("151.1375", "156.7", "Division North (Alder Falls) tactical",
                  "talkgroup 4101", "AES-256"):
        assert value in text


def test_ics205a_and_214_show_people_and_log(demo, tmp_path):
    from fieldcoord.ui.paper import print_form
    print_form(demo, "ics205a", op_id(demo), tmp_path / "a.pdf")
    text = " ".join(pdf_pages(tmp_path / "a.pdf"))
    assert "Dale Boyd (HCSO)" in text and "HARBOR 113" in text
    print_form(demo, "ics214", op_id(demo), tmp_path / "log.pdf")
    text = " ".join(pdf_pages(tmp_path / "log.pdf"))
    for entry in demo.children("log", "operation", op_id(demo)):
        assert entry.values["happened_at"].replace("T", " ") in text
    assert "Flood warning issued for the Tolliver River" in text


def test_ics213rr_one_page_per_request(demo, tmp_path):
    from fieldcoord.ui.paper import print_form
    out = tmp_path / "rr.pdf"
    report = print_form(demo, "ics213rr", OP, out)
    pages = pdf_pages(out)
    requests = demo.children("request", "operation", op_id(demo))
    assert len(pages) == len(requests) == report.written["resource requests"]
    for page, number in zip(pages, sorted(r.values["number"] for r in requests)):
        assert number in page and "ICS 213 RR, Page 1 of 1" in page
    one = next(r for r in requests if r.values["number"] == "TRF-004")
    print_form(demo, "ics213rr", one.id, out)
    pages = pdf_pages(out)
    assert len(pages) == 1 and "TRF-004" in pages[0] and "Two Type 2 trash pumps" in pages[0]


def test_fonts_are_embedded(demo, tmp_path):
    from fieldcoord.ui.paper import print_form
    out = tmp_path / "205.pdf"
    print_form(demo, "ics205", OP, out)
    fonts = pypdf.PdfReader(str(out)).pages[0]["/Resources"]["/Font"]
    assert fonts
    for ref in fonts.values():
        font = ref.get_object()
        desc = (font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font
                else font)["/FontDescriptor"].get_object()
        assert any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")), font


def many_comms(store, n: int) -> str:
    with store.transaction():
        oid = store.add("operation", {"name": "Regional Exercise"})
        for i in range(1, n + 1):
            ch = store.add("channel", {"name": f"EX TAC {i:03d}", "function": "tactical",
                                       "rx_freq": 150 + i / 1000, "tx_freq": 155 + i / 1000,
                                       "mode": "analog"})
            store.add("comms", {"operation": oid, "channel": ch, "zone": "EX",
                                "number": i, "assignment": f"Exercise group {i:03d}"})
    return oid


def test_ics205_overflows_onto_more_pages(demo, tmp_path):
    oid = many_comms(demo, 90)
    out = tmp_path / "big.pdf"
    assert main(["--db", str(demo.path), "print", "ics205", "--operation", oid,
                 str(out)]) == 0
    pages = pdf_pages(out)
    n = len(pages)
    assert n >= 3
    for i, page in enumerate(pages, 1):
        assert f"ICS 205, Page {i} of {n}" in page
        assert "1. Incident Name: Regional Exercise" in page, "header repeated"
        assert "Channel Name/Trunked Radio System Talkgroup" in page, "table heading repeated"
        assert ("4. Basic Radio Channel Use: (continued)" in page) == (i > 1)
    assert "5. Special Instructions:" in pages[-1]
    seen = [int(m) for page in pages for m in re.findall(r"Exercise group (\d{3})", page)]
    assert seen == list(range(1, 91)), "every row once, in order, across the pages"


def test_ics214_overflows_onto_more_pages(demo, tmp_path):
    from fieldcoord.ui.paper import print_form
    with demo.transaction():
        oid = demo.add("operation", {"name": "Long Night", "start": "2026-01-10T18:00"})
        for i in range(100):
            demo.add("log", {"operation": oid, "author": "Casey Ortiz",
                             "text": f"Check {i:03d}: all shelters report normal operations, "
                                     "generators fuelled, radio checks on the shelter net.",
                             "happened_at": f"2026-01-{11 + i // 60:02d}T{i % 60 // 3:02d}:"
                                            f"{i % 3 * 20:02d}"})
    report = print_form(demo, "ics214", oid, tmp_path / "log.pdf")
    pages = pdf_pages(tmp_path / "log.pdf")
    assert report.written == {"pages": len(pages), "log entries": 100}
    assert len(pages) >= 3
    assert all("7. Activity Log:" in p and "8. Prepared by:" in p for p in pages)
    seen = [int(m) for page in pages for m in re.findall(r"Check (\d{3}):", page)]
    assert seen == list(range(100))


def test_an_entry_longer_than_a_page_is_shortened_and_reported(demo, tmp_path):
    from fieldcoord.ui.paper import print_form
    oid = demo.add("operation", {"name": "Wordy"})
    demo.add("log", {"operation": oid, "text": "Start. " + "Situation unchanged. " * 900,
                     "happened_at": "2026-01-10T08:00"})
    demo.add("log", {"operation": oid, "text": "Shift change.", "happened_at": "2026-01-10T09:00"})
    report = print_form(demo, "ics214", oid, tmp_path / "wordy.pdf")
    assert report.notes == ["ICS 214: row 1 of block 7 is too long for one page and was "
                            "shortened"]
    pages = pdf_pages(tmp_path / "wordy.pdf")
    assert report.written["pages"] == len(pages)
    assert any("Start. Situation unchanged." in p for p in pages)
    assert "Shift change." in pages[-1]
    assert "note: ICS 214: row 1 of block 7" in report.summary()


def test_bad_operation_is_refused_with_one_error_line(demo, tmp_path, capsys):
    out = tmp_path / "x.pdf"
    for ref in ("01a21322-0000-7000-8000-000000000000", "No Such Operation"):
        code = main(["--db", str(demo.path), "print", "ics205", "--operation", ref, str(out)])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2
        assert len(err) == 1 and err[0].startswith("error: ") and "operation" in err[0]
        assert not out.exists()
    code = main(["--db", str(demo.path), "print", "ics205", "--operation", op_id(demo),
                 str(tmp_path / "missing" / "x.pdf")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "does not exist" in err[0]


def test_operation_named_on_the_command_line(demo, tmp_path):
    out = tmp_path / "by-name.pdf"
    assert main(["--db", str(demo.path), "print", "ics205a", "--operation",
                 OP.lower(), str(out)]) == 0
    assert OP in pdf_pages(out)[0]


def test_render_form_on_a_paged_device(demo, tmp_path):
    """The app prints through the same function onto a QPrinter; any paged device will do."""
    from PySide6.QtGui import QPageSize, QPdfWriter

    from fieldcoord.ui.paper import render_form
    out = tmp_path / "a4.pdf"
    writer = QPdfWriter(str(out))
    writer.setPageSize(QPageSize(QPageSize.A4))
    pages = render_form(writer, demo, "ics214", OP)
    del writer
    assert pages == len(pdf_pages(out)) >= 1
    box = pypdf.PdfReader(str(out)).pages[0].mediabox
    assert round(float(box.width)) == 595, "the device's paper is kept"
    with pytest.raises(ValidationError):
        render_form(QPdfWriter(str(tmp_path / "never.pdf")), demo, "ics214", "Nope")
