# SPDX-License-Identifier: GPL-3.0-or-later
"""Merging changes between replicas: convergence, conflicts, deletes, sharing, permissions."""
import json

from fieldcoord.store.exchange import apply_batch, outgoing, sites_of, vector
from fieldcoord.sync.engine import StorePeer, sync


def pair_sync(a, b):
    """a syncs with b (pull then push), as a laptop with its hub."""
    return sync(a, StorePeer(b))


def agency_of_three(replicas):
    """A hub and two laptops of CCF that all hold one contact; returns them and its id."""
    hub, a, b = replicas("hub"), replicas("a"), replicas("b")
    cid = a.add("contact", {"name": "Dana", "agency": "CCF"})
    pair_sync(a, hub)
    pair_sync(b, hub)
    return hub, a, b, cid


def settle(hub, a, b):
    for _ in range(2):
        pair_sync(a, hub)
        pair_sync(b, hub)


def dump(store):
    return json.loads(store.dump())


def open_conflicts(store):
    return dump(store)["conflicts"]


def test_a_new_laptop_of_the_agency_joins_without_a_second_agency_record(replicas):
    hub, laptop = replicas("hub"), replicas("laptop")
    hub.add("contact", {"name": "Dana Whitfield", "agency": "CCF", "phone": "360 555 0100"})
    pair_sync(laptop, hub)
    assert hub.dump() == laptop.dump()
    assert [a["code"] for a in dump(laptop)["agency"]] == ["CCF"]
    assert open_conflicts(laptop) == []
    assert laptop.search("555 0100")[0].title == "Dana Whitfield"


def test_concurrent_edits_keep_the_loser_as_a_conflict_everywhere(replicas):
    hub, a, b, cid = agency_of_three(replicas)
    a.edit(cid, {"title": "Captain"})
    b.edit(cid, {"title": "Chief"})
    for _ in range(2):
        for r in (a, b):
            pair_sync(r, hub)
    assert a.dump() == b.dump() == hub.dump()
    conflicts = open_conflicts(hub)
    assert len(conflicts) == 1 and conflicts[0]["field"] == "title"
    winner = dump(hub)["contact"][0]["title"]
    assert {winner, conflicts[0]["value"]} == {"Captain", "Chief"}
    # a later edit by someone who saw the winner replaces it, the conflict stays open
    a.edit(cid, {"title": "Deputy Chief"})
    pair_sync(a, hub)
    pair_sync(b, hub)
    assert dump(b)["contact"][0]["title"] == "Deputy Chief"
    assert len(open_conflicts(b)) == 1


def test_sequential_edits_are_no_conflict(replicas):
    hub, a, b, cid = agency_of_three(replicas)
    b.edit(cid, {"title": "Chief"})
    pair_sync(b, hub)
    pair_sync(a, hub)
    a.edit(cid, {"title": "Captain"})
    pair_sync(a, hub)
    pair_sync(b, hub)
    assert dump(b)["contact"][0]["title"] == "Captain"
    assert open_conflicts(b) == [] and a.dump() == b.dump() == hub.dump()


def test_an_edit_concurrent_with_a_delete_is_kept_as_a_conflict(replicas):
    hub, a, b, cid = agency_of_three(replicas)
    a.delete(cid)
    b.edit(cid, {"title": "Chief"})
    settle(hub, a, b)
    assert a.dump() == b.dump() == hub.dump()
    assert dump(a)["contact"] == []
    conflicts = open_conflicts(a)
    assert len(conflicts) == 1 and conflicts[0]["reason"] == "deleted"
    assert conflicts[0]["value"] == {"title": "Chief"}
    # restoring brings the edit back and closes the conflict
    a.restore(cid)
    pair_sync(a, hub)
    pair_sync(b, hub)
    assert dump(b)["contact"][0]["title"] == "Chief" and open_conflicts(b) == []


