# SPDX-License-Identifier: GPL-3.0-or-later
"""Agency keys in the app: a partner key confirmed by its fingerprint when a sync or an import
meets it, a changed key refused, the Keys section of the Sync page, the banner about private
keys kept unencrypted, refusals of altered changes, and who wrote a record in the detail pane."""
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QFontInfo  # noqa: E402
from PySide6.QtWidgets import QDialogButtonBox, QLabel, QMessageBox  # noqa: E402

from fieldcoord.hub import tokens  # noqa: E402
from fieldcoord.hub.server import start_in_thread  # noqa: E402
from fieldcoord.store import Store, identity, trust  # noqa: E402
from fieldcoord.sync import peers as ops  # noqa: E402
from fieldcoord.sync import runs  # noqa: E402
from fieldcoord.ui.sync_pages import SyncPage  # noqa: E402
from fieldcoord.ui.trust_ui import (  # noqa: E402
    ConfirmKeyDialog,
    KeyChangedDialog,
    TrustKeyDialog,
    changed_key_in,
    untrusted_key_in,
)

# tokens go to a JSON file instead of the OS keyring
pytestmark = pytest.mark.usefixtures("file_keyring")


class Hub:
    """CCF's hub in this process; it trusts MPD's key (its administrator confirmed it)."""

    def __init__(self, tmp: Path):
        self.db = tmp / "hub.db"
        with Store.create(self.db, "Clark County Fire", "CCF", device="hub") as s:
            s.add("agency", {"name": "Metro Police Department", "code": "MPD"})
            self.contact = s.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
            self.fingerprint = identity.describe(s)["agency_fingerprint"]
        self.url, self.stop = start_in_thread(self.db)

    def token(self, agency: str, device: str) -> str:
        with Store.open(self.db) as s, s.transaction():
            return tokens.issue(s.conn, agency, device)[1]

    def trust(self, db: Path, agency: str) -> None:
        with Store.open(self.db) as h, Store.open(db) as s:
            identity.confirm(h, agency, identity.home_key(s.conn, agency))


@pytest.fixture
def hub(tmp_path):
    h = Hub(tmp_path)
    yield h
    h.stop()


def mpd_laptop(tmp_path, hub: Hub) -> Path:
    """An MPD laptop with CCF's hub as its peer; the hub trusts MPD's key, but nobody has
    confirmed CCF's key on the laptop yet."""
    db = tmp_path / "mpd-1.db"
    Store.create(db, "Metro Police Department", "MPD", device="mpd-1").close()
    with Store.open(db) as s:
        ops.save_peer(s, "hub", hub.url, hub.token("MPD", "mpd-1"), adding=True)
    hub.trust(db, "MPD")
    return db


@pytest.fixture
def pages(qtbot):
    made = []

    def make(db):
        page = SyncPage(db, probe_interval=0)
        qtbot.addWidget(page)
        page.resize(1000, 900)
        page.show()
        made.append(page)
        return page
    yield make
    for p in made:
        p.shutdown()


def wait_sync(qtbot, page):
    qtbot.waitUntil(lambda: not page.is_syncing(), timeout=20000)


def trusted_fingerprint(db: Path, agency: str):
    with Store.open(db) as s:
        row = s.conn.execute("SELECT fingerprint FROM agency_key WHERE code = ?",
                             (agency,)).fetchone()
    return row[0] if row else None


