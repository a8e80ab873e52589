# SPDX-License-Identifier: GPL-3.0-or-later
"""The Sync page: peers, Sync now, automatic sync, bundles, keys and the sync log (UI layer).

The page opens its own Store on the GUI thread for reads and quick writes; sync, reachability
checks and bundles run on worker threads through ui.tasks, each opening its own Store. Wiring
for the main window: connect `changed` to the lists' and the Conflicts page's refresh, `status`
(a SyncStatus) to the status bar; call `shutdown()` before closing the database.
"""
from __future__ import annotations

import html
import time
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..core.format import local_time
from ..store.conflicts import open_count as conflict_count
from ..sync import credentials
from ..sync.peers import list_peers, pending_changes
from ..sync.runs import sync_peers
from ..sync.synclog import sync_events
from .settings import settings
from .store_page import StorePage
from .style import ERROR_COLOR, OK_COLOR
from .sync_bundles import BundleActions
from .sync_keys import KeyQuestions
from .sync_peers import PeerActions
from .tasks import Task
from .trust_ui import (
    NOTE_STYLE,
    KeysBox,
    changed_key_in,
    key_warning_text,
    untrusted_key_in,
)


@dataclass(frozen=True)
class SyncStatus:
    """What the status bar shows of sync."""
    online: bool | str | None = None   # True, False, "no token"; None: not checked yet
    last_sync: str | None = None       # UTC, as stored
    pending: int | None = None         # changes not yet acknowledged by every peer
    conflicts: int = 0                 # open conflicts
    message: str = ""                  # the latest thing worth saying
    # the message is routine news of an automatic sync: the window updates its labels and
    # says nothing (refusals and failures reach the alerts and the online label)
    quiet: bool = False
# sync log kinds in words (the others read well as they are)
EVENT_KINDS = {"tampered": "altered or forged", "unverified": "waiting"}


class RowsModel(QAbstractTableModel):
    """A small read-only table: a header and rows of strings, with optional tooltips."""

    def __init__(self, headers: list[str], parent=None):
        super().__init__(parent)
        self.headers = headers
        self.rows: list[tuple] = []
        self.tips: list[tuple] = []

    def set_rows(self, rows: list[tuple], tips: list[tuple] | None = None) -> None:
        self.beginResetModel()
        self.rows = [tuple("" if v is None else str(v) for v in r) for r in rows]
        self.tips = tips or []
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.headers)

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        if role == Qt.DisplayRole:
            return self.rows[index.row()][index.column()]
        if role == Qt.ToolTipRole:
            tips = self.tips[index.row()] if index.row() < len(self.tips) else ()
            tip = tips[index.column()] if index.column() < len(tips) else None
            return tip or self.rows[index.row()][index.column()] or None
        return None

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if role == Qt.DisplayRole and orientation == Qt.Horizontal:
            return self.headers[section]
        return None


def _table(model: RowsModel, name: str, stretch: int) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setAccessibleName(name)
    view.setSelectionBehavior(QAbstractItemView.SelectRows)
    view.setSelectionMode(QAbstractItemView.SingleSelection)
    view.setEditTriggers(QAbstractItemView.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.Stretch)
    return view


