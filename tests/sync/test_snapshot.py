# SPDX-License-Identifier: GPL-3.0-or-later
"""A new replica's first sync of a large hub from a filtered database snapshot: the same result
as a normal sync, nothing the agency may not see, nothing written before the sync lost."""
import json

import pytest
import requests
from wholelog import WHOLE_LOG

from fieldcoord.hub import tokens
from fieldcoord.hub.server import start_in_thread
from fieldcoord.store import Store, identity
from fieldcoord.store.exchange import vector
from fieldcoord.sync import snapshot
from fieldcoord.sync.engine import StorePeer, sync
from fieldcoord.sync.http import HttpPeer


def dump(store):
    return json.loads(store.dump())


@pytest.fixture
def hub(tmp_path):
    """A CCF hub holding records of every scope, a deleted one, a record shared and taken back,
    and an open conflict; written by two CCF laptops."""
    path = tmp_path / "hub.db"
    h = Store.create(path, "Clark County Fire", "CCF", device="hub")
    h.add("agency", {"name": "Metro Police Department", "code": "MPD"})
    a = Store.create(tmp_path / "writer-a.db", "Clark County Fire", "CCF", device="writer-a")
    b = Store.create(tmp_path / "secret-b.db", "Clark County Fire", "CCF", device="secret-b")
    sync(a, StorePeer(h))
    ids = {
        "dana": a.add("contact", {"name": "Dana Whitfield", "agency": "CCF", "scope": "all",
                                  "phone": "360 555 0100"}),
        "duty": a.add("contact", {"name": "Duty Officer", "agency": "CCF", "scope": "MPD",
                                  "phone": "360 555 0111"}),
        "secret": a.add("contact", {"name": "Informant Line", "agency": "CCF",
                                    "scope": "private", "phone": "360 555 0199"}),
        "gone": a.add("contact", {"name": "Retired Chief", "agency": "CCF", "scope": "all"}),
        "back": a.add("contact", {"name": "Shared Once", "agency": "CCF", "scope": "all"}),
    }
    a.delete(ids["gone"])
    a.edit(ids["back"], {"scope": "private"})
    sync(a, StorePeer(h))
    sync(b, StorePeer(h))
    # only b wrote this: a replica of MPD must not even learn b exists
    b.add("contact", {"name": "Covert Desk", "agency": "CCF", "scope": "private"})
    a.edit(ids["dana"], {"title": "Captain"})
    b.edit(ids["dana"], {"title": "Chief"})
    for _ in range(2):
        sync(a, StorePeer(h))
        sync(b, StorePeer(h))
    assert len(dump(h)["conflicts"]) == 1
    with h.transaction():
        _, ccf_token = tokens.issue(h.conn, "CCF", "new-laptop")
        _, ccf_token2 = tokens.issue(h.conn, "CCF", "other-laptop")
        _, mpd_token = tokens.issue(h.conn, "MPD", "mpd-hub")
    for s in (h, a, b):
        s.close()
    url, stop = start_in_thread(path)
    yield {"path": path, "url": url, "ccf": ccf_token, "ccf2": ccf_token2, "mpd": mpd_token,
           "ids": ids}
    stop()


@pytest.fixture
def low_threshold(monkeypatch):
    monkeypatch.setattr(snapshot, "SNAPSHOT_AT", 1)


def first_sync(store, url, token, trust=None, **kw):
    peer = HttpPeer(url, token)
    peer.key_fingerprint = trust
    try:
        return sync(store, peer, **kw)
    finally:
        peer.close()


