# SPDX-License-Identifier: GPL-3.0-or-later
"""The Sync page's questions about partner keys: confirm a key a peer or a bundle presented, or
say in plain words why a changed key was refused; one dialog at a time (UI layer).

A part of SyncPage (sync_pages.py), which holds the state these methods share: the peers
whose key is not confirmed (`_untrusted`) or was refused (`_changed_keys`), the questions
still to ask and the dialog shown last.
"""
from __future__ import annotations

from PySide6.QtWidgets import QDialog

from .trust_ui import ConfirmKeyDialog, KeyChangedDialog


class KeyQuestions:
    """Questions about keys, asked in turn; peers trusted meanwhile are synced again."""

    def _peer_source(self, peers: list[str]) -> str:
        return ("What the peer " if len(peers) == 1 else "What the peers ") + \
            ", ".join(f"“{p}”" for p in peers) + " sends"

    def _ask_confirm_for_peers(self, peers: list[str], key: tuple[str, str]) -> None:
        """Ask to confirm the partner key `key` (agency, fingerprint) the peers presented;
        once trusted, they are synced again."""
        self.ask_about_key("confirm", self._peer_source(peers), key,
                           lambda: self._trusted_peers.extend(peers))

    def _ask_changed(self, peer: str, why: str) -> None:
        self.ask_about_key("changed", f"The peer “{peer}”", why)

    def ask_about_key(self, kind: str, source: str, what, on_trusted=None) -> None:
        """Show a key dialog once those before it are answered: "confirm" asks to confirm
        `what` = (agency, fingerprint) and calls `on_trusted` when the user trusted it;
        "changed" says that `what` (a KeyChanged message) was refused. Peers whose key was
        trusted are synced again when the last dialog closes."""
        showing = self.key_dialog is not None and self.key_dialog.isVisible()
        if (showing and self._key_asked == (kind, what)) or \
                any(q[:1] + q[2:3] == (kind, what) for q in self._key_questions):
            return                  # already asked (a second sync before the answer)
        self._key_questions.append((kind, source, what, on_trusted))
        if not showing:
            self._next_key_question()

    def _next_key_question(self) -> None:
        if not self._key_questions:
            names, self._trusted_peers = self._trusted_peers, []
            if names and not self.is_syncing():
                self._start_sync(sorted(set(names)))
            return
        kind, source, what, on_trusted = self._key_questions.pop(0)
        if kind == "confirm":
            dialog = ConfirmKeyDialog(self.store(), what[0], what[1], source, self)
        else:
            dialog = KeyChangedDialog(what, source, self)
        if self.key_dialog is not None:
            self.key_dialog.deleteLater()
        self.key_dialog = dialog
        self._key_asked = (kind, what)

        def answered(result: int) -> None:
            if kind == "confirm" and result == QDialog.Accepted:
                agency = what[0]
                self._untrusted = {p: k for p, k in self._untrusted.items() if k[0] != agency}
                self._message = f"Trusting {agency}'s key {what[1]}"
                self.refresh()
                if on_trusted is not None:
                    on_trusted()
            self._next_key_question()
        dialog.finished.connect(answered)
        dialog.open()

    def _on_result_link(self, link: str) -> None:
        """The links of the result box: confirm a peer's key, or what a refused key means."""
        kind, _, peer = link.partition(":")
        if kind == "fctrust" and peer in self._untrusted:
            self._ask_confirm_for_peers([peer], self._untrusted[peer])
        elif kind == "fcchanged" and peer in self._changed_keys:
            self._ask_changed(peer, self._changed_keys[peer])

    def _on_keys_changed(self, message: str) -> None:
        self._message = message
        self.refresh()
