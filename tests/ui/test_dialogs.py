# SPDX-License-Identifier: GPL-3.0-or-later
"""Record dialogs: create, edit, delete and restore from the window; refused input stays put."""
from dialoghelp import fill_and_save
from PySide6.QtWidgets import QComboBox, QDialog

from fieldcoord.core import kinds as K
from fieldcoord.ui import dialogs
from fieldcoord.ui.dialogs import RecordDialog
from fieldcoord.ui.editors import DateEditor, EnumEditor, RefEditor, ScopeEditor


def test_editors_follow_the_field_types(demo_store, qtbot):
    d = RecordDialog(demo_store, "resource")
    qtbot.addWidget(d)
    assert isinstance(d.editors["agency"], RefEditor)
    assert isinstance(d.editors["status"], EnumEditor)
    assert isinstance(d.editors["scope"], ScopeEditor)
    assert d.editors["status"].value() == "available", "defaults are filled in"
    e = RecordDialog(demo_store, "agreement")
    qtbot.addWidget(e)
    assert isinstance(e.editors["review_date"], DateEditor)
    assert e.editors["review_date"].value() is None, "a date may stay empty"
    for kind in K.KINDS:
        dlg = RecordDialog(demo_store, kind)
        qtbot.addWidget(dlg)
        assert "scope" in dlg.editors, f"{kind} shows its sharing scope"


def test_creating_a_contact_shows_it_in_the_list_and_in_search(window, qtbot, monkeypatch):
    window.go("contacts")
    lst = window.pages["contacts"].current()
    total = lst.model.total
    resets = []
    lst.model.modelReset.connect(lambda: resets.append(1))

    def fill(d):
        d.editors["name"].setText("Aaron Aardvark-Liaison")
        d.editors["agency"].set_value(window.store.agency_id("HCSO"))
        d.editors["title"].setText("Liaison Officer")
        d.editors["phone"].setText("(360) 555-0987")
        d.editors["scope"].set_value("all")
    fill_and_save(monkeypatch, fill)
    rid = window.new_record()
    assert rid
    rec = window.store.get(rid)
    assert rec.title == "Aaron Aardvark-Liaison" and rec.values["title"] == "Liaison Officer"
    assert resets == [], "the list is not reloaded: the new row is put in place"
    assert lst.model.total == total + 1
    row = lst.model.row_of(rid)
    assert row == 0, "sorted by name, it comes first"
    assert lst.detail.record.id == rid
    window.focus_search()
    qtbot.keyClicks(window.search, "0987")
    qtbot.waitUntil(lambda: rid in window.search_panel.result_ids(), timeout=3000)
    window.search.clear()
    qtbot.keyClicks(window.search, "aardvark")
    qtbot.waitUntil(lambda: rid in window.search_panel.result_ids(), timeout=3000)


def test_a_validation_error_shows_next_to_its_field_and_writes_nothing(demo_store, qtbot):
    before = demo_store.dump()
    d = RecordDialog(demo_store, "resource")
    qtbot.addWidget(d)
    d.show()
    d.editors["name"].setText("Swift water team 2")
    d.editors["agency"].set_value(demo_store.agency_id("HCFD3"))
    d.editors["quantity"].setText("two")
    d.save()
    assert d.result() != QDialog.Accepted, "the dialog stays open"
    err = d.errors["quantity"]
    assert err.isVisible() and "quantity" in err.text().lower() and "two" in err.text()
    assert not d.errors["name"].isVisible()
    assert d.editors["name"].text() == "Swift water team 2", "nothing the user typed is lost"
    assert demo_store.dump() == before, "nothing was written"
    # fixing the field and saving again works
    d.editors["quantity"].setText("2")
    d.save()
    assert d.result() == QDialog.Accepted and d.saved_id
    assert demo_store.get(d.saved_id).values["quantity"] == 2


def test_required_field_and_bad_scope_are_named(demo_store, qtbot):
    d = RecordDialog(demo_store, "contact")
    qtbot.addWidget(d)
    d.show()
    d.save()
    assert d.errors["name"].isVisible() and "required" in d.errors["name"].text()
    d.editors["name"].setText("Pat Example")
    d.editors["scope"].set_value("NOSUCHAGENCY")
    d.save()
    assert d.errors["scope"].isVisible() and "NOSUCHAGENCY" in d.errors["scope"].text()
    assert d.result() != QDialog.Accepted