def test_a_fresh_laptop_starts_from_a_snapshot_and_ends_as_a_normal_sync_would(
        hub, tmp_path, monkeypatch, low_threshold):
    fast = Store.create(tmp_path / "fast.db", "Clark County Fire", "CCF", device="fast")
    result = first_sync(fast, hub["url"], hub["ccf"])
    assert result.snapshot == "adopted"
    assert result.received.applied > 0
    monkeypatch.setattr(snapshot, "SNAPSHOT_AT", 10**9)
    slow = Store.create(tmp_path / "slow.db", "Clark County Fire", "CCF", device="slow")
    assert first_sync(slow, hub["url"], hub["ccf2"]).snapshot == ""
    assert fast.dump() == slow.dump()
    assert sorted(a["code"] for a in dump(fast)["agency"]) == ["CCF", "MPD"]
    assert len(dump(fast)["conflicts"]) == 1
    # the same Store object goes on working, as this replica (not as the hub)
    assert fast.self_ord != 1 and fast.device == "fast"
    assert fast.search("555 0100")[0].title == "Dana Whitfield"
    assert fast.search("Informant")[0].title == "Informant Line"
    # nothing of the hub's own: tokens, settings, its site identity
    assert fast.conn.execute("SELECT count(*) FROM device_token").fetchone()[0] == 0
    meta = dict(fast.conn.execute("SELECT key, value FROM meta"))
    with Store.open(hub["path"]) as h:
        assert meta["site"] == fast.site_uuid != h.site_uuid
        assert meta["epoch"] != h.epoch
    assert not list(tmp_path.glob("*.snapshot*"))
    # reopened from disk it is the same replica
    fast.close()
    with Store.open(tmp_path / "fast.db") as again:
        assert again.dump() == slow.dump()
        assert str(again.self_ord) == meta["self_ord"]
        assert again.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    slow.close()


def ccf_fingerprint(hub):
    with Store.open(hub["path"]) as h:
        return identity.describe(h)["agency_fingerprint"]


def test_a_partner_replica_gets_nothing_private(hub, tmp_path, monkeypatch, low_threshold):
    # a partner never starts from a snapshot: it could not verify it
    mpd = Store.create(tmp_path / "mpd.db", "Metro Police Department", "MPD", device="mpd-hub")
    result = first_sync(mpd, hub["url"], hub["mpd"], trust=ccf_fingerprint(hub))
    assert result.snapshot == ""
    monkeypatch.setattr(snapshot, "SNAPSHOT_AT", 10**9)
    normal = Store.create(tmp_path / "normal.db", "Metro Police Department", "MPD",
                          device="mpd-normal")
    with Store.open(hub["path"]) as h:
        with h.transaction():
            _, token = tokens.issue(h.conn, "MPD", "mpd-normal")
    first_sync(normal, hub["url"], token, trust=ccf_fingerprint(hub))
    assert mpd.dump() == normal.dump()
    names = sorted(c["name"] for c in dump(mpd)["contact"])
    assert names == ["Dana Whitfield", "Duty Officer"]
    # the raw tables: no private record, change, stream, site or search word
    c = mpd.conn
    for word in ("Informant", "Covert", "555 0199"):
        for table, column in (("contact", "name"), ("change", "cells"), ("search_doc", "body"),
                              ("search_doc", "title"), ("conflict", "value")):
            assert c.execute(f"SELECT count(*) FROM {table} WHERE {column} LIKE ?",
                             (f"%{word}%",)).fetchone()[0] == 0, (word, table)
    # exactly the change-log entries a normal sync delivers (records shared once included)
    first_sync(mpd, hub["url"], hub["mpd"])
    first_sync(normal, hub["url"], token)
    entries = ("SELECT s.uuid, t.audience, ch.seq, ch.rid, ch.hlc, ch.status FROM change ch "
               "JOIN stream t ON t.id = ch.stream JOIN site s ON s.ord = t.origin "
               "WHERE s.uuid NOT IN (?, ?)")
    both = (mpd.site_uuid, normal.site_uuid)
    assert sorted(c.execute(entries, both)) == sorted(normal.conn.execute(entries, both))
    assert c.execute("SELECT count(*) FROM contact_method WHERE value LIKE '%0199%'"
                     ).fetchone()[0] == 0
    assert {a for (a,) in c.execute("SELECT audience FROM stream")} <= {"all", "CCF,MPD", "MPD"}
    # the replicas it learns of are those a normal sync names
    sites = "SELECT uuid, agency, device FROM site WHERE uuid NOT IN (?, ?)"
    assert sorted(c.execute(sites, both)) == sorted(normal.conn.execute(sites, both))
    assert c.execute("SELECT count(*) FROM device_token").fetchone()[0] == 0
    # the file itself holds no trace of what was withheld (free pages included)
    mpd.close()
    raw = (tmp_path / "mpd.db").read_bytes()
    assert b"Informant" not in raw and b"Covert" not in raw
    normal.close()


