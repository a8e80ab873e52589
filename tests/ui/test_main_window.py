# SPDX-License-Identifier: GPL-3.0-or-later
"""The first window opens on a database, finds records as you type, and renders offscreen."""
import subprocess
import sys

import pytest

pytest.importorskip("PySide6")


def test_search_as_you_type(qtbot, store):
    from fieldcoord.ui.main_window import MainWindow
    store.add("contact", {"name": "Zoë Brandt", "agency": "CCF", "phone": "360 555 0117"})
    window = MainWindow(store)
    qtbot.addWidget(window)
    window.show()
    assert "1 contact ·" in window.counts.text()
    assert window.results.count() == 1, "with no search text the agencies are listed"
    qtbot.keyClicks(window.search, "zoe")
    qtbot.waitUntil(lambda: window.results.count() > 0, timeout=2000)
    assert "Zoë Brandt" in window.results.item(0).text()
    window.search.clear()
    qtbot.keyClicks(window.search, "555 0117")
    qtbot.waitUntil(lambda: window.results.count() > 0, timeout=2000)
    assert "Zoë Brandt" in window.results.item(0).text()


def test_screenshot_of_the_window(tmp_path, store):
    path = store.path
    store.close()
    out = tmp_path / "shot.png"
    r = subprocess.run([sys.executable, "main.py", "--db", str(path), "--screenshot", str(out),
                        "--size", "900x600"], capture_output=True, text=True, timeout=120,
                       env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""})
    assert r.returncode == 0, r.stderr
    from PySide6.QtGui import QImage
    img = QImage(str(out))
    assert (img.width(), img.height()) == (900, 600)
