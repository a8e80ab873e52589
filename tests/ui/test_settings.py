# SPDX-License-Identifier: GPL-3.0-or-later
"""What the app remembers: one typed place, defaults for values that do not read."""
from PySide6.QtCore import QSettings

from fieldcoord.ui.settings import DEFAULT_SYNC_INTERVAL, settings


def test_settings_are_typed_and_fall_back_to_their_defaults():
    assert settings.alerts_shown is False
    assert settings.sync_interval == DEFAULT_SYNC_INTERVAL and settings.sync_auto is True
    assert settings.page is None and settings.geometry is None and settings.last_folder == ""
    settings.alerts_shown = True
    settings.sync_auto = False
    settings.sync_interval = 0
    assert (settings.alerts_shown, settings.sync_auto, settings.sync_interval) == (True, False, 0)
    # values edited by hand, or left by another version, read as the default
    s = QSettings()
    s.setValue("sync/check_interval", -5)
    s.setValue("sync/interval", "soon")
    assert settings.sync_interval == DEFAULT_SYNC_INTERVAL


def test_the_print_dialog_fields_are_remembered_by_name():
    assert settings.print_value("prepared_by") == ""
    settings.set_print_value("prepared_by", "J. Rivera")
    assert settings.print_value("prepared_by") == "J. Rivera"
