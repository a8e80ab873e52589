# SPDX-License-Identifier: GPL-3.0-or-later
"""The Sync and Conflicts pages against a real hub in this process: status, conflicts resolved
with one click, a GUI that keeps running during a long sync, peers, keyring, bundles."""
import socket
import time
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import Qt, QTimer  # noqa: E402

from fieldcoord.hub import tokens  # noqa: E402
from fieldcoord.hub.server import start_in_thread  # noqa: E402
from fieldcoord.store import Store, identity  # noqa: E402
from fieldcoord.store.conflicts import open_conflicts  # noqa: E402
from fieldcoord.sync import peers as ops  # noqa: E402
from fieldcoord.sync import runs  # noqa: E402
from fieldcoord.ui.conflicts_page import ConflictsPage  # noqa: E402
from fieldcoord.ui.sync_pages import SyncPage  # noqa: E402

# tokens go to a JSON file instead of the OS keyring
pytestmark = pytest.mark.usefixtures("file_keyring")


class Hub:
    def __init__(self, tmp: Path, port: int = 0):
        self.db = tmp / "hub.db"
        if not self.db.exists():
            Store.create(self.db, "Clark County Fire", "CCF", device="hub").close()
        self.port = port
        self.url = self.stop = None

    def start(self):
        self.url, self.stop = start_in_thread(self.db, port=self.port)
        return self

    def token(self, agency="CCF", device="laptop"):
        with Store.open(self.db) as s, s.transaction():
            return tokens.issue(s.conn, agency, device)[1]


@pytest.fixture
def hub(tmp_path):
    h = Hub(tmp_path).start()
    yield h
    h.stop()


def laptop(tmp_path, name, agency="CCF", agency_name="Clark County Fire") -> Path:
    db = tmp_path / f"{name}.db"
    Store.create(db, agency_name, agency, device=name).close()
    return db


def add_peer(db: Path, hub: Hub, device: str, agency="CCF", url=None):
    with Store.open(db) as s:
        ops.save_peer(s, "hub", url or hub.url, hub.token(agency, device), adding=True)
        if agency != "CCF":
            # a partner confirmed the hub agency's key fingerprint with its administrator
            with Store.open(hub.db) as h:
                fp = identity.describe(h)["agency_fingerprint"]
                if identity.trusted_key(h.conn, agency) is None:    # and the hub's, theirs
                    identity.confirm(h, agency, identity.home_key(s.conn, agency))
            with s.transaction():
                s.conn.execute("UPDATE peer SET key_fingerprint = ? WHERE name = 'hub'", (fp,))


@pytest.fixture
def pages(qtbot):
    made = []

    def make(cls, db, **kw):
        if cls is SyncPage:
            kw = {"probe_interval": 0, **kw}
        page = cls(db, **kw)
        qtbot.addWidget(page)
        page.show()
        made.append(page)
        return page
    yield make
    for p in made:
        p.shutdown()


def wait_sync(qtbot, page, timeout=20000):
    qtbot.waitUntil(lambda: not page.is_syncing(), timeout=timeout)


def test_editing_and_syncing_updates_the_status(qtbot, tmp_path, hub, pages):
    db = laptop(tmp_path, "laptop-1")
    add_peer(db, hub, "laptop-1")
    page = pages(SyncPage, db)
    cid = page.store().add("contact", {"name": "Dana Whitfield", "agency": "CCF",
                                       "phone": "360 555 0100"})
    page.refresh()
    assert page.last_status.pending >= 2 and page.last_status.last_sync is None
    assert page.peers_model.rows[0][3] == "never"
    statuses = []
    page.status.connect(statuses.append)
    qtbot.mouseClick(page.sync_button, Qt.LeftButton)
    assert page.progress.isVisible() or not page.is_syncing()
    wait_sync(qtbot, page)
    final = statuses[-1]
    assert final.pending == 0 and final.last_sync and final.online is True
    assert final.conflicts == 0 and "Synced 1 of 1" in final.message
    assert "received" in page.results.text() and "sent" in page.results.text()
    with Store.open(hub.db) as s:
        assert s.get(cid).title == "Dana Whitfield"
    # an edit is pending until the next sync
    page.store().edit(cid, {"title": "Captain"})
    page.refresh()
    assert page.last_status.pending == 1 and page.peers_model.rows[0][5] == "1"
    page.sync_now()
    wait_sync(qtbot, page)
    assert page.last_status.pending == 0
    with Store.open(hub.db) as s:
        assert s.get(cid).values["title"] == "Captain"


