# SPDX-License-Identifier: GPL-3.0-or-later
"""The demo directory stays the demo: its own file, and never sent to a peer unasked (store
layer)."""
from __future__ import annotations

from pathlib import Path

from ..core.errors import ValidationError

DEMO_FILE = "demo.db"


class DemoNotShared(ValidationError):
    """The demo directory's fictional records would reach a peer without the user's say-so."""


def demo_path(db: Path) -> Path:
    """Where the demo region lives: its own file beside the user's database, never that one."""
    return Path(db).with_name(DEMO_FILE)


def check_may_share(store, allow_demo: bool, where: str) -> None:
    """Refuse to send a demo directory's records to `where` (a peer, a bundle) unless the user
    confirmed it (`allow_demo`)."""
    if getattr(store, "demo", False) and not allow_demo:
        raise DemoNotShared(
            f"{store.path.name} holds the demo directory (fictional Harbor County): its "
            f"records would go to {where}. Confirm to send them anyway (on the command line: "
            "--include-demo)")
