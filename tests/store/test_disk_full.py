# SPDX-License-Identifier: GPL-3.0-or-later
"""A full disk is said in plain words, and what was being written is rolled back whole: the
database stays as it was (SQLite's own SQLITE_FULL, from a page limit on the connection)."""
import errno
import sqlite3

import pytest

from fieldcoord.core.failures import DiskFull, is_disk_full
from fieldcoord.store import Store
from fieldcoord.sync.engine import StorePeer, sync

BIG = "x" * 19_000       # a long note (the longest text field takes 20,000)


def fill_up(store: Store, room: int = 4) -> None:
    """Let the database grow by `room` pages at most from now on."""
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages + room}")


def test_a_write_that_fills_the_disk_is_rolled_back_and_said_plainly(tmp_path):
    with Store.create(tmp_path / "ccf.db", "Clark County Fire", "CCF") as store:
        store.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
        before = store.dump()
        fill_up(store)
        with pytest.raises(DiskFull) as e, store.transaction():     # an import, say
            for i in range(40):
                store.add("contact", {"name": f"Long Notes {i}", "agency": "CCF", "notes": BIG})
        assert str(e.value) == ("the disk is full; nothing was lost: free some space and "
                                "try again")
        assert isinstance(e.value.__cause__, sqlite3.OperationalError)
        assert store.dump() == before
        # room again: the same write works, nothing half-written is in the way
        store.conn.execute("PRAGMA max_page_count = 1073741823")
        store.add("contact", {"name": "Long Notes", "agency": "CCF", "notes": BIG})


def test_a_sync_into_a_full_disk_keeps_the_replica_as_it_was(tmp_path):
    hub = Store.create(tmp_path / "hub.db", "Clark County Fire", "CCF", device="hub")
    laptop = Store.create(tmp_path / "laptop.db", "Clark County Fire", "CCF", device="laptop")
    with hub, laptop:
        sync(laptop, StorePeer(hub))
        for i in range(20):
            hub.add("contact", {"name": f"Person {i}", "agency": "CCF", "notes": BIG})
        before = laptop.dump()
        fill_up(laptop)
        with pytest.raises(DiskFull):
            sync(laptop, StorePeer(hub))
        assert laptop.dump() == before
        laptop.conn.execute("PRAGMA max_page_count = 1073741823")
        sync(laptop, StorePeer(hub))
        assert laptop.dump() == hub.dump()


def test_the_cli_says_the_disk_is_full_in_one_line(tmp_path, monkeypatch, capsys):
    from fieldcoord import cli
    db = tmp_path / "ccf.db"
    Store.create(db, "Clark County Fire", "CCF").close()
    real = Store.open

    def opened_on_a_full_disk(*args, **kw):
        store = real(*args, **kw)
        fill_up(store, room=0)
        return store
    monkeypatch.setattr(Store, "open", opened_on_a_full_disk)
    code = cli.main(["--db", str(db), "add", "contact", "name=Long Notes", "agency=CCF",
                     f"notes={BIG}"])
    err = capsys.readouterr().err
    assert code == 1
    assert err == "error: the disk is full; nothing was lost: free some space and try again\n"


@pytest.mark.parametrize("exc, full", [
    (OSError(errno.ENOSPC, "No space left on device"), True),
    (OSError(errno.EDQUOT, "Disk quota exceeded"), True),
    (sqlite3.OperationalError("database or disk is full"), True),
    (OSError(errno.EACCES, "Permission denied"), False),
    (sqlite3.OperationalError("database is locked"), False),
])
def test_what_counts_as_a_full_disk(exc, full):
    assert is_disk_full(exc) is full
    try:
        try:
            raise exc
        except Exception as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert is_disk_full(outer) is full


def test_the_app_says_it_in_the_same_words():
    pytest.importorskip("PySide6")
    from fieldcoord.ui.tasks import user_message
    assert user_message(OSError(errno.ENOSPC, "No space left on device", "/media/usb/x.fcb")
                        ) == str(DiskFull())
