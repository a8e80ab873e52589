# SPDX-License-Identifier: GPL-3.0-or-later
"""What the app remembers for its user, typed and in one place (UI layer).

Kept by QSettings (per user and machine: ~/.config/fieldcoord on Linux, the registry on
Windows). Each setting has one name, one type and one default here; a value that does not
read as its type (edited by hand, from an older version) gives the default.

    from .settings import settings
    interval = settings.sync_interval
    settings.sync_auto = False
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, QSettings

DEFAULT_SYNC_INTERVAL = 30.0        # seconds between reachability checks
DEFAULT_PULL_INTERVAL = 60.0        # seconds between syncs while a peer is reachable
DEFAULT_PUSH_DELAY_MS = 3000        # a change made here goes out this long after it


class _Setting:
    """One setting: its key, its type and its default."""

    def __init__(self, key: str, kind: type, default: Any, minimum: float | None = None):
        self.key, self.kind, self.default, self.minimum = key, kind, default, minimum

    def __get__(self, owner: Any, cls: type | None = None) -> Any:
        if owner is None:
            return self
        raw = QSettings().value(self.key, None)
        if raw is None or raw == "":
            return self.default
        try:
            if self.kind is bool:
                value: Any = str(raw).lower() not in ("false", "0", "no")
            elif self.kind is QByteArray:
                value = raw if isinstance(raw, QByteArray) and not raw.isEmpty() else None
            else:
                value = self.kind(raw)
        except (TypeError, ValueError):
            return self.default
        if self.minimum is not None and value < self.minimum:
            return self.default
        return value

    def __set__(self, owner: Any, value: Any) -> None:
        if self.kind is bool:
            value = "true" if value else "false"
        QSettings().setValue(self.key, value)


class Settings:
    """The app's settings (one instance, `settings`)."""

    # the window
    page = _Setting("window/page", str, None)
    geometry = _Setting("window/geometry", QByteArray, None)
    # the contact card: numbers not verified for this many days are stale
    alerts_shown = _Setting("window/alerts_shown", bool, False)
    # sync: seconds between reachability checks (0: never), and sync when a peer is back
    sync_interval = _Setting("sync/check_interval", float, DEFAULT_SYNC_INTERVAL, minimum=0)
    sync_auto = _Setting("sync/auto", bool, True)
    # while a peer is reachable: pull from it this often (seconds), and push a change made
    # here this long after it (milliseconds)
    sync_pull = _Setting("sync/pull_interval", float, DEFAULT_PULL_INTERVAL, minimum=1)
    sync_push_delay = _Setting("sync/push_delay_ms", int, DEFAULT_PUSH_DELAY_MS, minimum=0)
    # file dialogs start where the user last chose a file
    last_folder = _Setting("files/last_folder", str, "")
    # the print dialog: the last form, operation and output, and what was filled in
    print_form = _Setting("print/form", str, "")
    print_target = _Setting("print/target", str, "")
    print_operation = _Setting("print/operation", str, "")

    def print_value(self, key: str) -> str:
        """A field of the print dialog as last filled in ('' when never)."""
        return str(QSettings().value(f"print/{key}", "") or "")

    def set_print_value(self, key: str, text: str) -> None:
        QSettings().setValue(f"print/{key}", text)


settings = Settings()
