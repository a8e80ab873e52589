# SPDX-License-Identifier: GPL-3.0-or-later
"""The resource request workflow (ICS 213 RR) is kept by every replica: a move the workflow does
not allow is refused by the store that makes it and by every store that receives it, whatever
the order in which changes arrive, and a move that builds on a refused one is refused too."""
import json
import time

import pytest
from forge import position, signed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fieldcoord.core.errors import ValidationError
from fieldcoord.store import trust
from fieldcoord.store.exchange import (
    Batch,
    apply_batch,
    entry_digest,
    outgoing,
    sites_of,
    vector,
)
from fieldcoord.store.incoming import Entry
from fieldcoord.store.records import Versions
from fieldcoord.sync.engine import StorePeer, sync


def settle(*pairs):
    for _ in range(2):
        for a, b in pairs:
            sync(a, StorePeer(b))


def status(store, rid):
    return store.get(rid).values["status"]


def stream_of(store, origin):
    """Every entry of the streams `origin` wrote, as `store` holds them, and their sites."""
    since = {k: (0 if k[0] == origin else v) for k, v in vector(store.conn).items()}
    out = []
    store.sign_heads()   # the newest entries are signed when sent
    for b in outgoing(store.conn, since):
        out.append((b, sites_of(store.conn, b)))
    return out


def forged_move(evil, rid, to, prev=None):
    """A change of request `rid`'s status to `to`, signed by the attacker's genuine device,
    naming as replaced the status version `evil` holds (or `prev`, a (hlc, site UUID)).
    Stamped in a millisecond of its own, as a device's clock ticks between two writes."""
    time.sleep(0.002)
    row = evil.conn.execute("SELECT scope, _ver FROM resource_request WHERE id = ?",
                            (rid,)).fetchone()
    ver = Versions.load(row[1])

    def uuid(v):
        return [v[0], evil.conn.execute("SELECT uuid FROM site WHERE ord = ?",
                                        (v[1],)).fetchone()[0]]
    before = list(prev) if prev else uuid(ver.of("status"))
    cells = {"status": [to, *before], "_scope": [row[0], *uuid(ver.of("scope"))]}
    return signed(evil, "all", [("resource_request", rid, cells)])


@pytest.fixture
def world(replicas):
    """CCF's hub and laptop, MPD's honest laptop and an MPD device turned hostile (a genuine
    key), all holding one request of CCF's that partners may edit."""
    hub, laptop = replicas("ccf-hub"), replicas("ccf-laptop")
    mpd, evil = replicas("mpd", "MPD"), replicas("mpd-evil", "MPD")
    hub.add("agency", {"name": "Metro Police Department", "code": "MPD"})
    rid = laptop.add("request", {"requesting_agency": "CCF", "description": "Rescue boat",
                                 "number": "CCF-2026-001", "priority": "urgent",
                                 "scope": "all+edit"})
    settle((laptop, hub), (mpd, hub), (evil, hub))
    return hub, laptop, mpd, evil, rid


def test_the_store_refuses_a_skipped_step_with_a_clear_error(world):
    hub, laptop, mpd, evil, rid = world
    with pytest.raises(ValidationError) as e:
        laptop.edit(rid, {"status": "returned"})
    assert "request CCF-2026-001 is requested and cannot go to returned" in str(e.value)
    assert "acknowledged, cancelled, unable to fill" in str(e.value)
    laptop.edit(rid, {"status": "acknowledged"})
    with pytest.raises(ValidationError) as e:
        laptop.edit(rid, {"status": "committed"})
    assert "names the agency supplying it" in str(e.value)
    with pytest.raises(ValidationError) as e:
        laptop.edit(rid, {"status": "offered"})
    assert "earlier versions" in str(e.value)
    assert status(laptop, rid) == "acknowledged"