def two_laptops_sharing_a_contact(tmp_path, hub):
    """Laptops a and b of CCF holding the same contact, synced through the hub.
    Returns (a, b, contact id)."""
    a, b = laptop(tmp_path, "laptop-a"), laptop(tmp_path, "laptop-b")
    add_peer(a, hub, "laptop-a")
    add_peer(b, hub, "laptop-b")
    with Store.open(a) as s:
        cid = s.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
    runs.sync_peers(a)
    runs.sync_peers(b)
    return a, b, cid


def two_laptops_edit_one_title(tmp_path, hub):
    """Both laptops retitle the shared contact (Captain on a, Chief on b) before syncing
    again. Returns (a, b, contact id)."""
    a, b, cid = two_laptops_sharing_a_contact(tmp_path, hub)
    with Store.open(a) as s:
        s.edit(cid, {"title": "Captain"})
    with Store.open(b) as s:
        s.edit(cid, {"title": "Chief"})
    return a, b, cid


def test_a_conflict_resolved_from_the_conflicts_page_disappears(qtbot, tmp_path, hub, pages):
    a, b, cid = two_laptops_edit_one_title(tmp_path, hub)
    for db in (a, b, a):
        assert not any(o.error for o in runs.sync_peers(db))
    sync_a = pages(SyncPage, a)
    assert sync_a.last_status.conflicts == 1
    page = pages(ConflictsPage, a)
    assert len(page.cards) == 1 and "1 open conflict" in page.header.text()
    card = page.cards[0]
    values = {c.value for c in card.choices}
    assert values == {"Captain", "Chief"}
    assert all("laptop-" in c.text() and " of CCF" in c.text() for c in card.choices)
    keep = next(c for c in card.choices if c.value == "Chief")
    with qtbot.waitSignal(page.changed, timeout=2000):
        qtbot.mouseClick(keep, Qt.LeftButton)
    assert page.cards == [] and "0 open conflicts" in page.header.text()
    with Store.open(a) as s:
        assert open_conflicts(s) == [] and s.get(cid).values["title"] == "Chief"
    sync_a.refresh()
    assert sync_a.last_status.conflicts == 0
    # the resolution replicates: the conflict closes on the other laptop too
    for db in (a, b):
        runs.sync_peers(db)
    with Store.open(b) as s:
        assert open_conflicts(s) == [] and s.get(cid).values["title"] == "Chief"


def test_an_edit_made_while_the_record_was_deleted_can_be_kept(qtbot, tmp_path, hub, pages):
    a, b, cid = two_laptops_sharing_a_contact(tmp_path, hub)
    with Store.open(a) as s:
        s.delete(cid)
    with Store.open(b) as s:
        s.edit(cid, {"title": "Chief"})
    for db in (a, b, a):
        runs.sync_peers(db)
    page = pages(ConflictsPage, a)
    (card,) = page.cards
    keep_edit, keep_deleted = card.choices
    assert "Keep the edit" in keep_edit.text() and "title: Chief" in keep_edit.text()
    assert "laptop-b of CCF" in keep_edit.text() and "Keep it deleted" in keep_deleted.text()
    qtbot.mouseClick(keep_edit, Qt.LeftButton)
    assert page.cards == []
    with Store.open(a) as s:
        rec = s.get(cid)
        assert not rec.deleted and rec.values["title"] == "Chief"