def test_what_a_laptop_wrote_before_its_first_sync_is_kept_and_sent(hub, tmp_path,
                                                                     low_threshold):
    laptop = Store.create(tmp_path / "early.db", "Clark County Fire", "CCF", device="early")
    cid = laptop.add("contact", {"name": "Field Notes Contact", "agency": "CCF",
                                 "phone": "360 555 0177"})
    laptop.edit(cid, {"title": "Volunteer"})
    result = first_sync(laptop, hub["url"], hub["ccf"])
    assert result.snapshot == "adopted"
    assert laptop.get(cid).values["title"] == "Volunteer"
    assert result.sent.applied >= 2
    assert laptop.search("0177")[0].title == "Field Notes Contact"
    # its own changes are its own stream again: the next write follows them
    own = sum(seq for (origin, _), seq in vector(laptop.conn).items()
              if origin == laptop.site_uuid)
    assert own >= 3
    with Store.open(hub["path"]) as h:
        assert h.get(cid).values["title"] == "Volunteer"
        assert h.dump() == laptop.dump()
    laptop.close()


def two_laptops_from_snapshots_retitle(hub, tmp_path):
    """Laptops a and b start from snapshots, then both retitle the duty contact."""
    a = Store.create(tmp_path / "a.db", "Clark County Fire", "CCF", device="a")
    b = Store.create(tmp_path / "b.db", "Clark County Fire", "CCF", device="b")
    assert first_sync(a, hub["url"], hub["ccf"]).snapshot == "adopted"
    assert first_sync(b, hub["url"], hub["ccf2"]).snapshot == "adopted"
    duty = hub["ids"]["duty"]
    a.edit(duty, {"title": "Night shift"})
    b.edit(duty, {"title": "Day shift"})
    return a, b, duty


def test_after_a_snapshot_edits_and_conflicts_flow_as_usual(hub, tmp_path, low_threshold):
    a, b, duty = two_laptops_from_snapshots_retitle(hub, tmp_path)
    new = b.add("contact", {"name": "Harbor Liaison", "agency": "CCF"})
    for _ in range(2):
        # no longer fresh: normal syncs from now on
        assert first_sync(a, hub["url"], hub["ccf"]).snapshot == ""
        first_sync(b, hub["url"], hub["ccf2"])
    assert a.dump() == b.dump()
    with Store.open(hub["path"]) as h:
        assert h.dump() == a.dump()
    conflicts = [c for c in dump(a)["conflicts"] if c["record"] == duty]
    assert len(conflicts) == 1
    assert a.get(new).title == "Harbor Liaison"
    a.close()
    b.close()


def test_a_conflict_resolved_after_a_snapshot_stays_resolved_through_later_edits(
        hub, tmp_path, low_threshold):
    from fieldcoord.store.conflicts import open_conflicts, resolve
    a, b, duty = two_laptops_from_snapshots_retitle(hub, tmp_path)
    for _ in range(2):
        first_sync(a, hub["url"], hub["ccf"])
        first_sync(b, hub["url"], hub["ccf2"])
    mine = [c for c in open_conflicts(a) if c.record == duty]
    assert len(mine) == 1
    with a.transaction():
        resolve(a, mine[0].id, "current")
    a.edit(duty, {"title": "Evening shift"})        # this replica's own write, after resolving
    for _ in range(2):
        first_sync(a, hub["url"], hub["ccf"])
        first_sync(b, hub["url"], hub["ccf2"])
    assert [c for c in open_conflicts(b) if c.record == duty] == []
    assert b.get(duty).values["title"] == "Evening shift"
    assert a.dump() == b.dump()
    a.close()
    b.close()