def test_edit_changes_only_what_was_changed(window, monkeypatch):
    window.go("agencies")
    lst = window.pages["agencies"].current()
    rid = demo_store_id = window.store.agency_id("HCSO")
    lst.show_record(rid)
    row_before = lst.model.row_of(rid)

    def fill(d):
        assert not d.editors["code"].isEnabled(), "a code cannot change once set"
        d.editors["jurisdiction"].setText("Harbor County (all unincorporated areas)")
    fill_and_save(monkeypatch, fill)
    window.edit_record(demo_store_id)
    rec = window.store.get(rid)
    assert rec.values["jurisdiction"] == "Harbor County (all unincorporated areas)"
    assert rec.values["code"] == "HCSO"
    col = lst.spec.columns.index("jurisdiction")
    assert lst.model.rows[lst.model.row_of(rid)].values[col].startswith("Harbor County (all")
    assert lst.model.row_of(rid) == row_before


def test_delete_and_restore_from_the_window(window, monkeypatch):
    monkeypatch.setattr(dialogs, "confirm", lambda *a: True)
    window.go("plans")
    lst = window.pages["plans"].current()
    rid = lst.model.rows[0].id
    n = lst.model.total
    window.delete_record(rid)
    assert window.store.get(rid).deleted
    assert lst.model.row_of(rid) == -1 and lst.model.total == n - 1
    lst.deleted.setChecked(True)
    assert lst.model.row_of(rid) >= 0, "the Deleted view lists it"
    window.restore_record(rid)
    assert not window.store.get(rid).deleted
    lst.deleted.setChecked(False)
    assert lst.model.row_of(rid) >= 0 and lst.model.total == n


def test_a_refused_delete_says_why(window, monkeypatch):
    monkeypatch.setattr(dialogs, "confirm", lambda *a: True)
    shown = []
    from PySide6.QtWidgets import QMessageBox
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: shown.append(a[2]))
    channel = next(c for c in window.store.list("channel")
                   if window.store.children("comms", "channel", c.id))
    window.delete_record(channel.id)
    assert shown and not window.store.get(channel.id).deleted


def test_filters_narrow_the_list(window):
    window.go("resources")
    lst = window.pages["resources"].current()
    combo: QComboBox = lst.filters["status"]
    combo.setCurrentIndex(combo.findData("assigned"))
    col = lst.spec.columns.index("status")
    assert lst.model.rows and all(r.values[col] == "assigned" for r in lst.model.rows)
    agency = lst.filters["agency"]
    agency.setCurrentIndex(agency.findData(window.store.agency_id("HCFD3")))
    assert all(r.values[1] == "HCFD3" for r in lst.model.rows)
    combo.setCurrentIndex(0)
    agency.setCurrentIndex(0)
    assert lst.model.total == window.store.count("resource")


def test_a_bad_address_given_with_a_new_contact_is_shown_at_its_box(demo_store, qtbot):
    before = demo_store.dump()
    d = RecordDialog(demo_store, "contact")
    qtbot.addWidget(d)
    d.show()
    d.editors["name"].setText("Rosa Delgado")
    d.editors["phone"].setText("(360) 555-0147")
    d.editors["email"].setText("rosa.delgado@kbpd")
    d.save()
    assert d.errors["email"].isVisible() and "email" in d.errors["email"].text()
    assert not d.errors["phone"].isVisible()
    assert demo_store.dump() == before, "neither the contact nor its phone was written"


def test_every_date_field_is_typed_into_cleared_and_left_by_keyboard(demo_store, qtbot):
    from PySide6.QtCore import QDate, Qt
    dated = [(k.name, f) for k in K.KINDS.values() for f in k.fields
             if f.type in (K.DATE, K.DATETIME)]
    assert {name for name, _ in dated} >= {"agreement", "request", "event", "action"}
    for kind, fld in dated:
        d = RecordDialog(demo_store, kind)
        qtbot.addWidget(d)
        if fld.name not in d.editors:
            continue                    # set by fieldcoord, not typed (a log entry's time)
        d.show()
        ed = d.editors[fld.name]
        assert isinstance(ed, DateEditor)
        ed.set_value(None)              # some start at today
        assert ed.value() is None
        # the calendar opens on today when the field is empty
        ed.open_calendar()
        assert ed.calendar.selectedDate() == QDate.currentDate(), (kind, fld.name)
        ed.calendar.close()
        typed = "2027-05-01 09:30" if fld.type == K.DATETIME else "2027-05-01"
        ed.edit.setFocus()
        qtbot.keyClicks(ed.edit, typed)
        assert ed.value() == typed, (kind, fld.name, ed.edit.text())
        # a day picked on the calendar replaces the date and keeps the time
        ed.open_calendar()
        assert ed.calendar.selectedDate() == QDate(2027, 5, 1)
        ed._picked(QDate(2027, 6, 2))
        assert ed.value() == typed.replace("2027-05-01", "2027-06-02")
        ed.edit.selectAll()
        qtbot.keyClick(ed.edit, Qt.Key_Delete)
        assert ed.value() is None, "cleared: no date"
        # Tab leaves the field
        qtbot.keyClick(ed.edit, Qt.Key_Tab)
        assert not ed.edit.hasFocus(), (kind, fld.name)
        d.close()