def test_a_sync_meeting_an_unconfirmed_partner_key_asks_and_then_succeeds(qtbot, tmp_path,
                                                                          hub, pages):
    db = mpd_laptop(tmp_path, hub)
    page = pages(db)
    page.sync_now()
    wait_sync(qtbot, page)
    qtbot.waitUntil(lambda: isinstance(page.key_dialog, ConfirmKeyDialog)
                    and page.key_dialog.isVisible(), timeout=5000)
    dialog = page.key_dialog
    assert dialog.windowTitle() == "Confirm the key of agency CCF"
    assert dialog.fingerprint == hub.fingerprint
    shown = dialog.fingerprint_label.text().split()
    assert " ".join(shown) == hub.fingerprint and len(shown) == 6
    assert QFontInfo(dialog.fingerprint_label.font()).fixedPitch(), "monospace digits"
    assert dialog.fingerprint_label.font().pointSizeF() >= 16, "large digits"
    assert dialog.trust_button.text() == "The fingerprints match: trust CCF"
    assert dialog.cancel_button.isDefault() and not dialog.trust_button.isDefault()
    assert "not confirmed on this device yet" in page.results.text()
    assert "Confirm CCF's key" in page.results.text() and "Traceback" not in page.results.text()
    assert trusted_fingerprint(db, "CCF") is None, "nothing is trusted before the user says so"
    qtbot.mouseClick(dialog.trust_button, Qt.LeftButton)
    assert not dialog.isVisible()
    assert trusted_fingerprint(db, "CCF") == hub.fingerprint
    qtbot.waitUntil(lambda: page.last_outcomes and not page.is_syncing()
                    and not page.last_outcomes[0].error, timeout=20000)
    assert page.last_outcomes[0].received > 0
    with Store.open(db) as s:
        assert s.get(hub.contact).title == "Dana Whitfield"
    assert "✓ hub: received" in page.results.text()


def test_cancel_leaves_the_key_untrusted_and_the_result_offers_it_again(qtbot, tmp_path, hub,
                                                                        pages):
    db = mpd_laptop(tmp_path, hub)
    page = pages(db)
    page.sync_now()
    wait_sync(qtbot, page)
    qtbot.waitUntil(lambda: page.key_dialog is not None and page.key_dialog.isVisible(),
                    timeout=5000)
    first = page.key_dialog
    qtbot.mouseClick(first.cancel_button, Qt.LeftButton)
    assert not first.isVisible() and not page.is_syncing(), "no sync again after Cancel"
    assert trusted_fingerprint(db, "CCF") is None
    assert page.keys_box.partners == []
    assert "key is not confirmed yet" in page.last_status.message
    # the link in the result asks again
    page.results.linkActivated.emit("fctrust:hub")
    qtbot.waitUntil(lambda: page.key_dialog is not first and page.key_dialog.isVisible(),
                    timeout=5000)
    page.key_dialog.reject()
    assert trusted_fingerprint(db, "CCF") is None


def test_an_automatic_sync_does_not_pop_up_a_dialog(qtbot, tmp_path, hub, pages):
    db = mpd_laptop(tmp_path, hub)
    page = pages(db)
    page._start_sync(["hub"], automatic=True)
    wait_sync(qtbot, page)
    qtbot.wait(100)
    assert page.key_dialog is None
    assert "Confirm CCF's key" in page.results.text()


def test_a_changed_partner_key_is_refused_with_no_way_to_accept_it(qtbot, tmp_path, hub, pages):
    db = mpd_laptop(tmp_path, hub)
    wrong = "11111 22222 33333 44444 55555 66666"
    with Store.open(db) as s:
        identity.confirm(s, "CCF", fingerprint=wrong)
    page = pages(db)
    page.sync_now()
    wait_sync(qtbot, page)
    qtbot.waitUntil(lambda: isinstance(page.key_dialog, KeyChangedDialog)
                    and page.key_dialog.isVisible(), timeout=5000)
    dialog = page.key_dialog
    assert dialog.windowTitle() == "The key of agency CCF has changed"
    (buttons,) = dialog.findChildren(QDialogButtonBox)
    assert [buttons.buttonRole(b) for b in buttons.buttons()] == [QDialogButtonBox.RejectRole]
    assert not any("trust" in b.text().lower() for b in buttons.buttons())
    texts = " ".join(w.text() for w in dialog.findChildren(QLabel))
    assert hub.fingerprint in texts and wrong in texts and "Forget" in texts
    assert "refused it" in page.results.text() and "What to do" in page.results.text()
    dialog.reject()
    assert trusted_fingerprint(db, "CCF") == wrong, "the confirmed key is kept"


