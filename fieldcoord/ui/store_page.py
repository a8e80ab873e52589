# SPDX-License-Identifier: GPL-3.0-or-later
"""A page with a Store of its own (UI layer)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QWidget

from ..store import Store


class StorePage(QWidget):
    """A page with a Store of its own on the database, opened when first needed (GUI thread)."""

    def __init__(self, db_path: Path, parent: QWidget | None = None):
        super().__init__(parent)
        self.db_path = Path(db_path)
        self._store: Store | None = None

    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.db_path)
        return self._store

    def shutdown(self) -> None:
        """Close this page's Store."""
        if self._store is not None:
            self._store.close()
            self._store = None