def test_a_typed_date_reaches_the_record_and_a_wrong_one_is_named(demo_store, qtbot):
    d = RecordDialog(demo_store, "agreement")
    qtbot.addWidget(d)
    d.editors["title"].setText("Mutual aid, harbor")
    ed = d.editors["review_date"]
    ed.edit.setText("2027-13-40")
    d.save()
    assert d.result() != QDialog.Accepted
    assert "review" in d.errors["review_date"].text().lower() or \
        "not a date" in d.errors["review_date"].text()


# ---------------------------------------------------------------- issue 15, defect 11
def _answer_discard(monkeypatch, choice: str):
    """Make the 'Discard changes?' box answer `choice` (its button's text); returns what it
    asked, as (title, text) pairs."""
    from PySide6.QtWidgets import QMessageBox
    asked = []

    def fake_exec(box):
        asked.append((box.windowTitle(), box.text()))
        next(b for b in box.buttons() if b.text() == choice).click()
        return 0
    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    return asked


def test_every_record_dialog_fits_a_1280x720_window_without_a_horizontal_scroll_bar(
        demo_store, qtbot):
    from PySide6.QtCore import Qt
    # a long name in a reference list must not widen the form either
    demo_store.add("agency", {"name": "Harbor County Regional Interagency Emergency "
                                      "Communications and Mutual Aid Coordination Authority "
                                      "of the Lower Tolliver Valley", "code": "HCRIECMACA"})
    for kind in K.KINDS:
        d = RecordDialog(demo_store, kind)
        qtbot.addWidget(d)
        d.show()
        qtbot.waitExposed(d)
        frame = d.frameGeometry()
        assert d.width() <= 1280 and d.height() <= 720, (kind, d.size())
        assert frame.width() <= 1280 and frame.height() <= 720, (kind, frame)
        assert d.scroll.horizontalScrollBarPolicy() == Qt.ScrollBarAlwaysOff
        assert not d.scroll.horizontalScrollBar().isVisible(), kind
        viewport = d.scroll.viewport().width()
        assert d.body.minimumSizeHint().width() <= viewport, (kind, "the form is cut off")
        assert d.body.width() <= viewport, kind
        d.close()


def test_errors_show_under_their_fields_all_at_once_without_squashing_them(demo_store, qtbot):
    before = demo_store.dump()
    d = RecordDialog(demo_store, "resource")
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    d.editors["agency"].set_value(demo_store.agency_id("HCFD3"))
    d.editors["quantity"].setText("two")
    d.editors["lat"].setText("200")
    d.editors["scope"].set_value("not a scope at all!")
    refused = ("name", "quantity", "lat", "scope")
    heights = {n: d.editors[n].height() for n in refused}
    d.save()
    assert d.result() != QDialog.Accepted and demo_store.dump() == before
    # once laid out, every editor has the height it had (an error adds room, takes none)
    qtbot.waitUntil(lambda: all(d.editors[n].height() == heights[n] for n in refused),
                    timeout=2000)
    for name in refused:
        err, ed = d.errors[name], d.editors[name]
        assert err.isVisible(), f"the error of {name} shows with the others"
        top_of_error = err.mapTo(d.body, err.rect().topLeft()).y()
        bottom_of_field = ed.mapTo(d.body, ed.rect().bottomLeft()).y()
        assert top_of_error > bottom_of_field, f"{name}: the error is under the field"
        assert err.height() >= err.heightForWidth(err.width()), f"{name}: all of it shows"
    assert not d.errors["location"].isVisible()
    assert d.errors["name"].text() == "Name is required"
    assert d.errors["quantity"].text() == "Quantity: 'two' is not a whole number"
    assert d.errors["lat"].text().startswith("Latitude: latitude must be between")
    assert d.errors["scope"].text().startswith("Sharing scope: 'not a scope at all!'")
    assert d.focusWidget() is d.editors["name"], "the first field refused has the focus"


