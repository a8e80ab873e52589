# SPDX-License-Identifier: GPL-3.0-or-later
"""The main window: every page opens on the demo, search as you type, shortcuts, settings."""
import pytest
from PySide6.QtCore import QSettings, Qt

from fieldcoord.ui.main_window import PAGE_NAMES, MainWindow
from fieldcoord.ui.pages import Page


def test_every_page_opens_on_the_demo_directory(window, qtbot):
    expected = {"agencies": "Harbor County Sheriff", "contacts": None, "resources": None,
                "facilities": "Kestrel Bay High School Shelter", "requests": None,
                "agreements": None, "operations": "Tolliver River Flood", "plans": None,
                "comms": "8CALL90", "calendar": None, "log": None,
                "actions": "Siren 4"}
    for name in PAGE_NAMES:
        page = window.go(name)
        assert window.shown_page() is page
        assert window.sidebar.currentItem().data(Qt.UserRole) == name
        img = window.grab().toImage()
        assert not img.isNull() and img.width() == window.width()
        if isinstance(page, Page):
            lst = page.current()
            assert lst.model.rowCount() > 0, f"{name} lists the demo's records"
            assert lst.model.total > 0 and str(lst.model.total) in lst.count_label.text()
            assert lst.detail.record is not None, f"{name} shows its first record"
            want = expected[name]
            if want:
                titles = [lst.query.display(0, r.values[0]) for r in lst.model.rows]
                assert any(want in t for t in titles), titles[:5]


def test_status_bar_shows_sync_state_and_conflicts(window):
    assert "conflict" in window.conflicts_button.text()
    assert window.conflicts_button.text().startswith("0 ")
    assert "Last sync: never" in window.last_sync_label.text()
    assert window.online_label.text()


def test_search_as_you_type_grouped_by_kind_and_enter_opens(window, qtbot):
    window.focus_search()
    qtbot.keyClicks(window.search, "sheriff")
    panel = window.search_panel
    qtbot.waitUntil(lambda: len(panel.result_ids()) > 0, timeout=3000)
    assert window.shown_page() is panel
    heads = [panel.tree.topLevelItem(i).text(0) for i in range(panel.tree.topLevelItemCount())
             if not panel.tree.topLevelItem(i).data(0, Qt.UserRole)]
    assert any(h.startswith("Agencies") for h in heads), heads
    # typing more narrows the results without pressing anything
    qtbot.keyClicks(window.search, " office")
    qtbot.waitUntil(lambda: panel.text == "sheriff office" and not panel.timer.isActive(),
                    timeout=3000)
    assert any("Sheriff" in t for t in panel.result_titles())
    # Enter opens the first result on its page
    first = panel.result_ids()[0]
    qtbot.keyClick(window.search, Qt.Key_Return)
    assert window.shown_page() is not panel
    assert window.selected_id() in (first, window.store.get(first).values.get("contact"))
    # Back returns to the search
    window.back()
    assert window.shown_page() is panel
    assert window.search.text() == "sheriff office"


def test_a_phone_number_is_found_by_its_digits(window, qtbot):
    line = window.store.list("method", {"kind": "phone", "duty": "24/7"})[0]
    digits = line.values["value"][-4:]
    qtbot.keyClicks(window.search, digits)
    qtbot.waitUntil(lambda: len(window.search_panel.result_ids()) > 0, timeout=3000)
    ids = window.search_panel.result_ids()
    assert line.id in ids or line.values.get("agency") in ids or \
        line.values.get("contact") in ids


def test_ctrl_k_focuses_search_and_escape_clears(window, qtbot):
    window.go("agencies")
    window.sidebar.setFocus()
    qtbot.keyClick(window, Qt.Key_K, Qt.ControlModifier)
    assert window.search.hasFocus() or window.focusWidget() is window.search
    qtbot.keyClicks(window.search, "fire")
    qtbot.keyClick(window.search, Qt.Key_Escape)
    assert window.search.text() == ""
    assert window.current_page == "agencies"
    assert window.shown_page() is window.pages["agencies"]


def test_back_returns_to_the_previous_page(window):
    window.go("contacts")
    window.go("resources")
    window.go("log")
    window.back()
    assert window.current_page == "resources"
    window.back()
    assert window.current_page == "contacts"


def test_last_page_and_geometry_are_remembered(qtbot, demo_store):
    first = MainWindow(demo_store)
    qtbot.addWidget(first)
    first.resize(700, 500)
    first.show()
    first.go("agreements")
    size = (first.width(), first.height())
    first.close()
    assert QSettings().value("window/page") == "agreements"
    second = MainWindow(demo_store)
    qtbot.addWidget(second)
    assert second.current_page == "agreements"
    assert (second.width(), second.height()) == size


def test_shortcuts_are_bound(window):
    shortcuts = {a.text(): a.shortcut().toString() for a in window.findChildren(type(
        window.new_action))}
    assert shortcuts["New"] == "Ctrl+N"
    assert shortcuts["Edit"] == "Ctrl+E"
    assert shortcuts["Delete"] == "Del"
    assert shortcuts["Sync now"] == "Ctrl+Shift+S"
    assert shortcuts["Search"] == "Ctrl+K"
    assert shortcuts["← Back"] in ("Alt+Left", "Back")
    for w in (window.search, window.sidebar):
        assert w.accessibleName()