def test_a_partners_skipped_step_is_refused_by_every_receiver(world):
    hub, laptop, mpd, evil, rid = world
    batch = forged_move(evil, rid, "returned")
    report = apply_batch(hub, batch, sites_of(evil.conn, batch))
    assert report.refused and "cannot go to returned" in report.refused[0][1]
    assert status(hub, rid) == "requested"
    settle((laptop, hub), (mpd, hub))
    assert status(laptop, rid) == status(mpd, rid) == "requested"
    # the honest workflow goes on, as if the forgery had never been
    mpd.edit(rid, {"status": "acknowledged"})
    settle((mpd, hub), (laptop, hub))
    assert status(laptop, rid) == "acknowledged"
    assert laptop.dump() == hub.dump() == mpd.dump()


def test_a_step_built_on_a_refused_step_is_refused_too(world):
    hub, laptop, mpd, evil, rid = world
    first = forged_move(evil, rid, "on_scene")
    apply_batch(evil, first, sites_of(evil.conn, first))    # the attacker holds its own lie
    entry = first[0]
    # on scene -> demobilised is a step the workflow allows, but it follows a refused one
    second = forged_move(evil, rid, "demobilized", prev=(entry.hlc, entry.site))
    reports = [apply_batch(hub, b, sites_of(evil.conn, b)) for b in (first, second)]
    assert status(hub, rid) == "requested"
    assert "cannot go to on scene" in reports[0].refused[0][1]
    assert "follows a change that was refused" in reports[1].refused[0][1]
    assert hub.conn.execute("SELECT COUNT(*) FROM change WHERE rid = ? AND status = 1",
                            (rid,)).fetchone()[0] == 2


def test_a_forged_step_that_arrives_before_what_it_replaced_is_undone_when_that_arrives(
        world, replicas):
    hub, laptop, mpd, evil, rid = world
    laptop.edit(rid, {"status": "acknowledged"})
    settle((laptop, hub), (evil, hub))
    forged = forged_move(evil, rid, "returned")          # acknowledged -> returned: a skip
    # a new replica of CCF gets the attacker's change before the laptop's stream, which
    # holds the request's creation and its acknowledgement
    fresh = replicas("ccf-new")
    for b, sites in stream_of(hub, hub.site_uuid):
        apply_batch(fresh, b, sites)
    apply_batch(fresh, forged, sites_of(evil.conn, forged))
    for b, sites in stream_of(hub, laptop.site_uuid):
        apply_batch(fresh, b, sites)
    assert status(fresh, rid) == "acknowledged"
    apply_batch(hub, forged, sites_of(evil.conn, forged))
    assert status(hub, rid) == "acknowledged"
    settle((fresh, hub), (laptop, hub))
    assert fresh.dump() == hub.dump() == laptop.dump()


def test_an_honest_step_that_arrives_before_what_it_replaced_stands(world, replicas):
    hub, laptop, mpd, evil, rid = world
    laptop.edit(rid, {"status": "acknowledged"})
    settle((laptop, hub), (mpd, hub))
    mpd.edit(rid, {"status": "committed", "supplying_agency": "MPD"})
    settle((mpd, hub))
    fresh = replicas("ccf-new")
    for b, sites in stream_of(hub, hub.site_uuid) + stream_of(hub, mpd.site_uuid):
        apply_batch(fresh, b, sites)
    for b, sites in stream_of(hub, laptop.site_uuid):
        apply_batch(fresh, b, sites)
    assert status(fresh, rid) == "committed"
    assert json.loads(fresh.dump())["request"] == \
        json.loads(hub.dump())["request"]


def waiting(store, rid):
    return store.conn.execute("SELECT COUNT(*) FROM change WHERE rid = ? AND status = 2",
                              (rid,)).fetchone()[0]


