# SPDX-License-Identifier: GPL-3.0-or-later
"""File > Import opens the wizard; File > Print writes an ICS form in the background and
offers to open it; every file dialog opens in Documents, then in the folder last used."""
from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox

from fieldcoord.ui import fileops, import_wizard


@pytest.fixture
def documents(tmp_path, monkeypatch):
    """The user's Documents folder, in tmp_path."""
    docs = tmp_path / "Documents"
    docs.mkdir()
    real = QStandardPaths.writableLocation
    monkeypatch.setattr(QStandardPaths, "writableLocation",
                        lambda where: str(docs) if where == QStandardPaths.DocumentsLocation
                        else real(where))
    return docs


@pytest.fixture
def opened(monkeypatch):
    """URLs the app asked the desktop to open (none is opened); a message box that would wait
    for an answer (an application-modal exec) returns at once instead."""
    urls = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: urls.append(url) or True)
    monkeypatch.setattr(QMessageBox, "exec", lambda box: 0)
    return urls


def _saved_box(window):
    boxes = [b for b in window.findChildren(QMessageBox) if b.objectName() == "form-saved"]
    return boxes[-1] if boxes else None


def test_print_writes_an_ics_form_as_pdf_and_offers_to_open_it(window, qtbot, tmp_path,
                                                                opened):
    op = window.store.list("operation")[0]
    out = tmp_path / "ics205.pdf"
    task = fileops.start_print(window, "ics205", op.id, str(out))
    qtbot.waitUntil(lambda: task.state != "running", timeout=60000)
    assert task.state == "succeeded", task.error
    assert out.read_bytes().startswith(b"%PDF")
    qtbot.waitUntil(lambda: _saved_box(window) is not None, timeout=5000)
    box = _saved_box(window)
    assert "page" in box.text() and str(out) in box.informativeText()
    button = next(b for b in box.buttons() if b.text() == "Open PDF")
    assert opened == [], "nothing is opened unless asked"
    button.click()
    assert [u.toLocalFile() for u in opened] == [str(out.resolve())]


def test_the_print_dialog_offers_every_form_and_operation(window):
    ops = [(r.id, r.title) for r in window.store.list("operation")]
    dialog = fileops.FormDialog(ops, window)
    assert dialog.form.count() == 4
    assert dialog.operation.count() == len(ops) > 0
    assert [dialog.target.itemData(i) for i in range(dialog.target.count())] == \
        [fileops.PDF, fileops.PRINTER]


def test_file_import_opens_the_wizard_and_refreshes_the_lists(window, monkeypatch):
    calls = []
    monkeypatch.setattr(import_wizard, "open_import_wizard",
                        lambda parent, db, on_done=None, **kw: calls.append((db, on_done)))
    import fieldcoord.ui.main_window as mw
    monkeypatch.setattr(mw, "open_import_wizard",
                        lambda parent, db, on_done=None, **kw: calls.append((db, on_done)))
    window.go("contacts")
    lst = window.pages["contacts"].current()
    total = lst.model.total
    action = next(a for a in window.findChildren(type(window.new_action))
                  if a.text() == "&Import…")
    action.trigger()
    assert calls and calls[0][0] == window.db_path
    rid = window.store.add("contact", {"name": "Imported Person", "agency": "HCEM"})
    calls[0][1](None, {rid})                 # the wizard reports what it changed
    assert lst.model.total == total + 1


def test_every_file_dialog_opens_in_documents_then_in_the_folder_last_used(
        window, qtbot, tmp_path, documents, opened, monkeypatch):
    asked = []
    chosen = tmp_path / "usb stick"
    chosen.mkdir()

    def fake_save(parent, caption, start, filters):
        asked.append(start)
        return (str(chosen / Path(start).name) if "form" in caption else ""), filters

    def fake_open(parent, caption, start, filters):
        asked.append(start)
        return "", filters
    monkeypatch.setattr(QFileDialog, "getSaveFileName", fake_save)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", fake_open)
    op = window.store.list("operation")[0]
    task = fileops.start_print(window, "ics205", op.id)
    assert asked == [str(documents / "ics205.pdf")], "first in Documents, not the program's"
    qtbot.waitUntil(lambda: task.state != "running", timeout=60000)
    assert (chosen / "ics205.pdf").is_file()
    window.new_database()
    window.open_database()
    from fieldcoord.ui.sync_dialogs import choose_bundle_to_import
    choose_bundle_to_import(window)
    assert asked[1:] == [str(chosen / "fieldcoord.db"), str(chosen), str(chosen)], \
        "then where the last file was chosen"
    (chosen / "ics205.pdf").unlink()
    chosen.rmdir()
    assert fileops.start_folder() == str(documents), "a folder that is gone: Documents again"


def test_no_window_opens_a_file_dialog_of_its_own():
    """Every file dialog goes through fileops: it opens in Documents, then the last folder."""
    ui = Path(fileops.__file__).parent
    direct = sorted(p.name for p in ui.rglob("*.py")
                    if "QFileDialog." in p.read_text(encoding="utf-8"))
    assert set(direct) <= {"fileops.py"}, direct


