# SPDX-License-Identifier: GPL-3.0-or-later
"""Bundles on a USB stick: idempotent, truncation and corruption handled, receipts."""
import json

import pytest

from fieldcoord.core.errors import ValidationError
from fieldcoord.store import trust
from fieldcoord.sync import bundle
from fieldcoord.sync.bundle import export_bundle, import_bundle, remember_receipt


@pytest.fixture
def pair(replicas, monkeypatch):
    # every transaction keeps its signed head, so small chunks can end after any of them
    monkeypatch.setattr(trust, "HEAD_EVERY", 1)
    ccf, mpd = replicas("ccf"), replicas("mpd", "MPD")
    ccf.add("agency", {"name": "Metro Police Department", "code": "MPD"})
    for i in range(40):
        ccf.add("contact", {"name": f"Person {i}", "agency": "CCF", "phone": f"360 555 01{i:02d}",
                            "notes": "x" * 2000})
    ccf.add("contact", {"name": "Informant Line", "agency": "CCF", "scope": "private"})
    return ccf, mpd


def test_a_bundle_applies_once_however_often_imported(pair, tmp_path, monkeypatch):
    ccf, mpd = pair
    f = tmp_path / "to-mpd.fcb"
    export_bundle(ccf, f, "MPD")
    first = import_bundle(mpd, f)
    dump = mpd.dump()
    assert first.report.applied > 40 and "Informant" not in dump
    again = import_bundle(mpd, f)
    assert again.report.applied == 0 and mpd.dump() == dump
    assert json.loads(dump)["contact"][0]["name"].startswith("Person")


def test_truncated_and_corrupted_files(pair, tmp_path, monkeypatch):
    ccf, mpd = pair
    monkeypatch.setattr(bundle, "CHUNK_BYTES", 20_000)
    f = tmp_path / "b.fcb"
    counts = export_bundle(ccf, f, "MPD")
    assert counts["chunks"] >= 3
    data = f.read_bytes()
    cut = tmp_path / "cut.fcb"
    cut.write_bytes(data[: len(data) * 2 // 3])
    r = import_bundle(mpd, cut)
    assert r.truncated and 0 < r.chunks < counts["chunks"]
    mpd.conn.execute("PRAGMA integrity_check").fetchone()
    # a flipped byte in the first chunk: that chunk is refused, nothing of it applied
    bad = bytearray(data)
    start = data.index(b"CHUNK ")
    start = data.index(b"\n", start) + 50
    bad[start] ^= 0xFF
    other = tmp_path / "bad.fcb"
    other.write_bytes(bytes(bad))
    r2 = import_bundle(mpd, other)
    assert r2.corrupted == [1]
    # the whole, good file completes the import
    import_bundle(mpd, f)
    assert sum(1 for c in json.loads(mpd.dump())["contact"]) == 40


def test_receipts_make_the_next_bundle_hold_only_what_is_new(pair, tmp_path):
    ccf, mpd = pair
    f = tmp_path / "1.fcb"
    export_bundle(ccf, f, "MPD")
    receipt = import_bundle(mpd, f).receipt
    assert remember_receipt(ccf, receipt) == "MPD"
    ccf.add("contact", {"name": "New Person", "agency": "CCF"})
    g = tmp_path / "2.fcb"
    counts = export_bundle(ccf, g, "MPD")
    assert counts["changes"] == 1
    import_bundle(mpd, g)
    assert "New Person" in mpd.dump()


def test_refuses_files_that_are_not_bundles_or_for_another_agency(pair, tmp_path):
    ccf, mpd = pair
    junk = tmp_path / "junk.fcb"
    junk.write_text("hello")
    with pytest.raises(ValidationError, match="not a fieldcoord bundle"):
        import_bundle(mpd, junk)
    f = tmp_path / "ccf.fcb"
    export_bundle(ccf, f, "CCF")
    with pytest.raises(ValidationError, match="written for agency CCF"):
        import_bundle(mpd, f)


def test_a_large_bundle_into_a_new_replica_builds_its_indexes_once(pair, tmp_path, monkeypatch):
    from fieldcoord.store.replica import DEFERRABLE_INDEXES
    ccf, mpd = pair
    f = tmp_path / "to-mpd.fcb"
    export_bundle(ccf, f, "MPD")
    monkeypatch.setattr(bundle, "BATCH_BYTES", 1000)        # counts as large
    held_during = []

    def progress(label, done, total):
        held_during.append({r[0] for r in mpd.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index'")} & set(DEFERRABLE_INDEXES))

    import_bundle(mpd, f, progress=progress)
    assert held_during and held_during[0] == set()
    names = {r[0] for r in mpd.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert set(DEFERRABLE_INDEXES) <= names
    assert [h.title for h in mpd.search("Person 7")][0] == "Person 7"
    # the same bundle again brings nothing new
    assert bundle._incoming(mpd, json.loads(f.read_bytes().split(b"\n")[1])) == 0
