# SPDX-License-Identifier: GPL-3.0-or-later
"""fieldcoord installed from its wheel, not run from the checkout: the package finds its data
(channel library, resource types, the demo region) and its schema, and both programs work.

The wheel goes into a fresh virtual environment; the packages it depends on are taken from the
test's own environment (a path file), so the test needs no download besides the build backend
pip fetches to build the wheel."""
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd, cwd, env, timeout=180):
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(bin folder, environment) of a fresh venv holding fieldcoord's wheel."""
    tmp = tmp_path_factory.mktemp("install")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(HOME=str(tmp / "home"), XDG_CONFIG_HOME=str(tmp / "home" / ".config"),
               XDG_DATA_HOME=str(tmp / "home" / ".local" / "share"),
               XDG_STATE_HOME=str(tmp / "home" / ".local" / "state"),
               XDG_CACHE_HOME=str(tmp / "home" / ".cache"),
               FIELDCOORD_KEYSTORE="database", QT_QPA_PLATFORM="offscreen")
    wheels = tmp / "wheels"
    # a copy of the sources, so the build leaves nothing in the checkout
    src = tmp / "src"
    files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others",
                            "--exclude-standard"], capture_output=True, check=True).stdout
    for name in filter(None, files.decode().split("\0")):
        if (ROOT / name).is_file():
            (src / name).parent.mkdir(parents=True, exist_ok=True)
            (src / name).write_bytes((ROOT / name).read_bytes())
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(src)],
         tmp, env, timeout=300)
    wheel = next(wheels.glob("fieldcoord-*.whl"))
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], tmp, env)
    py = venv / "bin" / "python"
    _run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], tmp, env)
    site = _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                tmp, env).strip()
    # what fieldcoord depends on, from this environment (after the wheel's own folder)
    Path(site, "_fieldcoord_test_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin", env, tmp


def test_the_installed_package_is_the_wheel_not_the_checkout(installed):
    bin_, env, tmp = installed
    where = _run([str(bin_ / "python"), "-c", "import fieldcoord.core.library as l, fieldcoord; "
                  "print(fieldcoord.__file__); print(l.RESOURCES)"], tmp, env).split()
    assert all(str(tmp / "venv") in w for w in where), where
    assert str(ROOT) not in " ".join(where)


def test_the_command_line_loads_the_demo_and_searches_it(installed):
    bin_, env, tmp = installed
    db = tmp / "demo.db"
    out = _run([str(bin_ / "fieldcoord"), "--db", str(db), "demo"], tmp, env)
    assert "demo directory loaded" in out and "13 channel" in out
    out = _run([str(bin_ / "fieldcoord"), "--db", str(db), "search", "duty officer"], tmp, env)
    assert "Duty Officer" in out and "Alder Falls Fire & Rescue" in out
    assert _run([str(bin_ / "fieldcoord"), "--version"], tmp, env).startswith("fieldcoord ")


def test_the_app_opens_the_demo_and_paints_its_window(installed):
    bin_, env, tmp = installed
    db = tmp / "app.db"
    _run([str(bin_ / "fieldcoord"), "--db", str(db), "demo"], tmp, env)
    shot = tmp / "shot.png"
    _run([str(bin_ / "fieldcoord-app"), "--db", str(db), "--search", "duty officer",
          "--screenshot", str(shot), "--size", "1000x700"], tmp, env)
    from PySide6.QtGui import QImage
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1000, 700)
    # a painted window (text, lists, the search's hits), not an empty frame
    colours = {image.pixel(x, y) for x in range(0, 1000, 7) for y in range(0, 700, 7)}
    assert len(colours) > 20
