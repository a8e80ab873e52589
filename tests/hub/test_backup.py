# SPDX-License-Identifier: GPL-3.0-or-later
"""A hub's backups: consistent while it writes, rotated, with its key file, taken back by
`hub restore`, from the command line as a nightly timer runs it."""
import json
import subprocess
import sys
import threading

import pytest

from fieldcoord.core.errors import ValidationError
from fieldcoord.hub.backup import backup, backups
from fieldcoord.store import Store, keys


def contacts(path):
    with Store.open(path) as s:
        return s.conn.execute("SELECT count(*) FROM contact").fetchone()[0]


def test_a_backup_taken_while_the_hub_writes_holds_whole_transactions(tmp_path):
    path = tmp_path / "hub.db"
    Store.create(path, "Clark County Fire", "CCF", device="hub").close()
    stop = threading.Event()
    errors = []

    def write():
        try:
            with Store.open(path) as s:
                n = 0
                while not stop.is_set():
                    with s.transaction():           # ten contacts at a time, never fewer
                        for _ in range(10):
                            n += 1
                            s.add("contact", {"name": f"Person {n}", "agency": "CCF"})
        except Exception as e:                      # pragma: no cover - shown by the assert
            errors.append(e)

    writer = threading.Thread(target=write)
    writer.start()
    taken, counts = [], []
    try:
        # until a backup holds forty, however the writer and the backups interleave (a loaded
        # machine may write many transactions during one backup)
        while (len(taken) < 3 or counts[-1] < 40) and len(taken) < 200:
            taken.append(backup(path, tmp_path / "backups"))
            counts.append(contacts(taken[-1].path))
    finally:
        stop.set()
        writer.join()
    assert errors == []
    assert all(c % 10 == 0 for c in counts), counts
    assert counts == sorted(counts) and counts[-1] >= 40
    assert all(b.path.stat().st_mode & 0o077 == 0 for b in taken)
    assert not list((tmp_path / "backups").glob("*.part"))


def test_old_backups_are_removed_beyond_keep(tmp_path):
    path = tmp_path / "hub.db"
    Store.create(path, "Clark County Fire", "CCF", device="hub").close()
    made = [backup(path, tmp_path / "b", keep=2) for _ in range(4)]
    assert backups(path, tmp_path / "b") == [m.path for m in made[2:]]
    assert made[3].removed == (made[1].path,)
    # another database's backups in the same folder are not touched
    other = tmp_path / "other.db"
    Store.create(other, "Metro Police", "MPD", device="hub2").close()
    backup(other, tmp_path / "b", keep=1)
    assert len(backups(path, tmp_path / "b")) == 2


def test_bad_requests_are_refused_and_leave_nothing(tmp_path):
    with pytest.raises(ValidationError, match="no database"):
        backup(tmp_path / "missing.db", tmp_path / "b")
    junk = tmp_path / "junk.db"
    import sqlite3
    c = sqlite3.connect(junk)
    c.execute("CREATE TABLE t (x)")
    c.close()
    with pytest.raises(ValidationError, match="not a fieldcoord database"):
        backup(junk, tmp_path / "b")
    assert list((tmp_path / "b").iterdir()) == []
    Store.create(tmp_path / "hub.db", "Clark County Fire", "CCF").close()
    with pytest.raises(ValidationError, match="at least 1"):
        backup(tmp_path / "hub.db", tmp_path / "b", keep=0)


def test_the_key_file_goes_with_the_backup_and_comes_back_with_restore(tmp_path, monkeypatch):
    from fieldcoord.hub.server import restore
    monkeypatch.setenv("FIELDCOORD_KEYSTORE", "file")
    monkeypatch.setenv(keys.PASSPHRASE_ENV, "correct horse battery staple")
    keys._cache.clear()
    path = tmp_path / "hub.db"
    with Store.create(path, "Clark County Fire", "CCF", device="hub") as s:
        seed = s.device_seed()
    made = backup(path, tmp_path / "b")
    assert made.keys is not None and made.keys.read_bytes() == (tmp_path / "hub.db.keys")\
        .read_bytes()
    # the server's disk is lost: database and key file
    for p in tmp_path.glob("hub.db*"):
        p.unlink()
    restore(made.path, path)
    keys._cache.clear()
    with Store.open(path) as s:
        assert s.device_seed() == seed
        s.sign_heads()


def test_from_the_command_line(tmp_path):
    path = tmp_path / "hub.db"
    with Store.create(path, "Clark County Fire", "CCF", device="hub") as s:
        s.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})

    def cli(*args):
        r = subprocess.run([sys.executable, "-m", "fieldcoord", "--db", str(path), *args],
                           capture_output=True, text=True, timeout=120)
        return r.returncode, r.stdout + r.stderr

    code, out = cli("--json", "hub", "backup", str(tmp_path / "nightly"), "--keep", "7")
    assert code == 0, out
    got = json.loads(out)
    assert got["bytes"] > 0 and got["removed"] == []
    code, out = cli("hub", "backup", str(tmp_path / "nightly"), "--keep", "0")
    assert code != 0 and "at least 1" in out and "Traceback" not in out
    with Store.open(path) as s:
        s.add("contact", {"name": "Added After", "agency": "CCF"})
    code, out = cli("hub", "restore", got["backup"])
    assert code == 0 and "new epoch" in out, out
    with Store.open(path) as s:
        dump = s.dump()
    assert "Dana Whitfield" in dump and "Added After" not in dump
