# SPDX-License-Identifier: GPL-3.0-or-later
"""Help > About names the version (from the package's metadata, as `fieldcoord --version`
does) and the folder of the log files a problem report sends."""
import subprocess
import sys

from PySide6.QtWidgets import QMessageBox

import fieldcoord
from fieldcoord.ui import dialogs


def test_about_names_the_version_and_the_log_folder(qtbot, monkeypatch, tmp_path):
    shown = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: shown.append(text))
    dialogs.about(None)
    assert f"fieldcoord {fieldcoord.__version__}" in shown[0]
    assert str(tmp_path / "logs") in shown[0]          # FIELDCOORD_LOG_DIR of the test
    cli = subprocess.run([sys.executable, "-m", "fieldcoord", "--version"], capture_output=True,
                         text=True).stdout.strip()
    assert cli == f"fieldcoord {fieldcoord.__version__}" and "unknown" not in cli