@pytest.mark.parametrize("damage, why", [("checksum", "damaged"), ("truncated", "damaged"),
                                         ("schema", "schema version")])
def test_a_damaged_or_unusable_download_leaves_the_database_untouched(
        hub, tmp_path, monkeypatch, low_threshold, damage, why):
    import hashlib
    import sqlite3
    real = snapshot.build

    def damaged(*args):
        built = real(*args)
        if damage == "checksum":
            return snapshot.Built(built.path, built.size, "0" * 64)
        if damage == "truncated":
            return snapshot.Built(built.path, built.size + 4096, built.sha256)
        # made by a newer fieldcoord
        c = sqlite3.connect(built.path)
        c.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                  "VALUES ('fieldcoord', '9999_future', '2030-01-01')")
        c.commit()
        c.close()
        data = built.path.read_bytes()
        return snapshot.Built(built.path, len(data), hashlib.sha256(data).hexdigest())
    monkeypatch.setattr(snapshot, "build", damaged)
    laptop = Store.create(tmp_path / "laptop.db", "Clark County Fire", "CCF", device="laptop")
    laptop.add("contact", {"name": "Kept Anyway", "agency": "CCF"})
    before = laptop.dump()
    peer = HttpPeer(hub["url"], hub["ccf"])
    adopted, said = snapshot.bootstrap(laptop, peer)
    assert adopted is None and why in said
    assert laptop.dump() == before
    assert not list(tmp_path.glob("laptop.db.snapshot*"))
    # a sync then goes the normal way and ends complete
    result = sync(laptop, peer)
    peer.close()
    assert why in result.snapshot
    with Store.open(hub["path"]) as h:
        assert h.dump() == laptop.dump()
    laptop.close()


def test_a_snapshot_needs_a_valid_token(hub):
    r = requests.post(hub["url"] + "/v1/snapshot", data=b"", timeout=10)
    assert r.status_code == 401
    assert not list(hub["path"].parent.glob("hub.db.snapshot-*"))


def test_a_small_hub_or_a_replica_that_synced_before_takes_the_normal_path(hub, tmp_path,
                                                                           monkeypatch):
    laptop = Store.create(tmp_path / "laptop.db", "Clark County Fire", "CCF", device="laptop")
    assert first_sync(laptop, hub["url"], hub["ccf"]).snapshot == ""     # below the threshold
    monkeypatch.setattr(snapshot, "SNAPSHOT_AT", 1)
    assert not snapshot.is_fresh(laptop)
    laptop.close()


def test_the_snapshot_names_no_replica_a_normal_sync_would_not(hub, tmp_path):
    import sqlite3
    with Store.open(hub["path"]) as h:
        with h.transaction():
            h.conn.execute("INSERT INTO site (uuid, agency, device) "
                           "VALUES ('0b5e55ed-0000-4000-8000-000000000000', 'XYZ', 'ghost-pc')")
        built = snapshot.build(h.conn, "MPD", hub["path"], h.site_uuid)
    try:
        c = sqlite3.connect(built.path)
        devices = {d for (d,) in c.execute("SELECT device FROM site")}
        assert "ghost-pc" not in devices and "hub" in devices
        assert c.execute("SELECT count(*) FROM device_token").fetchone()[0] == 0
        assert dict(c.execute("SELECT key, value FROM meta")) == {
            "snapshot_agency": "MPD", "snapshot_site": h.site_uuid,
            "snapshot_search": "cleared"}
        c.close()
        assert b"ghost-pc" not in built.path.read_bytes()
    finally:
        built.path.unlink()