def test_a_bundle_from_an_unconfirmed_partner_is_imported_once_its_key_is_confirmed(
        qtbot, tmp_path, pages):
    ccf, mpd = tmp_path / "ccf-1.db", tmp_path / "mpd-1.db"
    Store.create(ccf, "Clark County Fire", "CCF", device="ccf-1").close()
    Store.create(mpd, "Metro Police Department", "MPD", device="mpd-1").close()
    with Store.open(ccf) as c, Store.open(mpd) as m:
        c.add("agency", {"name": "Metro Police Department", "code": "MPD"})
        shared = c.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
        identity.confirm(c, "MPD", identity.home_key(m.conn, "MPD"))
        ccf_fp = identity.describe(c)["agency_fingerprint"]
    bundle = tmp_path / "to-mpd.fcb"
    runs.export_bundle_file(ccf, bundle, "MPD")
    page = pages(mpd)
    task = page.start_import(bundle)
    qtbot.waitUntil(lambda: not task.is_running(), timeout=10000)
    qtbot.waitUntil(lambda: isinstance(page.key_dialog, ConfirmKeyDialog)
                    and page.key_dialog.isVisible(), timeout=5000)
    dialog = page.key_dialog
    assert dialog.agency == "CCF" and dialog.fingerprint == ccf_fp
    assert "Bundle not imported yet" in page.results.text()
    with qtbot.waitSignal(page.changed, timeout=10000):
        qtbot.mouseClick(dialog.trust_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "Receipt written to" in page.results.text(), timeout=10000)
    assert trusted_fingerprint(mpd, "CCF") == ccf_fp
    with Store.open(mpd) as s:
        assert s.get(shared).title == "Dana Whitfield"


def test_the_keys_section_lists_this_agency_this_device_and_partners(qtbot, tmp_path, hub,
                                                                     pages):
    # a CCF laptop that joins: the hub certifies it and vouches for MPD's key
    mpd = mpd_laptop(tmp_path, hub)
    laptop = tmp_path / "ccf-1.db"
    Store.create(laptop, "Clark County Fire", "CCF", device="ccf-1", founder=False).close()
    page = pages(laptop)
    box = page.keys_box
    assert box.agency_fp.text() == "—" and "not known yet" in box.agency_state.text()
    assert "not certified yet" in box.device_state.text()
    with Store.open(laptop) as s:
        ops.save_peer(s, "hub", hub.url, hub.token("CCF", "ccf-1"), adding=True)
    page.refresh()
    page.sync_now()
    wait_sync(qtbot, page)
    assert not page.last_outcomes[0].error, page.last_outcomes[0].error
    with Store.open(laptop) as s:
        d = identity.describe(s)
    assert box.agency_fp.text() == hub.fingerprint == d["agency_fingerprint"]
    assert "held by CCF's hub" in box.agency_state.text()
    assert box.device_title.text() == "This device (ccf-1)"
    assert box.device_fp.text() == d["device_fingerprint"]
    assert box.device_state.text() == "✓ certified by CCF"
    assert "unencrypted" in box.keystore_label.text()
    with Store.open(mpd) as s:
        mpd_fp = identity.describe(s)["agency_fingerprint"]
    assert box.table.rowCount() == 1
    assert [box.table.item(0, c).text() for c in range(3)] == ["MPD", mpd_fp,
                                                               "vouched for by CCF"]
    assert not box.empty_label.isVisible()


