# SPDX-License-Identifier: GPL-3.0-or-later
"""The demo directory in the window: marked DEMO, and never sent to a peer unasked."""
import shutil

import pytest
from PySide6.QtWidgets import QMessageBox

from fieldcoord.store import Store


@pytest.fixture
def demo_window(qtbot, tmp_path, demo_template):
    from PySide6.QtCore import QSettings

    from fieldcoord.ui.main_window import MainWindow
    db = tmp_path / "demo.db"
    shutil.copy(demo_template, db)
    with Store.open(db) as s, s.transaction():
        s.conn.execute("INSERT INTO peer (name, url) VALUES ('hub', 'http://127.0.0.1:9')")
    QSettings().setValue("sync/check_interval", 0)
    store = Store.open(db)
    w = MainWindow(store, remember=False)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()
    store.close()


def test_the_demo_window_is_marked_demo(demo_window):
    assert demo_window.windowTitle().startswith("DEMO — fieldcoord — HCEM")
    assert demo_window.demo_badge is not None and demo_window.demo_badge.isVisible()
    assert "not synced unless you confirm" in demo_window.demo_badge.toolTip()


def test_the_demo_is_not_synced_unless_the_user_says_yes(demo_window, monkeypatch):
    asked = []

    def answer(*args, **kw):
        asked.append(args[2])
        return QMessageBox.No
    monkeypatch.setattr(QMessageBox, "question", answer)
    page = demo_window.sync_page
    page.sync_now()
    assert len(asked) == 1 and "fictional" in asked[0] and "hub" in asked[0]
    assert not page.is_syncing()
    assert page.last_status.message == "Demo directory not sent"
    # an automatic sync (the hub came back) never asks and never sends
    assert page._start_sync(["hub"], automatic=True) is None and len(asked) == 1
    # a bundle is refused the same way
    assert page.start_export(demo_window.store.path.with_name("x.fcb"), "CCF") is None
    assert len(asked) == 2 and not demo_window.store.path.with_name("x.fcb").exists()


def test_an_ordinary_directory_has_no_demo_mark(qtbot, tmp_path):
    from fieldcoord.ui.main_window import MainWindow
    db = tmp_path / "ccf.db"
    with Store.create(db, "Clark County Fire", "CCF") as store:
        w = MainWindow(store, remember=False)
        qtbot.addWidget(w)
        assert w.demo_badge is None and not w.windowTitle().startswith("DEMO")
        w.close()