class SyncPage(PeerActions, KeyQuestions, BundleActions, StorePage):
    """Peers, Sync now with progress and Cancel, automatic sync when a peer is reachable again,
    bundles, the result of the last sync and the sync log."""

    changed = Signal()              # records changed by a sync or an import
    status = Signal(object)         # a SyncStatus

    def __init__(self, db_path: Path, parent: QWidget | None = None, *,
                 probe_interval: float | None = None, auto_sync: bool | None = None):
        super().__init__(db_path, parent)
        self._sync_task: Task | None = None
        self._probe_task: Task | None = None
        self._tasks: list[Task] = []
        self.reachable: dict[str, bool] = {}      # peers checked: reachable or not
        self._tokens: dict[str, bool] = {}        # peers whose token a sync would find
        self._demo_ok = False                      # the user agreed to share the demo
        self.last_outcomes: list = []
        self.last_status: SyncStatus | None = None
        self._message = ""
        self._peers = []
        self._automatic = False
        self._untrusted: dict[str, tuple[str, str]] = {}   # peer: (agency, fingerprint)
        self._changed_keys: dict[str, str] = {}            # peer: why its key was refused
        self._key_questions: list[tuple] = []             # dialogs still to show, in turn
        self._trusted_peers: list[str] = []                # peers to sync again once trusted
        self.key_dialog: QDialog | None = None             # the key dialog shown last
        self._key_asked: tuple | None = None               # and what it asks
        if probe_interval is None:
            probe_interval = settings.sync_interval
        if auto_sync is None:
            auto_sync = settings.sync_auto
        self._build(auto_sync)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.check_peers)
        self._push_timer = QTimer(self)             # a change made here, going out
        self._push_timer.setSingleShot(True)
        self._push_timer.timeout.connect(self.live_sync)
        self._last_live = time.monotonic()
        self._first_check = QTimer(self)
        self._first_check.setSingleShot(True)
        self._first_check.timeout.connect(self.check_peers)
        self.set_probe_interval(probe_interval)
        self.refresh()

    # ------------------------------------------------------------------------------ layout
    def _build(self, auto_sync: bool) -> None:
        layout = QVBoxLayout(self)
        self.key_banner = QLabel()
        self.key_banner.setAccessibleName("Private keys warning")
        self.key_banner.setWordWrap(True)
        self.key_banner.setStyleSheet(NOTE_STYLE)
        self.key_banner.setVisible(False)
        layout.addWidget(self.key_banner)
        top = QHBoxLayout()
        self.state_label = QLabel()
        self.state_label.setAccessibleName("Connection state")
        self.state_label.setTextFormat(Qt.RichText)
        self.summary_label = QLabel()
        self.summary_label.setAccessibleName("Sync summary")
        top.addWidget(self.state_label)
        top.addWidget(self.summary_label, 1)
        self.sync_button = QPushButton("Sync now")
        self.sync_button.setToolTip("Send and receive changes with every peer")
        self.sync_button.clicked.connect(self.sync_now)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel_sync)
        self.export_button = QPushButton("Export bundle…")
        self.export_button.clicked.connect(self.export_bundle)
        self.import_button = QPushButton("Import bundle…")
        self.import_button.clicked.connect(self.import_bundle)
        for b in (self.sync_button, self.cancel_button, self.export_button, self.import_button):
            top.addWidget(b)
        layout.addLayout(top)

        self.progress_row = QWidget()
        bar = QHBoxLayout(self.progress_row)
        bar.setContentsMargins(0, 0, 0, 0)
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Sync progress")
        self.progress.setTextVisible(True)
        self.progress_label = QLabel()
        bar.addWidget(self.progress_label)
        bar.addWidget(self.progress, 1)
        self.progress_row.setVisible(False)
        layout.addWidget(self.progress_row)

        self.results = QLabel()
        self.results.setAccessibleName("Last sync result")
        self.results.setTextFormat(Qt.RichText)
        self.results.setWordWrap(True)
        self.results.setTextInteractionFlags(Qt.TextSelectableByMouse
                                             | Qt.LinksAccessibleByMouse)
        self.results.linkActivated.connect(self._on_result_link)
        self.results.setFrameShape(QFrame.StyledPanel)
        self.results.setMargin(6)
        self.results.setVisible(False)
        layout.addWidget(self.results)

        peers = QGroupBox("Peers")
        pl = QVBoxLayout(peers)
        self.peers_model = RowsModel(["Name", "Address", "Agency", "Last sync", "State",
                                      "Pending"], self)
        self.peers_view = _table(self.peers_model, "Peers", stretch=1)
        self.peers_view.doubleClicked.connect(lambda _: self.edit_peer())
        pl.addWidget(self.peers_view)
        row = QHBoxLayout()
        add = QPushButton("Add peer…")
        add.clicked.connect(self.add_peer)
        self.edit_button = QPushButton("Edit…")
        self.edit_button.clicked.connect(self.edit_peer)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_peer)
        for b in (add, self.edit_button, self.remove_button):
            row.addWidget(b)
        row.addStretch(1)
        self.auto_check = QCheckBox("Sync automatically while a peer is reachable")
        self.auto_check.setToolTip("A peer reachable again is synced at once; while it stays "
                                   "reachable, changes made here go out a few seconds later "
                                   "and the peer is pulled regularly, in the background")
        self.auto_check.setChecked(auto_sync)
        self.auto_check.toggled.connect(self._on_auto_toggled)
        row.addWidget(self.auto_check)
        row.addWidget(QLabel("Check every"))
        self.interval_spin = QSpinBox()
        self.interval_spin.setAccessibleName("Reachability check interval")
        self.interval_spin.setRange(0, 3600)
        self.interval_spin.setSuffix(" s")
        self.interval_spin.setSpecialValueText("never")
        self.interval_spin.valueChanged.connect(self._on_interval_changed)
        row.addWidget(self.interval_spin)
        row.addWidget(QLabel("pull every"))
        self.pull_spin = QSpinBox()
        self.pull_spin.setAccessibleName("Pull interval while a peer is reachable")
        self.pull_spin.setRange(5, 24 * 3600)
        self.pull_spin.setSuffix(" s")
        self.pull_spin.setValue(int(settings.sync_pull))
        self.pull_spin.valueChanged.connect(self._on_pull_changed)
        row.addWidget(self.pull_spin)
        pl.addLayout(row)
        layout.addWidget(peers, 1)

        self.keys_box = KeysBox(self.store)
        self.keys_box.changed.connect(self._on_keys_changed)
        layout.addWidget(self.keys_box)

        log = QGroupBox("Sync log")
        ll = QVBoxLayout(log)
        self.events_model = RowsModel(["When", "Peer", "Kind", "Message", "Concerns"], self)
        self.events_view = _table(self.events_model, "Sync log", stretch=3)
        ll.addWidget(self.events_view)
        layout.addWidget(log, 2)

    # ------------------------------------------------------------------------------ state
    def refresh(self) -> None:
        """Re-read peers, pending changes, conflicts and the log; emit `status`."""
        store = self.store()
        pending, per_peer = pending_changes(store)
        self._peers = list_peers(store, per_peer)
        rows, tips = [], []
        for p in self._peers:
            state = {True: "reachable", False: "unreachable"}.get(self.reachable.get(p.name),
                                                                   "not checked yet")
            if self.reachable.get(p.name) and not self._has_token(p.name):
                state += " · no token"
            if p.last_error:
                state += " · last sync failed"
            rows.append((p.name, p.url, p.agency or "?", local_time(p.last_sync) or "never",
                         state, p.pending))
            tips.append((None, None, None, p.last_sync, p.last_error, None))
        self.peers_model.set_rows(rows, tips)
        has_peer = bool(self._peers)
        self.edit_button.setEnabled(has_peer)
        self.remove_button.setEnabled(has_peer)
        events = sync_events(store, 200)
        self.events_model.set_rows([(local_time(at), peer, EVENT_KINDS.get(kind, kind), msg,
                                     what) for at, peer, kind, msg, what in events])
        banner = key_warning_text(store)
        self.key_banner.setText(banner or "")
        self.key_banner.setVisible(bool(banner))
        self.keys_box.refresh()
        conflicts = conflict_count(store)
        last = max((p.last_sync for p in self._peers if p.last_sync), default=None)
        online = self._online()
        self.state_label.setText({True: f"<b style='color:{OK_COLOR}'>● Online</b>",
                                  False: f"<b style='color:{ERROR_COLOR}'>○ Offline</b>",
                                  "no token": f"<b style='color:{ERROR_COLOR}'>○ No token: cannot "
                                              "sync</b>"}
                                 .get(online, "<b>○ Not checked</b>" if has_peer else
                                      "<b>○ No peers</b>"))
        self.summary_label.setText(
            f"Last sync {local_time(last) or 'never'} · {pending} change"
            f"{'' if pending == 1 else 's'} pending · {conflicts} open conflict"
            f"{'' if conflicts == 1 else 's'}")
        self.last_status = SyncStatus(online, last, pending, conflicts,
                                      self._status_message(has_peer), self._automatic)
        self.status.emit(self.last_status)

    def _has_token(self, name: str) -> bool:
        if name not in self._tokens:
            store = self.store()
            self._tokens[name] = credentials.has_token(store.site_uuid, name, store)
        return self._tokens[name]

    def _online(self) -> bool | str | None:
        """True when a peer answers and its token is there; "no token" when peers answer but
        none can be synced with for lack of a token; False when none answers; None: unknown."""
        names = [p.name for p in self._peers]
        known = [self.reachable[n] for n in names if n in self.reachable]
        if any(self.reachable.get(n) and self._has_token(n) for n in names):
            return True
        if any(known):
            return "no token"
        if names and len(known) == len(names):
            return False
        return None

    def _status_message(self, has_peer: bool) -> str:
        if self._message:
            return self._message
        if not has_peer:
            return "No peers yet: add your agency's hub on the Sync page"
        return ""

    def is_syncing(self) -> bool:
        return self._sync_task is not None and self._sync_task.is_running()

    # ---------------------------------------------------------------------------- sync
    def sync_now(self) -> None:
        """Sync with every peer in the background (progress on the page, Cancel stops it)."""
        if self.is_syncing():
            return
        if not self._peers:
            self._message = "No peers yet: add your agency's hub under Peers, then sync"
            self.refresh()
            return
        self._start_sync(None)

    def demo_may_go(self, where: str, automatic: bool = False) -> bool:
        """Whether the demo directory's records may go to `where`: never on an automatic
        sync; otherwise only once the user said yes (asked once per session)."""
        if not self.store().demo or self._demo_ok:
            return True
        if automatic:
            self._message = "Demo directory: not synced automatically"
            return False
        answer = QMessageBox.question(
            self, "Send the demo directory?",
            f"This is the demo directory (fictional Harbor County). Syncing sends its "
            f"fictional agencies, people and plans to {where}, where partners would see them "
            "as real.\n\nSend them anyway?", QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        self._demo_ok = answer == QMessageBox.Yes
        if not self._demo_ok:
            self._message = "Demo directory not sent"
            self.refresh()
        return self._demo_ok

    def _start_sync(self, names: list[str] | None, automatic: bool = False,
                    reason: str = "Peer reachable again: syncing") -> Task | None:
        db = self.db_path
        if not self.demo_may_go(", ".join(names) if names else
                                ", ".join(p.name for p in self._peers), automatic):
            return None
        allow_demo = self._demo_ok
        task = Task(lambda progress, cancel: sync_peers(db, names, progress, cancel,
                                                        allow_demo), "Sync")
        task.progressed.connect(self._on_progress)
        task.succeeded.connect(self._on_synced)
        task.failed.connect(self._on_sync_failed)
        task.cancelled.connect(self._on_sync_cancelled)
        task.finished.connect(self._on_sync_finished)
        self._sync_task = self._track(task)
        self._automatic = automatic
        self.sync_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.progress_row.setVisible(True)
        who = ", ".join(names) if names else "all peers"
        self.progress_label.setText(f"Syncing with {who}…")
        self._message = (reason if automatic else "Syncing") + f" ({who})"
        self.last_status = replace(self.last_status or SyncStatus(), message=self._message,
                                   quiet=automatic)
        self.status.emit(self.last_status)
        return task.start()

    def cancel_sync(self) -> None:
        if self.is_syncing():
            self.progress_label.setText("Cancelling…")
            self._sync_task.cancel()

    def _on_progress(self, label: str, value: int, maximum: int) -> None:
        self.progress_label.setText(label)
        if maximum > 0:
            self.progress.setRange(0, maximum)
            self.progress.setValue(min(value, maximum))
        else:
            self.progress.setRange(0, 0)

    def _on_synced(self, outcomes: list) -> None:
        self.last_outcomes = outcomes
        for o in outcomes:
            if o.reachable is not None:
                self.reachable[o.peer] = o.reachable
        self.results.setText(_outcomes_html(outcomes))
        self.results.setVisible(True)
        failed = [o for o in outcomes if o.error]
        refused = sum(len(o.refused) for o in outcomes)
        waiting = sum(1 for o in outcomes for w in o.clock if _is_waiting(w))
        warnings = sum(len(o.clock) for o in outcomes) - waiting
        parts = [f"Synced {len(outcomes) - len(failed)} of {len(outcomes)} peers"]
        if refused:
            parts.append(f"{refused} change{'' if refused == 1 else 's'} refused (see Sync)")
        if waiting:
            parts.append("changes waiting for verification (see Sync)")
        if warnings:
            parts.append("clock warning (see Sync)")
        self._untrusted = {o.peer: found for o in failed
                           if (found := untrusted_key_in(o.error))}
        self._changed_keys = {o.peer: o.error for o in failed
                              if o.peer not in self._untrusted and changed_key_in(o.error)}
        for o in failed:
            found = self._untrusted.get(o.peer)
            parts.append(f"{o.peer}: {found[0]}'s key is not confirmed yet" if found
                         else o.error)
        self._message = " · ".join(parts)
        if any(o.changed_here for o in outcomes):
            self.changed.emit()
        if not self._automatic:
            # asked for by the user: ask about the keys now (after an automatic sync, the
            # result's link asks when the user is ready)
            for peer, why in self._changed_keys.items():
                self._ask_changed(peer, why)
            by_key: dict = {}
            for peer, key in self._untrusted.items():
                by_key.setdefault(key, []).append(peer)
            for key, peers in by_key.items():
                self._ask_confirm_for_peers(peers, key)

    def _on_sync_failed(self, message: str) -> None:
        self._message = f"Sync failed: {message}"
        self.results.setText(f"<span style='color:{ERROR_COLOR}'>"
                             f"{html.escape(self._message)}</span>")
        self.results.setVisible(True)

    def _on_sync_cancelled(self) -> None:
        self._message = ("Sync cancelled: what arrived so far is kept; the next sync goes on "
                         "from there")
        self.results.setText(html.escape(self._message))
        self.results.setVisible(True)
        self.changed.emit()            # batches applied before the cancel are committed

    def _on_sync_finished(self) -> None:
        self.sync_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress_row.setVisible(False)
        self.progress_label.setText("")
        self.refresh()
        if self._automatic:
            # a background sync's news stays on this page; later statuses are not about it
            self._automatic = False
            self._message = ""

    # -------------------------------------------------------------------------- lifetime
    def _track(self, task: Task) -> Task:
        self._tasks = [t for t in self._tasks if t.state in ("new", "running")] + [task]
        return task

    def shutdown(self) -> None:
        """Stop checking, cancel running work and wait for it, close this page's Store."""
        self._timer.stop()
        self._first_check.stop()
        self._push_timer.stop()
        for t in self._tasks:
            if t.is_running():
                t.cancel()
            t.wait(30000)                # also a thread that is just ending
        super().shutdown()


_TAMPERED_WORDS = ("altered", "forged", "another writer", "two different changes")


def _is_tampering(what: str, why: str) -> bool:
    """Whether a refused change was refused as altered or forged (record_outcome names such
    refusals "changes received from PEER" / "changes sent to PEER")."""
    return what.startswith(("changes received from ", "changes sent to ")) or \
        any(w in why for w in _TAMPERED_WORDS)


def _is_waiting(warning: str) -> bool:
    """Whether a warning says changes wait until their writer can be verified."""
    return " wait: " in warning or "not trusted there yet" in warning or \
        "waiting for verification" in warning.lower()


def _outcomes_html(outcomes: list) -> str:
    lines = []
    indent = "&nbsp;&nbsp;"
    for o in outcomes:
        peer = html.escape(o.peer)
        if o.error:
            untrusted, changed = untrusted_key_in(o.error), changed_key_in(o.error)
            if untrusted:
                agency = html.escape(untrusted[0])
                lines.append(f"<span style='color:#9a6700'>⚠ {peer}: not synced: the key of "
                             f"agency {agency} is not confirmed on this device yet.</span> "
                             f"<a href='fctrust:{peer}'>Confirm {agency}'s key…</a>")
            elif changed:
                agency = html.escape(changed["agency"] or "its agency")
                lines.append(f"<span style='color:{ERROR_COLOR}'>✗ {peer}: not synced: it "
                             f"presented a key for {agency} other than the one confirmed here, "
                             "so this device refused it.</span> "
                             f"<a href='fcchanged:{peer}'>What to do…</a>")
            else:
                lines.append(f"<span style='color:{ERROR_COLOR}'>✗ "
                             f"{html.escape(o.summary())}</span>")
            continue
        lines.append(f"✓ {html.escape(o.summary())}")
        if o.restored:
            lines.append(f"{indent}{peer} was restored from a backup: this device "
                         "re-sent what it lacked")
        tampered = False
        for what, why in o.refused:
            if _is_tampering(what, why):
                tampered = True
                by = "" if what.startswith("changes received from ") else f" by {peer}"
                lines.append(f"{indent}<span style='color:{ERROR_COLOR}'>✗ Refused{by} as "
                             f"altered or forged: {html.escape(what)}: {html.escape(why)}</span>")
            else:
                lines.append(f"{indent}<span style='color:{ERROR_COLOR}'>Refused by {peer}: "
                             f"{html.escape(what)}: {html.escape(why)}</span>")
        if tampered:
            lines.append(f"{indent}{indent}Nothing of that replica's changes from that point on "
                         "is applied; what was already here is kept. Tell your agency's "
                         "administrator.")
        for warning in o.clock:
            if _is_waiting(warning):
                heading = "⏳ Waiting for verification"
            elif "the clock of" in warning:
                heading = "⚠ Clock"
            else:
                heading = "⚠ Keys"
            lines.append(f"{indent}<span style='color:#9a6700'>{heading}: {html.escape(warning)}"
                         "</span>")
    return "<br>".join(lines)
