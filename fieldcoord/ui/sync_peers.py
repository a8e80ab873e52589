# SPDX-License-Identifier: GPL-3.0-or-later
"""The Sync page's peers: adding, editing and removing them, and checking in the background
which of them answer, so that a peer reachable again is synced at once when automatic sync is
on (UI layer).

A part of SyncPage (sync_pages.py), which holds the peers shown, the timers and what the last
checks found (`reachable`).
"""
from __future__ import annotations

import time

from PySide6.QtWidgets import QMessageBox

from ..sync.peers import probe_peers
from .settings import settings
from .sync_dialogs import PeerDialog
from .tasks import Task


class PeerActions:
    """Peers in the page's table, and their reachability."""

    def set_probe_interval(self, seconds: float) -> None:
        """Check peers' reachability every `seconds` in the background (0: never)."""
        self.interval_spin.blockSignals(True)
        self.interval_spin.setValue(int(seconds))
        self.interval_spin.blockSignals(False)
        self._timer.stop()
        self._first_check.stop()
        if seconds > 0:
            self._timer.start(int(seconds * 1000))
            self._first_check.start(min(500, int(seconds * 1000)))

    def _on_interval_changed(self, seconds: int) -> None:
        settings.sync_interval = seconds
        self.set_probe_interval(seconds)

    def _on_pull_changed(self, seconds: int) -> None:
        settings.sync_pull = seconds

    def _on_auto_toggled(self, on: bool) -> None:
        settings.sync_auto = on

    def check_peers(self) -> Task | None:
        """Check in the background which peers answer; sync those that are reachable again
        (when automatic sync is on). Skipped while a sync or a check runs."""
        if self.is_syncing() or (self._probe_task and self._probe_task.is_running()):
            return None
        peers = {p.name: p.url for p in self._peers}
        if not peers:
            return None
        task = Task(lambda progress, cancel: probe_peers(peers, cancel=cancel), "Checking peers")
        task.succeeded.connect(self._on_probed)
        self._probe_task = self._track(task)
        return task.start()

    def _on_probed(self, result: dict) -> None:
        back = [n for n, ok in result.items() if ok and self.reachable.get(n) is not True]
        self.reachable.update(result)
        if back and self.auto_check.isChecked() and not self.is_syncing():
            self._start_sync(back, automatic=True)
        elif time.monotonic() - self._last_live >= settings.sync_pull:
            self.live_sync()                # still reachable: pull what partners changed
        self.refresh()

    # ------------------------------------------------------------------ live while online
    def push_soon(self) -> None:
        """A change was made here: while a peer is reachable (and automatic sync is on), it
        goes out a few seconds later, in the background. Offline, nothing happens."""
        if self.auto_check.isChecked() and any(self.reachable.values()):
            self._push_timer.start(settings.sync_push_delay)

    def live_sync(self) -> Task | None:
        """Sync the reachable peers in the background, quietly (automatic sync on)."""
        names = sorted(n for n, ok in self.reachable.items() if ok)
        if not names or not self.auto_check.isChecked():
            return None
        if self.is_syncing():
            self._push_timer.start(settings.sync_push_delay)   # once this one is done
            return None
        self._last_live = time.monotonic()
        return self._start_sync(names, automatic=True, reason="Syncing in the background")

    def _selected_peer(self):
        rows = self.peers_view.selectionModel().selectedRows()
        if rows:
            return self._peers[rows[0].row()]
        return self._peers[0] if len(self._peers) == 1 else None

    def add_peer(self) -> None:
        dialog = PeerDialog(self.store(), None, self)
        if dialog.exec():
            self._message = f"Peer {dialog.saved_name} saved"
            self.refresh()
            self.check_peers()

    def edit_peer(self) -> None:
        peer = self._selected_peer()
        if peer is None:
            return
        dialog = PeerDialog(self.store(), peer, self)
        if dialog.exec():
            self.reachable.pop(peer.name, None)
            self._tokens.pop(peer.name, None)
            self.refresh()
            self.check_peers()

    def remove_peer(self) -> None:
        from ..sync.peers import remove_peer
        peer = self._selected_peer()
        if peer is None:
            return
        answer = QMessageBox.question(self, "Remove peer",
                                      f"Stop syncing with {peer.name} ({peer.url}) and forget "
                                      "its token? Records already here stay.")
        if answer == QMessageBox.Yes:
            remove_peer(self.store(), peer.name)
            self.reachable.pop(peer.name, None)
            self._tokens.pop(peer.name, None)
            self.refresh()