def test_trusting_a_partner_key_by_hand_shows_errors_next_to_the_field(qtbot, tmp_path, pages,
                                                                       monkeypatch):
    db = tmp_path / "ccf-1.db"
    Store.create(db, "Clark County Fire", "CCF", device="ccf-1").close()
    page = pages(db)
    box = page.keys_box
    assert box.table.rowCount() == 0 and box.empty_label.isVisible()
    assert not box.forget_button.isEnabled()
    qtbot.mouseClick(box.trust_button, Qt.LeftButton)
    dialog = box.trust_dialog
    assert isinstance(dialog, TrustKeyDialog) and dialog.isVisible()
    for code, fp, fld, words in (
            ("", "", "code", "give the partner agency's code"),
            ("M P D", "", "code", "not a valid agency code"),
            ("CCF", "12345 67890 12345 67890 12345 67890", "code", "own agency"),
            ("mpd", "", "fingerprint", "type the fingerprint"),
            ("MPD", "12345 6789", "fingerprint", "not a key fingerprint"),
            ("MPD", "12345 67890 12345 67890 12345 6789x", "fingerprint",
             "not a key fingerprint")):
        dialog.code.setText(code)
        dialog.fingerprint.setText(fp)
        assert dialog.save() is False
        assert dialog.errors[fld].isVisible() and words in dialog.errors[fld].text(), \
            (code, fp, dialog.errors[fld].text())
        other = "code" if fld == "fingerprint" else "fingerprint"
        assert not dialog.errors[other].isVisible()
        assert dialog.isVisible()
    assert box.table.rowCount() == 0
    dialog.code.setText("mpd")
    dialog.fingerprint.setText("12345-67890-12345-67890-12345-67890")
    assert dialog.save() is True and not dialog.isVisible()
    assert box.table.rowCount() == 1
    assert [box.table.item(0, c).text() for c in range(3)] == [
        "MPD", "12345 67890 12345 67890 12345 67890",
        "confirmed here · key not received yet"]
    assert "Trusting MPD's key" in page.last_status.message
    # another fingerprint for MPD: refused next to the field, the first one kept
    qtbot.mouseClick(box.trust_button, Qt.LeftButton)
    dialog = box.trust_dialog
    dialog.code.setText("MPD")
    dialog.fingerprint.setText("99999 67890 12345 67890 12345 67890")
    assert dialog.save() is False
    assert "already has another confirmed key" in dialog.errors["fingerprint"].text()
    assert "Forget" in dialog.errors["fingerprint"].text()
    dialog.reject()
    assert trusted_fingerprint(db, "MPD") == "12345 67890 12345 67890 12345 67890"
    # Forget, after a question
    asked = []

    def answer(parent, title, text, *a, **k):
        asked.append(text)
        return QMessageBox.No if len(asked) == 1 else QMessageBox.Yes
    monkeypatch.setattr(QMessageBox, "question", answer)
    box.table.selectRow(0)
    assert box.forget_button.isEnabled()
    assert box.forget_partner() is False and trusted_fingerprint(db, "MPD") is not None
    qtbot.mouseClick(box.forget_button, Qt.LeftButton)
    assert "Stop trusting MPD's key" in asked[-1]
    assert trusted_fingerprint(db, "MPD") is None and box.table.rowCount() == 0
    with Store.open(db) as s:
        assert identity.home_key(s.conn, "CCF") is not None, "the agency's own key stays"


def test_the_banner_says_the_private_keys_are_unencrypted(qtbot, tmp_path, pages):
    db = tmp_path / "ccf-1.db"
    Store.create(db, "Clark County Fire", "CCF", device="ccf-1").close()
    page = pages(db)                    # the tests keep keys in the database
    assert page.key_banner.isVisible()
    text = page.key_banner.text()
    assert "unencrypted" in text and "encrypted disk" in text and "Traceback" not in text
    page.store().keystore = "keyring"
    page.refresh()
    assert not page.key_banner.isVisible()


