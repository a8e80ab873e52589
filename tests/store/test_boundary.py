# SPDX-License-Identifier: GPL-3.0-or-later
"""The store's write path has a declared boundary: Merger, conflict resolution, sync and the UI
use Store's public methods and its change log (`store.log`), never its private members."""
import ast
from pathlib import Path

import fieldcoord

ROOT = Path(fieldcoord.__file__).parent


def _store_expr(node: ast.AST) -> bool:
    """`store` or `self.store` (how every module names the Store it writes through)."""
    if isinstance(node, ast.Name):
        return node.id == "store"
    return isinstance(node, ast.Attribute) and node.attr == "store" and \
        isinstance(node.value, ast.Name) and node.value.id == "self"


def test_no_module_reaches_into_a_stores_private_members():
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        if path.name in ("store.py", "replica.py", "reading.py") and path.parent.name == "store":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") \
                    and not node.attr.startswith("__") and _store_expr(node.value):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
    allowed = {"_rows", "_conflicted"}           # Merger's own attributes, named self._x
    found = [f for f in found if f.rsplit(".", 1)[1] not in allowed]
    assert found == [], "private Store members used outside its layers:\n" + "\n".join(found)


def test_only_the_change_log_and_merge_write_change_entries():
    """This replica's entries come from store/changelog.py; received ones are kept by Merger
    (its batch rows, merge_rows.py). (A snapshot being prepared is another database, see
    sync/snapshot.py.)"""
    writers = sorted(str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py")
                     if "INSERT INTO change " in p.read_text(encoding="utf-8"))
    assert writers == ["store/changelog.py", "store/merge_rows.py"]
