# SPDX-License-Identifier: GPL-3.0-or-later
"""The quick-start card stays one printed page and names menu items and keys the app has."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CARD = (ROOT / "docs" / "quick-start.md").read_text(encoding="utf-8")
UI = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "fieldcoord" / "ui").rglob("*.py"))


def test_the_card_is_one_page_of_the_six_tasks():
    assert len(CARD.splitlines()) <= 60
    for task in ("24/7 line", "offline", "Sync", "bundle", "conflict", "ICS 205"):
        assert re.search(rf"^## .*{re.escape(task)}", CARD, re.M | re.I), task


def test_the_menu_items_it_names_exist():
    shown = UI.replace("&", "")
    for menu, item in re.findall(r"\*\*(File|Edit|Go|Sync|Help) > ([^*]+)\*\*", CARD):
        assert f'"{item}' in shown or f'"{item.rstrip("…")}' in shown, f"{menu} > {item}"


def test_the_keys_it_names_are_bound():
    docs_keys = set(re.findall(r"`(Ctrl\+[A-Za-z+]+)`", CARD))
    guide = (ROOT / "docs" / "user-guide.md").read_text(encoding="utf-8")
    for key in docs_keys:
        assert f"`{key}`" in guide or key in UI, key