def test_two_deletes_that_saw_different_tied_edits_agree_everywhere(replicas, monkeypatch):
    """Two laptops edit a title in the same millisecond, then each deletes the record having
    seen only its own edit. What the two deletes saw is merged the same on every replica,
    although each replica numbers the sites in its own order (convergence seed 88)."""
    from fieldcoord.core import hlc
    hub, a, b, cid = agency_of_three(replicas)
    frozen = hlc.wall_ms() + 60_000
    monkeypatch.setattr(hlc, "wall_ms", lambda: frozen)
    a.edit(cid, {"title": "Captain"})
    b.edit(cid, {"title": "Chief"})
    monkeypatch.undo()
    a.delete(cid)
    b.delete(cid)
    settle(hub, a, b)
    assert a.dump() == b.dump() == hub.dump()
    assert dump(a)["contact"] == []


def test_writing_the_losing_value_again_closes_the_conflict_on_the_writer_too(replicas,
                                                                            monkeypatch):
    """A laptop's value lost a concurrent edit; the laptop then writes that value again over
    the winner. Both values left are the same, so no replica keeps a conflict: the writer
    judges its own edit as the receivers judge it (convergence, long run)."""
    from fieldcoord.core import hlc
    hub, a, b, cid = agency_of_three(replicas)
    now = hlc.wall_ms() + 60_000
    monkeypatch.setattr(hlc, "wall_ms", lambda: now)
    a.edit(cid, {"title": "Medic 1"})
    monkeypatch.setattr(hlc, "wall_ms", lambda: now + 5)
    b.edit(cid, {"title": "Medic 0"})            # later: wins
    monkeypatch.undo()
    settle(hub, a, b)
    assert [c["value"] for c in open_conflicts(a)] == ["Medic 1"]
    a.edit(cid, {"title": "Medic 1"})            # over the winner, the lost value again
    assert open_conflicts(a) == []
    settle(hub, a, b)
    assert a.dump() == b.dump() == hub.dump()
    assert dump(hub)["contact"][0]["title"] == "Medic 1" and open_conflicts(hub) == []


def test_replacing_one_of_two_heads_of_the_same_value_leaves_the_other_as_a_conflict_everywhere(
        replicas):
    """Two laptops write the same value concurrently: two heads, one value, no conflict. The
    first laptop then writes another value, replacing the head it holds as current; the other
    head is now a different value. The writer counts that conflict as every receiver does
    (convergence, long run: hub and laptop disagreed about the conflict before)."""
    hub, a, b, cid = agency_of_three(replicas)
    a.edit(cid, {"title": "Chief"})
    b.edit(cid, {"title": "Chief"})              # concurrent, the same value
    settle(hub, a, b)
    assert open_conflicts(a) == [] and dump(a)["contact"][0]["title"] == "Chief"
    a.edit(cid, {"title": "Captain"})
    assert [c["value"] for c in open_conflicts(a)] in ([], ["Chief"])
    settle(hub, a, b)
    assert a.dump() == b.dump() == hub.dump()
    assert dump(hub)["contact"][0]["title"] == "Captain"


def test_deletes_do_not_come_back(replicas):
    hub, a, b, cid = agency_of_three(replicas)
    b.delete(cid)
    pair_sync(b, hub)
    for _ in range(3):
        pair_sync(a, hub)
    assert dump(a)["contact"] == [] and a.get(cid).deleted


def test_applying_a_batch_twice_changes_nothing(replicas):
    a, b = replicas("a"), replicas("b")
    a.add("contact", {"name": "Dana", "agency": "CCF", "email": "dana@ccf.example"})
    a.sign_heads()   # the newest entries are signed when sent
    batches = list(outgoing(a.conn, {k: 0 for k in vector(a.conn)}))
    for batch in batches:
        apply_batch(b, batch, sites_of(a.conn, batch))
    first = b.dump()
    changes = b.conn.execute("SELECT count(*) FROM change").fetchone()[0]
    for batch in batches:
        report = apply_batch(b, batch, sites_of(a.conn, batch))
        assert report.applied == 0 and report.duplicates == len(batch)
    assert b.dump() == first
    assert b.conn.execute("SELECT count(*) FROM change").fetchone()[0] == changes