def test_the_print_dialog_asks_for_what_the_cli_offers_and_remembers_it(window, qtbot):
    ops = [(r.id, r.title) for r in window.store.list("operation")]
    d = fileops.FormDialog(ops, window)
    qtbot.addWidget(d)
    d.form.setCurrentIndex(d.form.findData("ics214"))
    d.operation.setCurrentIndex(len(ops) - 1)
    d.prepared_by.setText("Dana Whitfield")
    d.position.setText("Liaison Officer")
    d.period_from.set_value("2026-11-24 07:00")
    d.period_to.set_value("2026-11-24 19:00")
    d.form.setCurrentIndex(d.form.findData("ics205"))
    d.instructions.setPlainText("Use VTAC11 for mutual aid units on arrival.")
    assert not d.position.isEnabled(), "ICS 205 prints no position"
    assert d.instructions.isEnabled() and d.period_from.isEnabled()
    d._on_ok()
    assert d.result() == QDialog.Accepted
    o = d.options()
    assert (o.prepared_by, o.position, o.period_from, o.period_to, o.special_instructions) == \
        ("Dana Whitfield", "Liaison Officer", "2026-11-24T07:00", "2026-11-24T19:00",
         "Use VTAC11 for mutual aid units on arrival.")
    again = fileops.FormDialog(ops, window)
    qtbot.addWidget(again)
    assert again.form.currentData() == "ics205"
    assert again.operation.currentData() == ops[-1][0]
    assert again.prepared_by.text() == "Dana Whitfield"
    assert again.position.text() == "Liaison Officer"
    assert again.period_from.value() == "2026-11-24 07:00"
    assert again.period_to.value() == "2026-11-24 19:00"
    assert again.instructions.value() == "Use VTAC11 for mutual aid units on arrival."
    again.form.setCurrentIndex(again.form.findData("ics213rr"))
    assert not any(w.isEnabled() for w in again.inputs.values()), "ICS 213 RR uses none"
    again.form.setCurrentIndex(again.form.findData("ics205a"))
    assert again.position.isEnabled() and not again.instructions.isEnabled()


def test_a_bad_operational_period_is_named_under_its_field(window, qtbot):
    ops = [(r.id, r.title) for r in window.store.list("operation")]
    d = fileops.FormDialog(ops, window)
    qtbot.addWidget(d)
    d.show()
    d.period_from.set_value("2026-11-24 19:00")
    d.period_to.edit.setText("tomorrow")
    d._on_ok()
    assert d.result() != QDialog.Accepted
    assert d.errors["period_to"].isVisible()
    assert "'tomorrow' is not a date and time" in d.errors["period_to"].text()
    d.period_to.set_value("2026-11-24 07:00")
    d._on_ok()
    assert d.errors["period_to"].text() == "the operational period ends before it starts"
    assert d.result() != QDialog.Accepted


def test_what_the_print_dialog_asks_reaches_the_pdf(window, qtbot, tmp_path, documents,
                                                    opened, monkeypatch):
    pypdf = pytest.importorskip("pypdf")
    out = tmp_path / "plan.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda parent, caption, start, filters: (str(out), filters))
    op = window.store.list("operation", {"name": "Tolliver River Flood Task Force"})[0]

    def fill(d):
        d.form.setCurrentIndex(d.form.findData("ics205"))
        d.operation.setCurrentIndex(d.operation.findData(op.id))
        d.prepared_by.setText("Dana Whitfield")
        d.period_from.set_value("2031-05-06 06:15")
        d.period_to.set_value("2031-05-06 18:45")
        d.instructions.setPlainText("Mutual aid units check in on VTAC11.")
        d._on_ok()
        return d.result()
    monkeypatch.setattr(fileops.FormDialog, "exec", fill)
    task = fileops.start_print(window)
    qtbot.waitUntil(lambda: task.state != "running", timeout=60000)
    assert task.state == "succeeded", task.error
    text = " ".join(" ".join(p.extract_text().split())
                    for p in pypdf.PdfReader(str(out)).pages)
    for shown in ("Dana Whitfield", "Mutual aid units check in on VTAC11.", "2031-05-06",
                  "06:15", "18:45"):
        assert shown in text, shown
    qtbot.waitUntil(lambda: _saved_box(window) is not None, timeout=5000)


def test_print_on_a_printer_gets_the_dialogs_options(window, monkeypatch):
    got = []
    monkeypatch.setattr(fileops, "print_on_printer",
                        lambda w, form, operation, options=None: got.append((form, options)))

    def fill(d):
        d.target.setCurrentIndex(d.target.findData(fileops.PRINTER))
        d.prepared_by.setText("Dana Whitfield")
        d._on_ok()
        return d.result()
    monkeypatch.setattr(fileops.FormDialog, "exec", fill)
    assert fileops.start_print(window) is None
    assert got and got[0][1].prepared_by == "Dana Whitfield"