def test_the_gui_keeps_running_during_a_long_sync_and_cancel_stops_it(qtbot, tmp_path, hub,
                                                                      pages, monkeypatch):
    from fieldcoord.sync import http
    slow = http.HttpPeer._post

    def slow_post(self, route, message):
        time.sleep(0.3)                          # a slow link: every round trip takes 300 ms
        return slow(self, route, message)
    monkeypatch.setattr(http.HttpPeer, "_post", slow_post)
    db = laptop(tmp_path, "laptop-1")
    add_peer(db, hub, "laptop-1")
    page = pages(SyncPage, db)
    page.store().add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start(10)
    # the same timer with no sync running: what this machine gives the GUI thread anyway
    qtbot.wait(600)
    idle = [b - a for a, b in zip(ticks, ticks[1:])]
    idle_rate = len(ticks) / 0.6
    ticks.clear()
    started = time.monotonic()
    page.sync_now()
    assert page.is_syncing() and page.progress.isVisible() and page.cancel_button.isEnabled()
    assert not page.sync_button.isEnabled()
    wait_sync(qtbot, page)
    took = time.monotonic() - started
    timer.stop()
    assert took >= 0.6, "hello and push: two slow round trips at least"
    assert len(ticks) >= 0.3 * took * idle_rate, f"only {len(ticks)} ticks in {took:.2f} s"
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert max(gaps) < 0.25 + max(idle, default=0), \
        f"the GUI thread stalled for {max(gaps):.2f} s (idle: {max(idle, default=0):.2f} s)"
    assert page.last_status.pending == 0
    # Cancel: the sync stops, the page says so and is ready again
    page.store().add("contact", {"name": "Lee Ortiz", "agency": "CCF"})
    page.sync_now()
    qtbot.mouseClick(page.cancel_button, Qt.LeftButton)
    wait_sync(qtbot, page)
    assert page._sync_task.state == "cancelled"
    assert "cancelled" in page.last_status.message and page.sync_button.isEnabled()
    assert page.last_status.pending > 0, "the new contact has not gone out"
    assert not page.progress.isVisible()


def test_automatic_sync_when_the_hub_becomes_reachable(qtbot, tmp_path, pages):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    hub = Hub(tmp_path, port)
    db = laptop(tmp_path, "laptop-1")
    add_peer(db, hub, "laptop-1", url=f"http://127.0.0.1:{port}")
    page = pages(SyncPage, db, probe_interval=0.2)
    page.store().add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
    statuses = []
    page.status.connect(statuses.append)
    qtbot.waitUntil(lambda: page.last_status.online is False, timeout=5000)
    assert page.peers_model.rows[0][4] == "unreachable"
    assert page.last_status.pending > 0 and page.last_status.last_sync is None
    hub.start()
    try:
        qtbot.waitUntil(lambda: page.last_status.last_sync is not None
                        and not page.is_syncing(), timeout=15000)
        assert page.last_status.online is True and page.last_status.pending == 0
        assert any("reachable again" in s.message for s in statuses)
        with Store.open(hub.db) as s:
            assert s.search("Whitfield")
    finally:
        page.set_probe_interval(0)
        hub.stop()


def test_refused_changes_and_clock_warnings_are_shown(qtbot, tmp_path, hub, pages):
    from fieldcoord.core import hlc
    with Store.open(hub.db) as s:
        s.add("agency", {"name": "Metro Police Department", "code": "MPD"})
        cid = s.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
    mpd = laptop(tmp_path, "mpd-1", "MPD", "Metro Police Department")
    add_peer(mpd, hub, "mpd-1", agency="MPD")
    runs.sync_peers(mpd)
    with Store.open(mpd) as s:
        # an edit a partner may not make, forged as a buggy replica would
        s.conn.execute("UPDATE contact SET owner = 'MPD' WHERE id = ?", (cid,))
        s.edit(cid, {"title": "Hacked"})
    page = pages(SyncPage, mpd)
    page.sync_now()
    wait_sync(qtbot, page)
    text = page.results.text()
    assert "Refused by hub" in text and "Dana Whitfield" in text and "may not change" in text
    assert "refused" in page.last_status.message
    assert any(r[2] == "refused" and "Dana Whitfield" in r[4] for r in page.events_model.rows)
    # a replica whose clock runs a year ahead: the warning names the peer and the replica
    fast = laptop(tmp_path, "fast")
    add_peer(fast, hub, "fast")
    with Store.open(fast) as s:
        s.conn.execute("UPDATE clock SET hlc = ?", (hlc.pack(hlc.wall_ms() + 365 * 86400000),))
    with Store.open(fast) as s:
        s.edit(s.agency_id("CCF"), {"notes": "written a year ahead"})
    runs.sync_peers(fast)
    ccf = laptop(tmp_path, "ccf-1")
    add_peer(ccf, hub, "ccf-1")
    page = pages(SyncPage, ccf)
    page.sync_now()
    wait_sync(qtbot, page)
    assert "Clock: syncing with hub: the clock of fast of CCF is" in page.results.text()
    assert any(r[2] == "clock" for r in page.events_model.rows)