def test_another_connection_open_on_the_database_writes_as_this_replica(hub, tmp_path,
                                                                        low_threshold):
    """The app keeps its own Store open while a worker syncs: after the snapshot is put in
    place it sees the new contents and writes as this replica, not as the hub."""
    laptop = Store.create(tmp_path / "app.db", "Clark County Fire", "CCF", device="app")
    ui = Store.open(tmp_path / "app.db")
    assert first_sync(laptop, hub["url"], hub["ccf"]).snapshot == "adopted"
    assert ui.get(hub["ids"]["dana"]).title == "Dana Whitfield"
    cid = ui.add("contact", {"name": "Added In The App", "agency": "CCF"})
    origin = ui.conn.execute(f"SELECT s.uuid FROM {WHOLE_LOG} c JOIN site s ON s.ord = c.site "
                             "WHERE c.rid = ?", (cid,)).fetchone()[0]
    assert origin == laptop.site_uuid
    first_sync(laptop, hub["url"], hub["ccf"])
    with Store.open(hub["path"]) as h:
        assert h.get(cid).title == "Added In The App"
        assert h.dump() == ui.dump()
    ui.close()
    laptop.close()


def test_an_agency_that_may_see_nothing_gets_403_and_no_file(tmp_path):
    from fieldcoord.sync.http import PeerError
    path = tmp_path / "private-hub.db"
    with Store.create(path, "Clark County Fire", "CCF", device="hub") as h:
        h.add("contact", {"name": "Informant Line", "agency": "CCF", "scope": "private"})
        with h.transaction():
            # a hub holding only changes private to CCF
            h.conn.execute("DELETE FROM change WHERE stream IN "
                           "(SELECT id FROM stream WHERE audience <> 'CCF')")
            h.conn.execute("DELETE FROM stream WHERE audience <> 'CCF'")
            _, token = tokens.issue(h.conn, "MPD", "mpd-hub")
    url, stop = start_in_thread(path)
    try:
        peer = HttpPeer(url, token)
        with pytest.raises(PeerError) as e:
            peer.snapshot(tmp_path / "out.db")
        peer.close()
        assert e.value.status == 403 and "devices of CCF only" in str(e.value)
        assert not list(tmp_path.glob("private-hub.db.snapshot-*"))
    finally:
        stop()


def test_a_failure_while_adopting_leaves_the_old_database_and_no_files(hub, tmp_path,
                                                                       monkeypatch,
                                                                       low_threshold):
    laptop = Store.create(tmp_path / "cut.db", "Clark County Fire", "CCF", device="cut")
    cid = laptop.add("contact", {"name": "Written Offline", "agency": "CCF"})
    before = laptop.dump()

    def dies(*args, **kw):
        raise RuntimeError("power cut")
    monkeypatch.setattr(snapshot, "apply_batch", dies)
    with pytest.raises(RuntimeError):
        first_sync(laptop, hub["url"], hub["ccf"])
    assert laptop.dump() == before
    assert sorted(p.name for p in tmp_path.glob("cut.db*")) == ["cut.db", "cut.db-shm",
                                                               "cut.db-wal"]
    monkeypatch.undo()
    monkeypatch.setattr(snapshot, "SNAPSHOT_AT", 1)
    assert first_sync(laptop, hub["url"], hub["ccf"]).snapshot == "adopted"
    assert laptop.get(cid).title == "Written Offline"
    laptop.close()


def test_a_download_that_fills_the_disk_falls_back_to_an_ordinary_sync(hub, tmp_path,
                                                                       monkeypatch,
                                                                       low_threshold):
    import errno
    laptop = Store.create(tmp_path / "full.db", "Clark County Fire", "CCF", device="full")
    real = HttpPeer.snapshot

    def no_room(self, path, *args, **kw):
        real(self, path, *args, **kw)
        raise OSError(errno.ENOSPC, "No space left on device", str(path))
    monkeypatch.setattr(HttpPeer, "snapshot", no_room)
    result = first_sync(laptop, hub["url"], hub["ccf"])
    assert "the disk is full" in result.snapshot and "Errno" not in result.snapshot
    assert not list(tmp_path.glob("full.db.snapshot*")), "the partial download is gone"
    with Store.open(hub["path"]) as h:
        assert h.dump() == laptop.dump(), "the ordinary sync brought everything"
    laptop.close()