def test_a_step_waits_unapplied_until_what_it_replaced_arrives_and_travels_whole(
        world, replicas):
    hub, laptop, mpd, evil, rid = world
    laptop.edit(rid, {"status": "acknowledged"})
    settle((laptop, hub), (mpd, hub))
    mpd.edit(rid, {"status": "committed", "supplying_agency": "MPD"})
    settle((mpd, hub))
    fresh, further = replicas("ccf-new"), replicas("ccf-further")
    # MPD's commit, before the laptop's stream with the creation and the acknowledgement
    for b, sites in stream_of(hub, hub.site_uuid) + stream_of(hub, mpd.site_uuid):
        apply_batch(fresh, b, sites)
    assert waiting(fresh, rid) == 1
    # passed on whole: a replica that has the acknowledgement applies it at once
    for b, sites in stream_of(hub, hub.site_uuid) + stream_of(hub, laptop.site_uuid):
        apply_batch(further, b, sites)
    for b, sites in stream_of(fresh, mpd.site_uuid):
        assert all(e.status == 0 for e in b)
        apply_batch(further, b, sites)
    assert status(further, rid) == "committed" and waiting(further, rid) == 0
    for b, sites in stream_of(hub, laptop.site_uuid):
        apply_batch(fresh, b, sites)
    assert status(fresh, rid) == "committed" and waiting(fresh, rid) == 0
    assert fresh.dump() == further.dump()


def test_a_step_naming_a_version_that_never_was_never_applies(world):
    hub, laptop, mpd, evil, rid = world
    laptop.edit(rid, {"status": "acknowledged"})
    settle((laptop, hub), (evil, hub))
    # "it was on scene": a predecessor the attacker made up, so the skip cannot be judged
    made_up = (10**15, laptop.site_uuid)
    forged = forged_move(evil, rid, "demobilized", prev=made_up)
    report = apply_batch(hub, forged, sites_of(evil.conn, forged))
    assert report.applied == 1 and not report.refused
    assert status(hub, rid) == "acknowledged" and waiting(hub, rid) == 1
    assert json.loads(hub.dump())["conflicts"] == []
    settle((laptop, hub))
    assert status(laptop, rid) == "acknowledged" and waiting(laptop, rid) == 1
    assert laptop.dump() == hub.dump()


def test_the_history_says_who_moved_the_request_and_when(world):
    hub, laptop, mpd, evil, rid = world
    mpd.add("resource", {"name": "Boat 7", "agency": "MPD", "status": "available",
                         "scope": "all"})
    laptop.edit(rid, {"status": "acknowledged"})
    settle((laptop, hub), (mpd, hub))
    boat = mpd.list("resource")[0].id
    mpd.edit(rid, {"status": "committed", "supplying_agency": "MPD",
                   "committed_resources": [boat]})
    assert mpd.get(boat).values["status"] == "assigned"       # the resource follows
    settle((mpd, hub), (laptop, hub))
    steps = laptop.request_history(rid)
    assert [(s.before, s.status, s.agency, s.device) for s in steps] == [
        (None, "requested", "CCF", "ccf-laptop"),
        ("requested", "acknowledged", "CCF", "ccf-laptop"),
        ("acknowledged", "committed", "MPD", "mpd")]
    assert steps[0].at <= steps[1].at <= steps[2].at
    for s in ("en_route", "on_scene", "demobilized", "returned"):
        mpd.edit(rid, {"status": s})
    assert mpd.get(boat).values["status"] == "available"
    assert [s.status for s in mpd.request_history(rid)][-4:] == \
        ["en_route", "on_scene", "demobilized", "returned"]
    with pytest.raises(ValidationError):
        mpd.edit(rid, {"status": "requested"})          # a returned request has ended


# ---------------------------------------------------------------- any order of arrival
MOVES = st.permutations(range(4))


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(order=MOVES)
def test_any_order_of_arrival_gives_the_same_verdicts(replicas_factory, order):
    hub, laptop, mpd, evil, rid, parts = replicas_factory()
    fresh = replicas_factory.fresh()
    # parts: the laptop's stream, MPD's stream, the forgeries, the hub's stream
    for i in order:
        for b, sites in parts[i]:
            apply_batch(fresh, b, sites)
    want = json.loads(hub.dump())
    got = json.loads(fresh.dump())
    assert got["request"] == want["request"]
    assert got["request"][0]["status"] == "committed"


