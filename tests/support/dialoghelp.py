# SPDX-License-Identifier: GPL-3.0-or-later
"""Driving the app's record dialogs in tests."""


def fill_and_save(monkeypatch, fill):
    """Make the next RecordDialog.exec() fill the form with `fill(dialog)` and press Save."""
    from fieldcoord.ui.dialogs import RecordDialog

    def fake_exec(dialog):
        fill(dialog)
        dialog.save()
        return dialog.result()
    monkeypatch.setattr(RecordDialog, "exec", fake_exec)