@pytest.mark.parametrize("name", ["comms", "calendar"])
def test_open_record_goes_to_its_page(window, name):
    kind = {"comms": "channel", "calendar": "event"}[name]
    rec = window.store.list(kind)[0]
    window.open_record(rec.id)
    assert window.current_page == name
    assert window.selected_id() == rec.id


def test_typing_an_agency_code_puts_the_agency_first(window, qtbot):
    qtbot.keyClicks(window.search, "hcs")
    panel = window.search_panel
    qtbot.waitUntil(lambda: len(panel.result_ids()) > 0, timeout=3000)
    assert panel.tree.topLevelItem(0).text(0).startswith("Agencies")
    first = window.store.get(panel.result_ids()[0])
    assert first.kind == "agency" and first.values["code"].startswith("HCS")


def test_keyboard_new_edit_delete_on_a_list(window, qtbot, monkeypatch):
    from fieldcoord.ui import dialogs
    from fieldcoord.ui.dialogs import RecordDialog
    window.go("plans")
    lst = window.pages["plans"].current()
    lst.table.setFocus()
    rid = lst.current_id()
    opened = []
    monkeypatch.setattr(RecordDialog, "exec", lambda d: opened.append(
        (d.kind.name, d.record.id if d.record else None)) or 0)
    qtbot.keyClick(lst.table, Qt.Key_E, Qt.ControlModifier)
    qtbot.keyClick(lst.table, Qt.Key_N, Qt.ControlModifier)
    assert opened == [("plan", rid), ("plan", None)]
    monkeypatch.setattr(dialogs, "confirm", lambda *a: True)
    qtbot.keyClick(lst.table, Qt.Key_Delete)
    assert window.store.get(rid).deleted
    qtbot.keyClick(lst.table, Qt.Key_R, Qt.ControlModifier | Qt.ShiftModifier)
    assert not window.store.get(rid).deleted


def test_first_run_creates_the_agency_or_opens_the_demo(tmp_path, monkeypatch):
    from PySide6.QtWidgets import QDialog, QMessageBox

    from fieldcoord.ui import first_run as fr
    answers = [("create", "Clark County Fire", "c"), ("create", "Clark County Fire", "ccf")]
    warnings = []

    def fake_exec(dialog):
        dialog.choice, name, code = answers.pop(0)
        dialog.name.setText(name)
        dialog.code.setText(code)
        return QDialog.Accepted
    monkeypatch.setattr(fr.FirstRunDialog, "exec", fake_exec)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    store = fr.first_run(tmp_path / "mine.db")
    assert store is not None and store.home == "CCF"
    assert warnings and "agency code" in warnings[0], "a bad code is explained, then asked again"
    store.close()
    answers[:] = [("demo", "", "")]
    demo = fr.first_run(tmp_path / "other" / "fieldcoord.db")
    assert demo.home == "HCEM" and demo.count("contact") > 100 and demo.demo
    assert demo.path == tmp_path / "other" / "demo.db", "the demo has its own file"
    assert not (tmp_path / "other" / "fieldcoord.db").exists()
    demo.close()
    answers[:] = [("demo", "", "")]
    again = fr.first_run(tmp_path / "other" / "fieldcoord.db")
    assert again.path == tmp_path / "other" / "demo.db" and again.count("contact") > 100
    again.close()
    monkeypatch.setattr(fr.FirstRunDialog, "exec", lambda d: QDialog.Rejected)
    assert fr.first_run(tmp_path / "none.db") is None
    assert not (tmp_path / "none.db").exists()


def test_about_shows_the_version(window, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from fieldcoord import __version__
    shown = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: shown.append(text))
    about = next(a for a in window.findChildren(type(window.new_action))
                 if a.text() == "&About fieldcoord")
    about.trigger()
    assert shown and __version__ in shown[0]


def test_tab_ctrl_c_and_delete_on_a_list_do_what_a_liaison_expects(window, qtbot, monkeypatch):
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication, QMessageBox

    from fieldcoord.ui import dialogs, present
    window.go("contacts")
    lst = window.pages["contacts"].current()
    lst.table.setFocus()
    # a contact with numbers, selected
    store = window.store
    rid = next(r.id for r in store.list("contact", limit=400)
               if present.lines_of(store, r.id, "contact"))
    lst.show_record(rid)
    qtbot.keyClick(lst.table, Qt.Key_C, Qt.ControlModifier)
    first = present.lines_of(store, rid, "contact")[0]
    assert QGuiApplication.clipboard().text() == first.copy_text
    # Tab leaves the list for the details; the selected record stays
    lst.table.setFocus()
    qtbot.keyClick(lst.table, Qt.Key_Tab)
    assert not lst.table.hasFocus() and lst.current_id() == rid
    assert QApplication.focusWidget() is not None
    # Delete on a record this agency may not change: said, not offered
    partner = next(r for r in store.list("contact", limit=2000)
                   if not store.may_change(r.owner, r.scope, "contact"))
    lst.show_record(partner.id)
    asked, told = [], []
    monkeypatch.setattr(dialogs, "confirm", lambda *a: asked.append(a) or True)
    monkeypatch.setattr(QMessageBox, "information", lambda *a: told.append(a[2]))
    lst.table.setFocus()
    qtbot.keyClick(lst.table, Qt.Key_Delete)
    assert not asked and told and partner.owner in told[0]
    assert not store.get(partner.id).deleted