def test_private_records_never_reach_a_partner(replicas):
    ccf, mpd = replicas("ccf"), replicas("mpd", "MPD")
    ccf.add("agency", {"name": "Metro Police Department", "code": "MPD"})
    secret = ccf.add("contact", {"name": "Informant Line", "agency": "CCF", "scope": "private",
                                 "phone": "360 555 0199"})
    shared = ccf.add("contact", {"name": "Duty Officer", "agency": "CCF", "scope": "MPD"})
    pair_sync(mpd, ccf)
    names = [c["name"] for c in dump(mpd)["contact"]]
    assert names == ["Duty Officer"]
    assert mpd.search("555 0199") == [] and "Informant" not in mpd.dump()
    assert mpd.conn.execute("SELECT count(*) FROM change WHERE cells LIKE '%Informant%'"
                            ).fetchone()[0] == 0
    # sharing it later sends the whole record; making it private again takes it back
    ccf.edit(secret, {"scope": "all"})
    pair_sync(mpd, ccf)
    assert mpd.get(secret).values["name"] == "Informant Line"
    ccf.edit(secret, {"scope": "private"})
    pair_sync(mpd, ccf)
    assert "Informant" not in mpd.dump()
    assert mpd.get(shared).title == "Duty Officer"


def test_a_partner_cannot_change_a_read_only_record(replicas):
    ccf, mpd = replicas("ccf"), replicas("mpd", "MPD")
    ccf.add("agency", {"name": "Metro Police Department", "code": "MPD"})
    cid = ccf.add("contact", {"name": "Dana", "agency": "CCF"})
    op = ccf.add("operation", {"name": "Flood TF", "scope": "all+edit"})
    pair_sync(mpd, ccf)
    # forge an edit in MPD's log as a buggy or hostile replica would
    mpd.conn.execute("UPDATE contact SET owner = 'MPD' WHERE id = ?", (cid,))
    mpd.edit(cid, {"title": "Hacked"})
    mpd.edit(op, {"status": "closed"})            # allowed: the operation is shared for edit
    result = pair_sync(mpd, ccf)
    assert len(result.sent.refused) == 1
    assert "may not change" in result.sent.refused[0][1]
    assert ccf.get(cid).values["title"] is None
    assert ccf.get(op).values["status"] == "closed"


def test_resolving_a_conflict_closes_it_everywhere(replicas):
    from fieldcoord.store.conflicts import open_conflicts, resolve
    hub, a, b, cid = agency_of_three(replicas)
    a.edit(cid, {"title": "Captain"})
    b.edit(cid, {"title": "Chief"})
    settle(hub, a, b)
    (c,) = open_conflicts(b)
    loser = c.value
    resolve(b, c.id, keep=c.id)                 # keep the value that had lost
    assert b.get(cid).values["title"] == loser and open_conflicts(b) == []
    for _ in range(2):
        pair_sync(b, hub)
        pair_sync(a, hub)
    assert a.get(cid).values["title"] == loser
    assert open_conflicts(a) == [] and a.dump() == b.dump() == hub.dump()


def test_confirming_a_delete_closes_the_edited_while_deleted_conflict(replicas):
    from fieldcoord.store.conflicts import open_conflicts, resolve
    hub, a, b, cid = agency_of_three(replicas)
    a.delete(cid)
    b.edit(cid, {"title": "Chief"})
    settle(hub, a, b)
    (c,) = open_conflicts(a)
    assert c.reason == "deleted"
    resolve(a, c.id, keep="current")
    settle(hub, a, b)
    assert open_conflicts(b) == [] and b.get(cid).deleted and a.dump() == b.dump()


def test_a_clock_far_ahead_cannot_win_against_local_edits(replicas):
    from fieldcoord.core import hlc
    hub, a, b, cid = agency_of_three(replicas)
    year = 365 * 24 * 3600 * 1000
    b.conn.execute("UPDATE clock SET hlc = ?", (hlc.pack(hlc.wall_ms() + year),))
    b._forget_caches()
    b.edit(cid, {"title": "From the future"})
    a.edit(cid, {"title": "Captain"})
    pair_sync(b, hub)
    result = pair_sync(a, hub)
    assert result.received.skewed and max(result.received.skewed.values()) > year // 2
    settle(hub, a, b)
    assert a.dump() == b.dump() == hub.dump()
    assert dump(a)["contact"][0]["title"] == "Captain"
    conflicts = open_conflicts(a)
    assert [c["value"] for c in conflicts] == ["From the future"], "kept, not lost"
    # our clock did not follow the skewed one
    assert hlc.millis(a.conn.execute("SELECT hlc FROM clock").fetchone()[0]) \
        < hlc.wall_ms() + year // 2
    # and our next edit still wins
    a.edit(cid, {"title": "Battalion Chief"})
    settle(hub, a, b)
    assert dump(b)["contact"][0]["title"] == "Battalion Chief"