@pytest.fixture
def replicas_factory(tmp_path_factory):
    """One scene, made once per test: a request moved by CCF and MPD, and an attacker's two
    forgeries (a skip, and a step built on it); `fresh()` gives a new CCF replica each time."""
    from region import Region
    root = tmp_path_factory.mktemp("wf")
    region = Region()
    hub = region.make(root / "hub.db", "CCF", device="ccf-hub")
    laptop = region.make(root / "laptop.db", "CCF", device="ccf-laptop")
    mpd = region.make(root / "mpd.db", "MPD", device="mpd")
    evil = region.make(root / "evil.db", "MPD", device="mpd-evil")
    hub.add("agency", {"name": "Metro Police Department", "code": "MPD"})
    rid = laptop.add("request", {"requesting_agency": "CCF", "description": "Pump",
                                 "scope": "all+edit"})
    settle((laptop, hub), (mpd, hub), (evil, hub))
    laptop.edit(rid, {"status": "acknowledged"})
    settle((laptop, hub), (mpd, hub), (evil, hub))
    mpd.edit(rid, {"status": "committed", "supplying_agency": "MPD"})
    settle((mpd, hub))
    skip = forged_move(evil, rid, "on_scene")
    apply_batch(evil, skip, sites_of(evil.conn, skip))
    entry = skip[0]
    onward = forged_move(evil, rid, "demobilized", prev=(entry.hlc, entry.site))
    apply_batch(evil, onward, sites_of(evil.conn, onward))
    for b in (skip, onward):
        apply_batch(hub, b, sites_of(evil.conn, b))
    parts = [stream_of(hub, laptop.site_uuid), stream_of(hub, mpd.site_uuid),
             stream_of(hub, evil.site_uuid), stream_of(hub, hub.site_uuid)]
    count = [0]

    def make():
        return hub, laptop, mpd, evil, rid, parts

    def fresh():
        count[0] += 1
        return region.make(root / f"fresh{count[0]}.db", "CCF", device=f"fresh{count[0]}")
    make.fresh = fresh
    yield make
    for s in region.replicas:
        s.close()


def stamped(receiver, evil, rid, items):
    """The attacker's entries [(hlc, cells)] about request `rid`, stamped as it likes, next
    in its stream as `receiver` holds it, with a head its genuine device key signs."""
    seq, h = position(receiver, evil.site_uuid, "all")
    entries = []
    for hlc, cells in items:
        seq += 1
        e = Entry(evil.site_uuid, "all", seq, hlc, "resource_request", rid, hlc,
                  evil.site_uuid, cells)
        h = trust.chain(h, entry_digest(e))
        entries.append(e)
    sig = trust.sign_head(evil.device_seed(), evil.site_uuid, "all", seq, h)
    return Batch(entries, {(evil.site_uuid, "all"): [(seq, sig)]})


def test_two_changes_claiming_one_version_with_different_statuses_are_both_refused(world):
    hub, laptop, mpd, evil, rid = world
    one = forged_move(evil, rid, "acknowledged")[0]
    other = forged_move(evil, rid, "cancelled")[0]
    # both stamped with the first's version, as only a forger can write them
    batch = stamped(hub, evil, rid, [(one.hlc, one.cells), (one.hlc, other.cells)])
    report = apply_batch(hub, batch, sites_of(evil.conn, batch))
    assert status(hub, rid) == "requested"
    assert len(report.refused) == 2
    assert "same version different statuses" in report.refused[0][1]


def test_a_long_forged_chain_running_backwards_in_time_is_refused_not_a_crash(world):
    hub, laptop, mpd, evil, rid = world
    first = forged_move(evil, rid, "acknowledged")[0]
    scope = first.cells["_scope"]
    base = first.hlc
    # 1,000 moves, each naming as replaced the one stamped just after it: judged oldest first,
    # each waits on the next, a chain as deep as the batch is long
    items = [(base + i, {"status": ["acknowledged" if i % 2 else "requested",
                                    base + i + 1, evil.site_uuid], "_scope": scope})
             for i in range(1000)]
    batch = stamped(hub, evil, rid, items)
    report = apply_batch(hub, batch, sites_of(evil.conn, batch))
    assert status(hub, rid) == "requested"
    assert any("run back further" in why for _, why in report.refused)
    assert hub.dump() == json.dumps(json.loads(hub.dump()), sort_keys=True,
                                    ensure_ascii=False, indent=1) + "\n"