def test_messages_use_the_fields_labels_not_internal_names(demo_store, qtbot):
    d = RecordDialog(demo_store, "agreement")
    qtbot.addWidget(d)
    d.show()
    d.editors["effective_date"].set_value("2027-01-01")
    d.editors["expiry_date"].set_value("2026-06-30")
    d.editors["review_date"].edit.setText("2027-13-40")
    d.save()
    assert d.errors["title"].text() == "Title is required"
    assert d.errors["expiry_date"].text() == \
        "Expiry date: 2026-06-30 is before effective date 2027-01-01"
    assert d.errors["review_date"].text() == \
        "Review date: '2027-13-40' is not a date; write it as YYYY-MM-DD"
    shown = " ".join(e.text() for e in d.errors.values() if e.isVisible())
    assert "_" not in shown and "agreement " not in shown, shown


def test_every_bad_number_given_with_a_new_contact_is_named_at_its_box(demo_store, qtbot):
    d = RecordDialog(demo_store, "contact")
    qtbot.addWidget(d)
    d.show()
    d.editors["name"].setText("Rosa Delgado")
    d.editors["phone"].setText("12")
    d.editors["email"].setText("rosa.delgado@kbpd")
    d.editors["scope"].set_value("MPD, not ok!")
    height = d.height()
    d.save()
    assert d.errors["phone"].text() == "Phone: '12' is not a phone number"
    assert d.errors["email"].text() == "Email: 'rosa.delgado@kbpd' is not an email address"
    assert d.errors["scope"].isVisible()
    assert d.result() != QDialog.Accepted
    assert d.focusWidget() is d.editors["phone"], "the topmost field refused has the focus"
    assert height < d.height() <= 720, "the dialog grows to show the messages"


def test_a_store_error_shows_under_its_field_in_plain_words(demo_store, qtbot):
    d = RecordDialog(demo_store, "agency")
    qtbot.addWidget(d)
    d.show()
    d.editors["name"].setText("Another harbor agency")
    d.editors["code"].setText("HCEM")                 # taken: only the store knows
    d.save()
    assert d.errors["code"].isVisible()
    assert d.errors["code"].text().startswith("Agency code HCEM is already used by")


def test_the_validation_error_can_carry_every_refusal():
    from fieldcoord.core.errors import ValidationError
    from fieldcoord.core.validate import check_fields
    kind = K.KINDS["agreement"]
    try:
        check_fields(kind, {"title": "", "review_date": "soon", "effective_date": "2027-01-01",
                            "expiry_date": "2026-01-01", "scope": "all"})
    except ValidationError as e:
        assert [f for f, _m in e.errors] == ["title", "review_date", "expiry_date"]
        assert e.field == "title" and str(e).startswith("agreement title: is required; ")
    else:
        raise AssertionError("refused")
    one = ValidationError("resource quantity: 'x' is not a whole number", "quantity")
    assert one.errors == [("quantity", one.message)], "one refusal, as before"
    assert check_fields(kind, {"title": "MAA", "kind": "MOU", "scope": "all"}
                        ) == {"title": "MAA", "kind": "mou", "scope": "all"}


def test_esc_closes_an_untouched_dialog_and_asks_before_throwing_away_a_filled_one(
        demo_store, qtbot, monkeypatch):
    from PySide6.QtCore import Qt
    asked = _answer_discard(monkeypatch, "Keep editing")
    d = RecordDialog(demo_store, "contact")
    qtbot.addWidget(d)
    d.show()
    qtbot.keyClick(d.editors["name"], Qt.Key_Escape)
    assert asked == [] and not d.isVisible() and d.result() == QDialog.Rejected
    d = RecordDialog(demo_store, "contact")
    qtbot.addWidget(d)
    d.show()
    qtbot.keyClicks(d.editors["name"], "Pat Example")
    qtbot.keyClick(d.editors["name"], Qt.Key_Escape)
    assert asked == [("Discard changes?", "Discard the changes to this contact?")]
    assert d.isVisible() and d.editors["name"].text() == "Pat Example", "kept editing"
    d.buttons.button(d.buttons.StandardButton.Cancel).click()
    assert len(asked) == 2 and d.isVisible(), "Cancel asks too"
    _answer_discard(monkeypatch, "Discard changes")
    qtbot.keyClick(d.editors["name"], Qt.Key_Escape)
    assert not d.isVisible() and d.result() == QDialog.Rejected