def test_a_partner_making_its_record_private_leaves_nothing_to_forward(replicas):
    ccf, mpd = replicas("ccf"), replicas("mpd", "MPD")
    mpd.add("agency", {"name": "Clark County Fire", "code": "CCF"})
    rid = mpd.add("contact", {"name": "Sgt Lee", "agency": "MPD"})
    pair_sync(ccf, mpd)
    mpd.edit(rid, {"scope": "private"})
    pair_sync(ccf, mpd)
    assert "Sgt Lee" not in ccf.dump()
    audiences = {a for (a,) in ccf.conn.execute("SELECT audience FROM stream")}
    assert all(a == "all" or "CCF" in a.split(",") for a in audiences), audiences


def test_a_record_made_private_and_shared_again_reaches_the_partner_whole(replicas):
    """Shared, made private, shared again: whether the partner syncs in between or only at the
    end, it ends with the whole record (not a row made from the last change alone, which was
    then dropped for lack of an owner) (long convergence run)."""
    for sync_between in (False, True):
        ccf, mpd = replicas(f"ccf{sync_between}"), replicas(f"mpd{sync_between}", "MPD")
        ccf.add("agency", {"name": "Metro Police Department", "code": "MPD"})
        rid = ccf.add("contact", {"name": "Dana Whitfield", "agency": "CCF", "title": "Chief"})
        if sync_between:
            pair_sync(mpd, ccf)
        ccf.edit(rid, {"scope": "private"})
        if sync_between:
            pair_sync(mpd, ccf)
            assert "Dana Whitfield" not in mpd.dump()
        ccf.edit(rid, {"scope": "all"})
        pair_sync(mpd, ccf)
        got = mpd.get(rid)
        assert (got.values["name"], got.values["title"], got.owner, got.scope) == \
            ("Dana Whitfield", "Chief", "CCF", "all")
        pair_sync(mpd, ccf)
        assert json.loads(mpd.dump())["contact"] == json.loads(ccf.dump())["contact"]


def test_a_partners_edit_concurrent_with_a_narrowing_reaches_the_owners_every_replica(replicas):
    """MPD edits a CCF contact shared +edit while CCF makes it private. MPD's hub drops the
    record when the narrowing arrives, but still holds its own edit: a CCF replica that gets
    that edit from MPD's hub must get it whole (CCF may see its own record), or it never
    learns it while CCF's hub did."""
    hub, laptop, mpd = replicas("ccf-hub"), replicas("ccf-laptop"), replicas("mpd-hub", "MPD")
    hub.add("agency", {"name": "Metro Police Department", "code": "MPD"})
    cid = hub.add("contact", {"name": "Dana", "agency": "CCF", "scope": "all+edit",
                              "title": "Chief"})
    pair_sync(laptop, hub)
    hub.edit(cid, {"scope": "private"})
    pair_sync(laptop, mpd)                   # MPD gets the record from the laptop
    mpd.edit(cid, {"title": "Captain"})      # relying on all+edit, as it saw it
    pair_sync(hub, mpd)                      # CCF's hub gets the edit; MPD drops the record
    assert mpd.conn.execute("SELECT COUNT(*) FROM contact WHERE id = ?", (cid,)).fetchone()[0] \
        == 0
    pair_sync(laptop, mpd)                   # the laptop gets MPD's edit from MPD's hub
    pair_sync(laptop, hub)
    assert dump(hub)["contact"][0]["title"] == dump(laptop)["contact"][0]["title"]
    assert hub.dump() == laptop.dump()