def test_refusals_of_altered_changes_and_waiting_changes_are_worded_plainly(qtbot, tmp_path,
                                                                           pages):
    db = tmp_path / "ccf-1.db"
    Store.create(db, "Clark County Fire", "CCF", device="ccf-1").close()
    page = pages(db)
    # as record_outcome words them
    outcome = runs.PeerOutcome(
        "hub", received=3, reachable=True,
        refused=[("changes received from hub", "changes up to position 4 of the stream of "
                  "mpd-1 of MPD do not match its signature: altered, forged or reordered on "
                  "the way"),
                 ("contact ‘Dana Whitfield’", "MPD may not change CCF's contact")],
        clock=["2 changes of mpd-2 received from hub wait: its agency's key or its "
               "certificate is not trusted there yet",
               "syncing with hub: the clock of fast of CCF is 12 minutes ahead; its edits "
               "cannot win conflicts by clock alone"])
    page._on_synced([outcome])
    text = page.results.text()
    assert "Refused as altered or forged: changes received from hub" in text
    assert "Refused by hub: contact ‘Dana Whitfield’" in text
    assert "Nothing of that replica's changes from that point on is applied" in text
    assert "Waiting for verification: 2 changes of mpd-2" in text
    assert "Clock: syncing with hub" in text
    page.refresh()                      # as the end of a sync does
    message = page.last_status.message
    assert "2 changes refused" in message and "waiting for verification" in message


def test_key_messages_are_read_from_the_core_errors():
    fp = "12345 67890 12345 67890 12345 67890"
    assert untrusted_key_in(str(identity.UntrustedKey("MPD-2", fp))) == ("MPD-2", fp)
    assert untrusted_key_in("the hub refused the device token") is None
    other = "99999 67890 12345 67890 12345 67890"
    changed = changed_key_in(str(identity.KeyChanged(
        f"agency MPD presented a key with fingerprint {other}, but the key confirmed here has "
        f"{fp}: refusing to go on. Ask MPD's administrator whether the key was replaced")))
    assert changed == {"agency": "MPD", "presented": other, "confirmed": fp}
    assert changed_key_in(str(identity.UntrustedKey("MPD", fp))) is None
    with pytest.raises(trust.TrustError):
        trust.parse_fingerprint("12345")


def test_the_detail_pane_shows_who_wrote_a_record_and_whether_verified(qtbot, tmp_path, hub):
    from fieldcoord.ui.detail import DetailPane
    db = tmp_path / "ccf-1.db"
    Store.create(db, "Clark County Fire", "CCF", device="ccf-1").close()
    with Store.open(db) as s:
        ops.save_peer(s, "hub", hub.url, hub.token("CCF", "ccf-1"), adding=True)
    assert not runs.sync_peers(db)[0].error
    store = Store.open(db)
    try:
        pane = DetailPane(store)
        qtbot.addWidget(pane)
        pane.show()
        pane.show_record(hub.contact)
        label = pane.writer_label
        assert label.isVisible()
        assert label.text().startswith("Written by hub of CCF")
        assert "✓ signature verified" in label.text()
        store.edit(hub.contact, {"title": "Captain"})
        pane.show_record(hub.contact)
        assert "Last written by ccf-1 of CCF (this device)" in label.text()
        assert "✓ signature verified" in label.text()
        assert "signature not verified" not in label.text()
        tip = label.toolTip()
        assert "Title: ccf-1 of CCF (this device) ✓ signature verified" in tip
        assert "hub of CCF ✓ signature verified" in tip
        # the hub's certificate no longer checks (revoked): its fields are not verified
        store.conn.execute("UPDATE site SET revoked_at = '2026-01-01T00:00:00Z' "
                           "WHERE device = 'hub'")
        pane.show_record(hub.contact)
        assert "✓ signature verified" in label.text()
        assert "some fields' signatures not verified" in label.text()
        assert "hub ⚠ signature not verified" in label.toolTip()
        assert "certificate could not be checked" in label.toolTip()
        own = store.add("contact", {"name": "Lee Ortiz", "agency": "CCF"})
        pane.show_record(own)
        assert label.text().startswith("Written by ccf-1 of CCF (this device)")
        pane.clear()
        assert not label.isVisible()
    finally:
        store.close()
