# SPDX-License-Identifier: GPL-3.0-or-later
"""The real app on Qt's xcb platform under Xvfb: every system library the platform plugin
needs is installed, and the main window maps on a real X display (as on a liaison's laptop)."""
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fieldcoord.store import Store

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the xcb platform is Linux's")
ROOT = Path(__file__).resolve().parents[2]


def _qt_dir() -> Path:
    import PySide6
    return Path(PySide6.__file__).parent / "Qt"


def test_the_xcb_platform_plugin_finds_every_library_it_needs():
    qt = _qt_dir()
    files = [qt / "plugins" / "platforms" / "libqxcb.so",
             *sorted((qt / "lib").glob("libQt6XcbQpa.so*"))]
    missing = set()
    for f in files:
        assert f.exists(), f
        out = subprocess.run(["ldd", str(f)], capture_output=True, text=True).stdout
        missing |= {line.split()[0] for line in out.splitlines() if "not found" in line}
    assert not missing, f"`make setup` left these out (xcb cannot start): {sorted(missing)}"


def _mapped_windows(display: str) -> str:
    out = subprocess.run(["xwininfo", "-root", "-tree", "-display", display],
                         capture_output=True, text=True)
    return out.stdout


def test_the_main_window_maps_on_a_real_x_display(xvfb, tmp_path):
    db = tmp_path / "ccf.db"
    Store.create(db, "Clark County Fire", "CCF").close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
    env.update(DISPLAY=xvfb, QT_QPA_PLATFORM="xcb", HOME=str(tmp_path),
               XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))
    env.pop("WAYLAND_DISPLAY", None)
    app = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "--db", str(db),
                            "--size", "1000x700"], env=env, cwd=tmp_path,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        tree = ""
        while time.monotonic() < deadline and app.poll() is None:
            tree = _mapped_windows(xvfb)
            if "fieldcoord — CCF" in tree:
                break
            time.sleep(0.3)
        assert app.poll() is None, f"the app ended on xcb: {app.communicate()[1][-2000:]}"
        assert "fieldcoord — CCF" in tree, "no main window on the display"
        # the window is in the tree a moment before it is mapped (longer on a busy machine)
        info = ""
        while time.monotonic() < deadline:
            info = subprocess.run(["xwininfo", "-display", xvfb, "-name",
                                   f"fieldcoord — CCF — {db.name}"],
                                  capture_output=True, text=True).stdout
            if "Map State: IsViewable" in info:
                break
            time.sleep(0.2)
        assert "Map State: IsViewable" in info, info
        width = int(info.split("Width:")[1].split()[0])
        assert width == 1000
    finally:
        app.terminate()
        try:
            app.wait(15)
        except subprocess.TimeoutExpired:
            app.kill()
