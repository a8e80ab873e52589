# SPDX-License-Identifier: GPL-3.0-or-later
"""File > Import opens the wizard; File > Print writes an ICS form in the background."""
from fieldcoord.ui import fileops, import_wizard


def test_print_writes_an_ics_form_as_pdf(window, qtbot, tmp_path, monkeypatch):
    reports = []
    monkeypatch.setattr(fileops, "info_text", lambda parent, title, text: reports.append(text))
    op = window.store.list("operation")[0]
    out = tmp_path / "ics205.pdf"
    task = fileops.start_print(window, "ics205", op.id, str(out))
    qtbot.waitUntil(lambda: task.state != "running", timeout=60000)
    assert task.state == "succeeded", task.error
    assert out.read_bytes().startswith(b"%PDF")
    qtbot.waitUntil(lambda: bool(reports), timeout=5000)
    assert "page" in reports[0]


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