def test_a_replica_named_only_inside_entries_stays_in_the_snapshot(tmp_path):
    """A replica may be named only inside what others wrote: as the writer of a version an
    entry replaced, or of a field's current version, its own streams withheld from the
    partner. Its site stays in the partner's snapshot (or the copy could not be read); one
    named nowhere is dropped."""
    import sqlite3
    h = Store.create(tmp_path / "hub.db", "Clark County Fire", "CCF", device="hub")
    try:
        h.add("agency", {"name": "Metro Police Department", "code": "MPD"})
        rid = h.add("contact", {"name": "Quiet Line", "agency": "CCF", "scope": "all",
                                "title": "Dispatcher"})
        uuids = {"in-cells": "0b5e55ed-0000-4000-8000-00000000000a",
                 "in-versions": "0b5e55ed-0000-4000-8000-00000000000b",
                 "nowhere": "0b5e55ed-0000-4000-8000-00000000000c"}
        with h.transaction():
            ords = {}
            for name, uuid in uuids.items():
                ords[name] = h.conn.execute(
                    "INSERT INTO site (uuid, agency, device) VALUES (?, 'CCF', ?)",
                    (uuid, name)).lastrowid
            # (as the history of a record written privately elsewhere, then shared, holds it)
            h.conn.execute("UPDATE change SET cells = ? WHERE rid = ?", (json.dumps(
                {"title": ["Dispatcher", 117723277646430208, ords["in-cells"]]},
                separators=(",", ":")), rid))
            h.conn.execute("UPDATE contact SET _ver = ? WHERE id = ?", (json.dumps(
                {"": [117723277646430208, 1],
                 "title": [117723277646430209, ords["in-versions"]]},
                separators=(",", ":")), rid))
        built = snapshot.build(h.conn, "MPD", tmp_path / "hub.db", h.site_uuid)
        try:
            c = sqlite3.connect(built.path)
            devices = {d for (d,) in c.execute("SELECT device FROM site")}
            c.close()
        finally:
            built.path.unlink()
        assert {"in-cells", "in-versions", "hub"} <= devices and "nowhere" not in devices
    finally:
        h.close()


def test_search_documents_travel_in_a_snapshot_only_with_the_rows_they_are_numbered_by(tmp_path):
    """A search document is numbered by its record's row: a snapshot keeps the documents when
    every record kept its row in the copy, and leaves them to the receiver to make again when
    a row was numbered anew (which SQLite allows a copy to do)."""
    import shutil
    import sqlite3

    from searchcheck import numbers_name_their_records
    h = Store.create(tmp_path / "hub.db", "Clark County Fire", "CCF", device="hub")
    try:
        for i in range(12):
            h.add("contact", {"name": f"Harbor Pilot {i}", "agency": "CCF", "scope": "all"})
        h.idle()
        built = snapshot.build(h.conn, "CCF", tmp_path / "hub.db", h.site_uuid)
        try:
            c = sqlite3.connect(built.path)
            assert c.execute("SELECT value FROM meta WHERE key = 'snapshot_search'"
                             ).fetchone() == ("kept",)
            assert numbers_name_their_records(c) == 13
            c.close()
        finally:
            built.path.unlink()
        copy = tmp_path / "copy.db"
        h.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copyfile(tmp_path / "hub.db", copy)
        c = sqlite3.connect(copy, isolation_level=None)
        assert snapshot._same_rows(h.conn, c)
        # two records trade their rows
        a, b = c.execute("SELECT rowid FROM contact ORDER BY rowid LIMIT 2").fetchall()
        c.execute("UPDATE contact SET rowid = -1 WHERE rowid = ?", a)
        c.execute("UPDATE contact SET rowid = ? WHERE rowid = ?", (a[0], b[0]))
        c.execute("UPDATE contact SET rowid = ? WHERE rowid = -1", b)
        assert not snapshot._same_rows(h.conn, c)
        c.close()
    finally:
        h.close()