@pytest.fixture
def peer_dialog(qtbot, tmp_path):
    """Opens the add-peer dialog on a new laptop: (database, store, dialog)."""
    from fieldcoord.ui.sync_dialogs import PeerDialog
    stores = []

    def open_dialog():
        db = laptop(tmp_path, "laptop-1")
        store = Store.open(db)
        stores.append(store)
        dialog = PeerDialog(store)
        qtbot.addWidget(dialog)
        dialog.show()
        return db, store, dialog

    yield open_dialog
    for store in stores:
        store.close()


def test_the_peer_dialog_refuses_a_bad_address_next_to_the_field(peer_dialog, file_keyring):
    _, store, dialog = peer_dialog()
    assert not dialog.keyring_note.isVisible()
    for bad, words in (("ftp://hub.example", "not an http:// or https://"),
                       ("hub.example:8765", "not an http:// or https://"),
                       ("https://hub example", "spaces"),
                       ("https://:8765", "names no host"),
                       ("https://hub.example:99999", "not a valid address")):
        dialog.name.setText("hub")
        dialog.url.setText(bad)
        dialog.token.setText("secret-token")
        assert dialog.save() is False
        assert dialog.errors["url"].isVisible() and words in dialog.errors["url"].text()
        assert dialog.isVisible() and dialog.url.text() == bad, "the input is kept"
    assert store.conn.execute("SELECT count(*) FROM peer").fetchone()[0] == 0
    assert not file_keyring.exists(), "nothing went to the keyring"
    dialog.url.setText("")
    dialog.token.setText("")
    dialog.url.setText("https://hub.example:8765/")
    assert dialog.save() is False and dialog.errors["token"].isVisible()
    dialog.token.setText("secret-token")
    assert dialog.save() is True
    assert store.conn.execute("SELECT name, url FROM peer").fetchall() == [
        ("hub", "https://hub.example:8765")]
    assert "secret-token" in file_keyring.read_text()


@pytest.fixture
def no_keyring(monkeypatch):
    import keyring.core
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    keyring.core.init_backend()
    yield
    monkeypatch.undo()
    keyring.core.init_backend()


def test_without_a_keyring_the_token_can_be_given_and_is_kept_where_the_note_says(
        peer_dialog, no_keyring, hub):
    db, store, dialog = peer_dialog()
    note = dialog.keyring_note.text()
    assert dialog.keyring_note.isVisible() and "No keyring is available" in note
    assert str(db) in note and "unencrypted" in note and "FIELDCOORD_TOKEN_HUB" in note
    assert dialog.token.isEnabled(), "the token can be typed without a keyring"
    assert dialog.allow_plaintext.isVisible() and not dialog.allow_plaintext.isChecked()
    dialog.name.setText("Hub-2")
    assert "FIELDCOORD_TOKEN_HUB_2" in dialog.keyring_note.text()
    dialog.url.setText(hub.url)
    token = hub.token("CCF", "laptop-1")
    dialog.token.setText(token)
    # a token is not kept unencrypted without the user's say-so
    assert dialog.save() is False and dialog.errors["token"].isVisible()
    assert store.conn.execute("SELECT count(*) FROM peer").fetchone()[0] == 0
    dialog.allow_plaintext.setChecked(True)
    assert dialog.save() is True
    assert store.conn.execute("SELECT count(*) FROM meta WHERE key = 'key:token/Hub-2'"
                              ).fetchone()[0] == 1
    (outcome,) = runs.sync_peers(db)
    assert outcome.error is None, outcome.error
    ops.remove_peer(store, "Hub-2")
    assert store.conn.execute("SELECT count(*) FROM meta WHERE key LIKE 'key:token/%'"
                              ).fetchone()[0] == 0, "removing the peer forgets its token"


def test_without_a_keyring_a_peer_saved_without_its_token_says_how_to_give_it(
        peer_dialog, no_keyring):
    db, _, dialog = peer_dialog()
    dialog.name.setText("Hub-2")
    dialog.url.setText("http://127.0.0.1:9")
    assert dialog.save() is True, "the peer is kept; the token comes from the environment"
    (outcome,) = runs.sync_peers(db)
    assert "no keyring" in outcome.error and "FIELDCOORD_TOKEN_HUB_2" in outcome.error
    assert "Traceback" not in outcome.error


