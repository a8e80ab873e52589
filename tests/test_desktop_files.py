# SPDX-License-Identifier: GPL-3.0-or-later
"""The Linux desktop integration in packaging/linux: the desktop entry and the AppStream
metadata pass their validators, the icons are there in every size, and install-desktop.sh puts
a bundle, its menu entry and icons under a home folder and takes them away again."""
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINUX = ROOT / "packaging" / "linux"
APP_ID = "org.fieldcoord.Fieldcoord"


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (`make setup` installs it on Debian and Ubuntu)")
    return found


def test_the_desktop_entry_is_valid():
    done = subprocess.run([tool("desktop-file-validate"), str(LINUX / f"{APP_ID}.desktop")],
                          capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "", done.stdout


def test_the_appstream_metadata_is_valid_and_names_this_version():
    done = subprocess.run([tool("appstreamcli"), "validate", "--no-net",
                           str(LINUX / f"{APP_ID}.metainfo.xml")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    import xml.etree.ElementTree as ET

    import fieldcoord
    meta = ET.parse(LINUX / f"{APP_ID}.metainfo.xml").getroot()
    assert meta.findtext("id") == APP_ID == fieldcoord.APP_ID
    assert meta.find("releases/release").get("version") == fieldcoord.__version__
    assert meta.find("launchable").text == f"{APP_ID}.desktop"
    assert len(meta.findall("screenshots/screenshot")) >= 2


def test_the_icons_are_there_in_every_size():
    from PySide6.QtGui import QImage
    hicolor = LINUX / "icons" / "hicolor"
    assert (hicolor / "scalable" / "apps" / f"{APP_ID}.svg").read_bytes() == \
        (ROOT / "resources" / "icons" / f"{APP_ID}.svg").read_bytes()
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        image = QImage(str(hicolor / f"{size}x{size}" / "apps" / f"{APP_ID}.png"))
        assert (image.width(), image.height()) == (size, size)
        assert image.pixelColor(size // 2, size // 2).alpha() == 255


def _fake_bundle(tmp: Path) -> Path:
    """A folder laid out as `make dist` lays the bundle out (its program a small script)."""
    b = tmp / "unpacked" / "fieldcoord"
    (b / "share" / "applications").mkdir(parents=True)
    (b / "share" / "metainfo").mkdir()
    (b / "share" / "icons").mkdir()
    for name in ("fieldcoord-app", "fieldcoord"):
        (b / name).write_text("#!/bin/sh\necho fieldcoord 0\n")
        (b / name).chmod(0o755)
    shutil.copy(LINUX / f"{APP_ID}.desktop", b / "share" / "applications")
    shutil.copy(LINUX / f"{APP_ID}.metainfo.xml", b / "share" / "metainfo")
    shutil.copytree(LINUX / "icons" / "hicolor", b / "share" / "icons" / "hicolor")
    shutil.copy(LINUX / "install-desktop.sh", b)
    return b


def test_install_desktop_puts_the_bundle_on_the_menu_and_takes_it_away(tmp_path):
    bundle = _fake_bundle(tmp_path)
    home = tmp_path / "home"
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([str(bundle / "install-desktop.sh")], env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    local = home / ".local"
    entry = local / "share" / "applications" / f"{APP_ID}.desktop"
    assert f'Exec="{local}/opt/fieldcoord/fieldcoord-app"' in entry.read_text()
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True,
                               text=True)
        assert check.returncode == 0 and check.stdout.strip() == "", check.stdout
    assert (local / "share" / "icons" / "hicolor" / "48x48" / "apps" / f"{APP_ID}.png").is_file()
    assert (local / "share" / "metainfo" / f"{APP_ID}.metainfo.xml").is_file()
    cli = local / "bin" / "fieldcoord"
    assert cli.is_symlink() and subprocess.run([str(cli)], capture_output=True, text=True)\
        .stdout.strip() == "fieldcoord 0"
    # the unpacked folder may go: the installed copy stands alone
    shutil.rmtree(tmp_path / "unpacked")
    assert (local / "opt" / "fieldcoord" / "fieldcoord-app").is_file()
    done = subprocess.run([str(local / "opt" / "fieldcoord" / "install-desktop.sh"),
                           "--uninstall"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert not entry.exists() and not cli.exists() and not (local / "opt" / "fieldcoord").exists()
    assert not list((local / "share" / "icons").rglob(f"{APP_ID}.*"))


def test_a_script_run_outside_a_bundle_says_so(tmp_path):
    shutil.copy(LINUX / "install-desktop.sh", tmp_path)
    done = subprocess.run([str(tmp_path / "install-desktop.sh")],
                          env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True)
    assert done.returncode == 1 and "inside the fieldcoord bundle" in done.stderr
    assert not (tmp_path / ".local").exists()
