# SPDX-License-Identifier: GPL-3.0-or-later
"""SQLite store: schema, migrations, the one write path, queries and search (store layer)."""
from .records import Changes, Record
from .search import Hit
from .store import Store

__all__ = ["Changes", "Hit", "Record", "Store"]