def test_an_edit_dialog_asks_only_when_something_changed(demo_store, qtbot, monkeypatch):
    from PySide6.QtCore import Qt
    asked = _answer_discard(monkeypatch, "Discard changes")
    rec = demo_store.list("agreement")[0]
    d = RecordDialog(demo_store, "agreement", record=rec)
    qtbot.addWidget(d)
    d.show()
    qtbot.keyClick(d, Qt.Key_Escape)
    assert asked == [] and not d.isVisible()
    d = RecordDialog(demo_store, "agreement", record=rec)
    qtbot.addWidget(d)
    d.show()
    other = next(c for c in K.AGREEMENT_KINDS if c != rec.values["kind"])
    d.editors["kind"].setCurrentIndex(d.editors["kind"].findData(other))
    qtbot.keyClick(d, Qt.Key_Escape)
    assert asked == [("Discard changes?", "Discard the changes to this agreement?")]
    assert not d.isVisible()
    assert demo_store.get(rec.id).values == rec.values


def test_the_welcome_dialog_keeps_what_was_typed_after_an_error(tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from fieldcoord.ui import first_run as fr
    seen, warnings = [], []

    def fake_exec(dialog):
        error = getattr(dialog, "errors", {}).get("code")
        seen.append((dialog.name.text(), dialog.code.text(),
                     error is not None and error.isVisibleTo(dialog),
                     error.text() if error is not None else ""))
        if len(seen) == 1:
            dialog.name.setText("Clark County Fire")
            dialog.code.setText("c")
        elif len(seen) == 2:
            dialog.code.setText("ccf")
        else:
            return QDialog.Rejected             # asked a third time: give up
        dialog.choice = "create"
        return QDialog.Accepted
    monkeypatch.setattr(fr.FirstRunDialog, "exec", fake_exec)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    store = fr.first_run(tmp_path / "mine.db")
    name, code, error_shown, error = seen[1]
    assert (name, code) == ("Clark County Fire", "c"), "what was typed is still there"
    assert error_shown and error.startswith("Agency code: 'c' is not a valid agency code")
    assert warnings == [error]
    assert store is not None and store.home == "CCF" and len(seen) == 2
    store.close()


def test_opening_a_database_of_an_earlier_version_upgrades_it_off_the_gui_thread(
        tmp_path, qtbot, monkeypatch):
    """The app brings a database of an earlier version up to date on a worker thread (some
    upgrades make every search document again) and then opens it; a failed upgrade is said in
    plain words and opens nothing."""
    import threading
    import time

    from oldversions import as_version_21
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog

    from fieldcoord.core.errors import FieldcoordError
    from fieldcoord.store import Store, migrations
    from fieldcoord.ui import first_run as fr
    path = tmp_path / "old.db"
    with Store.create(path, "Clark County Fire", "CCF") as s:
        rid = s.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
    as_version_21(path)
    assert migrations.pending(path) == ["0022_creation_index", "0023_title_order",
                                        "0024_short_queries"]
    threads = []
    real = migrations.migrate

    def migrate(conn, stop_before=None):
        threads.append(threading.current_thread())
        time.sleep(0.8)                         # (a large directory's search documents)
        return real(conn, stop_before)
    monkeypatch.setattr(migrations, "migrate", migrate)
    shown = []

    def look():
        shown.extend(w.labelText() for w in QApplication.topLevelWidgets()
                     if isinstance(w, QProgressDialog) and w.isVisible())
    QTimer.singleShot(600, look)
    store = fr.first_run(path)
    try:
        assert threads and threads[0] is not threading.main_thread()
        assert shown == ["Updating the database for this version of fieldcoord…"]
        assert migrations.pending(path) == []
        assert [h.id for h in store.search("whitfield")] == [rid]
    finally:
        store.close()

    as_version_21(path)
    said = []

    def broken(conn, stop_before=None):
        raise FieldcoordError("the disk is full")
    monkeypatch.setattr(migrations, "migrate", broken)
    monkeypatch.setattr(QMessageBox, "critical", lambda *a: said.append(a[2]))
    assert fr.first_run(path) is None
    assert said == ["the disk is full"]
    assert migrations.pending(path) == ["0022_creation_index", "0023_title_order",
                                        "0024_short_queries"]
