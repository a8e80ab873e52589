# SPDX-License-Identifier: GPL-3.0-or-later
"""python main.py --screenshot renders the window on a page offscreen, saves a PNG, exits."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]


def _shot(tmp_path, *args):
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": os.environ.get("PATH", ""),
           "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_RUNTIME_DIR": str(tmp_path)}
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)


@pytest.mark.parametrize("page,extra", [("agencies", ()), ("contacts", ("--search", "fire")),
                                        ("sync", ())])
def test_screenshot_of_a_page(tmp_path, demo_db, page, extra):
    out = tmp_path / f"{page}.png"
    r = _shot(tmp_path, "--db", demo_db, "--screenshot", out, "--page", page,
              "--size", "1000x640", *extra)
    assert r.returncode == 0, r.stderr
    img = QImage(str(out))
    assert (img.width(), img.height()) == (1000, 640)
    colours = {img.pixel(x, y) for x in range(0, 1000, 37) for y in range(0, 640, 23)}
    assert len(colours) > 5, "the picture shows a window, not a blank area"
    assert not (tmp_path / "config").exists() or not any((tmp_path / "config").rglob("*.conf")), \
        "a screenshot does not write the user's settings"


def test_screenshot_refuses_an_unknown_page(tmp_path, demo_db):
    r = _shot(tmp_path, "--db", demo_db, "--screenshot", tmp_path / "x.png", "--page", "nope")
    assert r.returncode == 2
    assert "no page 'nope'" in r.stderr and "contacts" in r.stderr
    assert not (tmp_path / "x.png").exists()


def test_screenshot_of_every_page_in_process(window, tmp_path):
    from fieldcoord.ui.main_window import PAGE_NAMES
    for name in PAGE_NAMES:
        window.go(name)
        path = tmp_path / f"{name}.png"
        assert window.grab().save(str(path), "PNG")
        assert QImage(str(path)).width() == window.width()
