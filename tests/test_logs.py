# SPDX-License-Identifier: GPL-3.0-or-later
"""Each program keeps a log file in the user's log folder: what failed, with tracebacks of what
nobody expected; --verbose says it on standard error too."""
import sys

import pytest

from fieldcoord import cli, logs
from fieldcoord.store import Store


def test_the_cli_logs_a_refusal_and_says_more_with_verbose(tmp_path, capsys):
    db = tmp_path / "ccf.db"
    Store.create(db, "Clark County Fire", "CCF").close()
    assert cli.main(["--db", str(db), "edit", "no-such-id", "title=Chief"]) == 2
    text = logs.log_file("cli").read_text(encoding="utf-8")
    assert "edit refused" in text and "no-such-id" in text
    capsys.readouterr()
    assert cli.main(["--db", str(db), "--verbose", "list", "contact"]) == 0
    assert "DEBUG fieldcoord.cli: fieldcoord" in capsys.readouterr().err


def test_an_unexpected_error_leaves_its_traceback_in_the_log_and_one_line_on_screen(
        tmp_path, capsys, monkeypatch):
    db = tmp_path / "ccf.db"
    Store.create(db, "Clark County Fire", "CCF").close()

    def broken(*args, **kw):
        raise RuntimeError("a bug")
    monkeypatch.setattr(Store, "search", broken)
    assert cli.main(["--db", str(db), "search", "dana"]) == 1
    err = capsys.readouterr().err
    where = logs.log_file("cli")
    assert err == f"error: RuntimeError: a bug (details in {where})\n"
    text = where.read_text(encoding="utf-8")
    assert "Traceback" in text and "RuntimeError: a bug" in text


def test_the_hub_commands_log_to_their_own_file(tmp_path):
    db = tmp_path / "hub.db"
    Store.create(db, "Clark County Fire", "CCF").close()
    assert cli.main(["--db", str(db), "hub", "token", "revoke", "999"]) == 2
    assert "hub refused" in logs.log_file("hub").read_text(encoding="utf-8")
    assert not logs.log_file("cli").exists()


def test_an_app_crash_is_logged_and_explained_in_plain_words(qtbot, monkeypatch):
    pytest.importorskip("PySide6")
    from PySide6.QtWidgets import QMessageBox

    from fieldcoord import app
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda *a, **k: shown.append(a[2]))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    app._report_crashes()
    try:
        raise ValueError("nobody caught this")
    except ValueError:
        sys.excepthook(*sys.exc_info())
    assert len(shown) == 1 and str(logs.log_file("app")) in shown[0]
    assert "Traceback" not in shown[0] and "did not expect" in shown[0]
    assert "ValueError: nobody caught this" in logs.log_file("app").read_text(encoding="utf-8")