def test_the_status_bar_does_not_say_online_when_no_token_can_be_found(
        qtbot, tmp_path, hub, window_on, no_keyring):
    db = laptop(tmp_path, "laptop-1")
    with Store.open(db) as s:
        ops.save_peer(s, "hub", hub.url, "", adding=True)       # kept without its token
    w = window_on(db)
    w.sync_page.check_peers()
    qtbot.waitUntil(lambda: w.sync_page.reachable.get("hub") is True, timeout=10000)
    qtbot.waitUntil(lambda: "No token" in w.online_label.text(), timeout=5000)
    assert "Online" not in w.online_label.text()
    assert "no token" in w.sync_page.peers_model.index(0, 4).data()


def test_bundle_export_and_import_round_trip_through_the_page(qtbot, tmp_path, pages):
    ccf, mpd = laptop(tmp_path, "ccf-1"), laptop(tmp_path, "mpd-1", "MPD",
                                                 "Metro Police Department")
    with Store.open(ccf) as s:
        s.add("agency", {"name": "Metro Police Department", "code": "MPD"})
        shared = s.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
        s.add("contact", {"name": "Informant Line", "agency": "CCF", "scope": "private"})
    with Store.open(ccf) as c, Store.open(mpd) as m:
        # the two liaisons confirmed each other's key fingerprint once
        identity.confirm(m, "CCF", identity.home_key(c.conn, "CCF"))
        identity.confirm(c, "MPD", identity.home_key(m.conn, "MPD"))
    page_ccf, page_mpd = pages(SyncPage, ccf), pages(SyncPage, mpd)
    bundle = tmp_path / "to-mpd.fcb"
    task = page_ccf.start_export(bundle, "MPD")
    qtbot.waitUntil(lambda: not task.is_running(), timeout=10000)
    assert task.state == "succeeded" and task.result["for"] == "MPD" and bundle.exists()
    assert f"to {bundle} for MPD" in page_ccf.results.text()
    with qtbot.waitSignal(page_mpd.changed, timeout=10000):
        task = page_mpd.start_import(bundle)
    qtbot.waitUntil(lambda: not task.is_running(), timeout=10000)
    outcome = task.result
    assert outcome.applied > 0 and outcome.receipt and Path(outcome.receipt).exists()
    assert "Receipt written to" in page_mpd.results.text()
    with Store.open(mpd) as s:
        assert s.get(shared).title == "Dana Whitfield"
        assert "Informant" not in s.dump(), "private records stay with their agency"
    # importing again changes nothing; the receipt makes the next bundle hold only what is new
    again = runs.import_bundle_file(mpd, bundle)
    assert again.applied == 0 and again.duplicates == outcome.applied
    task = page_ccf.start_import(Path(outcome.receipt))
    qtbot.waitUntil(lambda: not task.is_running(), timeout=10000)
    assert task.result.receipt_of == "MPD" and "Kept the receipt of MPD" in page_ccf.results.text()
    assert runs.export_bundle_file(ccf, tmp_path / "next.fcb", "MPD")["changes"] == 0
    # a file that is not a bundle: a plain message
    junk = tmp_path / "junk.fcb"
    junk.write_text("hello")
    task = page_mpd.start_import(junk)
    qtbot.waitUntil(lambda: not task.is_running(), timeout=10000)
    assert task.state == "failed" and "not a fieldcoord bundle" in task.error


@pytest.fixture
def window_on(qtbot):
    """The main window on a database, closed (and its background work ended) afterwards."""
    from fieldcoord.ui.main_window import MainWindow
    made = []

    def make(db):
        from PySide6.QtCore import QSettings
        QSettings().setValue("sync/check_interval", 0)     # no automatic sync: the test syncs
        store = Store.open(db)
        w = MainWindow(store, remember=False)
        qtbot.addWidget(w)
        w.show()
        made.append((w, store))
        return w
    yield make
    for w, store in made:
        w.close()
        store.close()


