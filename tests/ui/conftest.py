# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the app's tests: settings kept in tmp_path, the demo directory built once."""
import pytest

pytest.importorskip("PySide6")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, qapp):
    """QSettings read and written under tmp_path, never the user's own configuration."""
    from PySide6.QtCore import QSettings
    qapp.setOrganizationName("fieldcoord-tests")
    qapp.setApplicationName("fieldcoord")
    QSettings.setDefaultFormat(QSettings.IniFormat)
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path / "settings"))
    QSettings().clear()
    yield
    QSettings().clear()


@pytest.fixture
def window(qtbot, demo_store):
    """The main window on the demo directory, shown offscreen."""
    from fieldcoord.ui.main_window import MainWindow
    w = MainWindow(demo_store, remember=False)
    qtbot.addWidget(w)
    w.resize(1200, 760)
    w.show()
    yield w
    w.close()


@pytest.fixture
def file_keyring(tmp_path, monkeypatch):
    """Tokens go to a JSON file instead of the OS keyring; yields the file."""
    import keyring
    from filekeyring import FileKeyring
    monkeypatch.setenv("FIELDCOORD_TEST_KEYRING", str(tmp_path / "keyring.json"))
    before = keyring.get_keyring()
    keyring.set_keyring(FileKeyring())
    yield tmp_path / "keyring.json"
    keyring.set_keyring(before)