def test_the_window_status_bar_follows_edits_and_a_sync(qtbot, tmp_path, hub, window_on):
    db = laptop(tmp_path, "laptop-1")
    add_peer(db, hub, "laptop-1")
    w = window_on(db)

    def pending() -> int:
        return int(w.pending_label.text().split()[0].replace(",", ""))
    before = pending()
    assert before >= 1 and w.last_sync_label.text() == "Last sync: never"
    cid = w.store.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
    w.records_changed({"contact"}, {cid})
    qtbot.waitUntil(lambda: pending() == before + 1, timeout=5000)
    w.sync_now()
    wait_sync(qtbot, w.sync_page)
    qtbot.waitUntil(lambda: w.pending_label.text() == "0 changes pending", timeout=5000)
    assert w.last_sync_label.text() != "Last sync: never"
    assert "Online" in w.online_label.text()
    with Store.open(hub.db) as s:
        assert s.get(cid).title == "Dana Whitfield"


def test_a_conflict_shows_in_the_window_and_goes_when_resolved(qtbot, tmp_path, hub, window_on):
    a, b, cid = two_laptops_edit_one_title(tmp_path, hub)
    runs.sync_peers(b)
    w = window_on(a)
    w.sync_now()
    wait_sync(qtbot, w.sync_page)
    qtbot.waitUntil(lambda: w.conflicts_button.text() == "1 open conflict", timeout=5000)
    qtbot.mouseClick(w.conflicts_button, Qt.LeftButton)
    page = w.conflicts_page
    assert page is not None and w.stack.currentWidget() is not None
    card = page.cards[0]
    keep = next(c for c in card.choices if c.value == "Chief")
    qtbot.mouseClick(keep, Qt.LeftButton)
    qtbot.waitUntil(lambda: page.cards == [], timeout=5000)
    qtbot.waitUntil(lambda: w.conflicts_button.text() == "0 open conflicts", timeout=5000)
    assert w.store.get(cid).values["title"] == "Chief"


def test_a_bundle_is_for_a_partner_unless_chosen_otherwise(qtbot, tmp_path):
    from fieldcoord.ui.sync_dialogs import ExportBundleDialog
    db = laptop(tmp_path, "ccf-1")
    with Store.open(db) as s:
        s.add("agency", {"name": "Metro Police Department", "code": "MPD"})
        s.add("agency", {"name": "Harbor Emergency Management", "code": "HCEM"})
        dialog = ExportBundleDialog(s)
        qtbot.addWidget(dialog)
        codes = [dialog.agency.itemData(i) for i in range(dialog.agency.count())]
        assert codes == ["HCEM", "MPD", ""], "partners first, own devices last"
        assert dialog.agency.currentData() == "HCEM"
        assert "not confirmed" in dialog.agency.itemText(0)
        assert "private records included" in dialog.agency.itemText(2)


def test_live_while_online_a_change_goes_out_and_a_partners_comes_in_without_a_button(
        qtbot, tmp_path, hub, window_on):
    """While the hub is reachable, a change made here reaches it within the push delay, and
    a change another laptop made reaches this window within the pull interval; the record on
    screen changing is said quietly in the status bar."""
    from PySide6.QtCore import QSettings

    from fieldcoord.ui.settings import settings
    db, other = laptop(tmp_path, "laptop-1"), laptop(tmp_path, "laptop-2")
    add_peer(db, hub, "laptop-1")
    add_peer(other, hub, "laptop-2")
    w = window_on(db)
    QSettings().setValue("sync/check_interval", 0.3)
    settings.sync_pull = 1
    settings.sync_push_delay = 200
    w.sync_page.set_probe_interval(0.3)
    try:
        qtbot.waitUntil(lambda: w.sync_page.reachable.get("hub") is True, timeout=10000)
        wait_sync(qtbot, w.sync_page)
        cid = w.store.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
        w.records_changed({"contact"}, {cid})          # as a dialog's save does

        def on_hub():
            with Store.open(hub.db) as s:
                return bool(s.search("Whitfield"))
        qtbot.waitUntil(on_hub, timeout=10000)
        runs.sync_peers(other)
        with Store.open(other) as s:
            s.edit(cid, {"title": "Battalion Chief"})
        runs.sync_peers(other)
        msgs: list[str] = []
        w.statusBar().messageChanged.connect(msgs.append)
        w.open_record(cid)
        qtbot.waitUntil(lambda: w.store.get(cid).values["title"] == "Battalion Chief",
                        timeout=15000)
        qtbot.waitUntil(lambda: any("just changed by a sync" in m for m in msgs), timeout=5000)
    finally:
        w.sync_page.set_probe_interval(0)
        wait_sync(qtbot, w.sync_page)
