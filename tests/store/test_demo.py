# SPDX-License-Identifier: GPL-3.0-or-later
"""The built-in demo directory: a whole, believable region that loads in one go or not at all."""
import collections
import datetime as dt
import re
import threading

import pytest

from fieldcoord.core import kinds as K
from fieldcoord.core.errors import Cancelled, ValidationError
from fieldcoord.core.library import find_channel, find_nims_type
from fieldcoord.core.text import strip_accents
from fieldcoord.demo import DEMO_HOME_CODE, DEMO_HOME_NAME, load_demo
from fieldcoord.store import Store

TODAY = dt.date.today()
# Fictional numbers only: NANP 555-0100..0199, stored as E.164 (extension kept).
FICTIONAL_PHONE = re.compile(r"^\+1\d{3}55501\d{2}(;ext=\d+)?$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    store = Store.create(path, DEMO_HOME_NAME, DEMO_HOME_CODE, device="demo-laptop")
    calls = []
    counts = load_demo(store, progress=lambda *args: calls.append(args))
    yield store, counts, calls
    store.close()


def code_of(store, agency_id):
    return store.get(agency_id, "agency").values["code"]


def days_ago(iso):
    return (TODAY - dt.date.fromisoformat(iso[:10])).days


def test_counts_are_what_was_stored(demo):
    store, counts, _ = demo
    for kind in K.KINDS:
        assert counts.get(kind, 0) == store.count(kind), kind


def test_progress_is_reported_up_to_the_maximum(demo):
    _, _, calls = demo
    assert len(calls) > 10
    values = [v for _, v, _ in calls]
    assert values == sorted(values)
    label, value, maximum = calls[-1]
    assert value == maximum and all(isinstance(lab, str) and lab for lab, _, _ in calls)


def test_agencies_cover_every_level_and_discipline(demo):
    store, _, _ = demo
    agencies = store.list("agency")
    assert len(agencies) >= 28
    assert {a.values["level"] for a in agencies} == set(K.AGENCY_LEVELS)
    assert {a.values["discipline"] for a in agencies} == set(K.DISCIPLINES)
    for a in agencies:
        v = a.values
        assert a.owner == v["code"]
        assert 46.5 < v["lat"] < 48.0 and -124.5 < v["lon"] < -122.0, v["code"]
        assert v["website"].startswith("https://") and v["website"].endswith(".example")
        assert v["jurisdiction"] and v["address"]
    assert sum(1 for a in agencies if a.values["safecom_notes"]) >= 3
    parents = {a.values["code"]: code_of(store, a.values["parent"])
               for a in agencies if a.values["parent"]}
    assert parents["TRN-EM"] == "TRN" and parents["HCSAR"] == "HCSO"


def test_home_agency_record_is_completed(demo):
    store, _, _ = demo
    home = store.get(store.agency_id(DEMO_HOME_CODE))
    assert home.values["name"] == DEMO_HOME_NAME
    assert home.values["level"] == "local"
    assert home.values["discipline"] == "emergency_management"
    assert home.values["lat"] is not None


def test_agency_duty_lines(demo):
    store, _, _ = demo
    lines = [m for m in store.list("method") if m.values["contact"] is None]
    assert {m.values["agency"] for m in lines} == {a.id for a in store.list("agency")}
    assert sum(1 for m in lines if m.values["duty"] == "24/7") >= 25
    dispatch = store.children("method", "agency", store.agency_id("HR911"))
    assert any("supervisor" in (m.values["label"] or "").lower() for m in dispatch)


def test_contacts_and_their_methods(demo):
    store, _, _ = demo
    contacts = store.list("contact")
    assert len(contacts) == 300
    repeated = {n for n, k in collections.Counter(c.values["name"] for c in contacts).items()
                if k > 1}
    assert repeated <= {"Duty Officer", "Watch Commander"}   # standing positions, not people
    methods = collections.defaultdict(list)
    for m in store.list("method"):
        if m.values["contact"]:
            methods[m.values["contact"]].append(m)
    for c in contacts:
        own = methods[c.id]
        assert 1 <= len(own) <= 3, c.values["name"]
        assert c.owner == code_of(store, c.values["agency"])
        assert sorted(m.values["priority"] for m in own) == list(range(1, len(own) + 1))
    every = [m for ms in methods.values() for m in ms]
    kinds = collections.Counter(m.values["kind"] for m in every)
    for kind in ("phone", "mobile", "email", "call_sign", "pager", "satellite_phone"):
        assert kinds[kind] > 0, kind
    for m in every:
        v = m.values
        if v["kind"] in K.PHONE_KINDS:
            assert FICTIONAL_PHONE.match(v["value"]), v["value"]
            assert v["duty"] in K.DUTY_WINDOWS
        elif v["kind"] == "email":
            assert v["value"].endswith(".example") and v["value"].isascii()
    assert {m.values["duty"] for m in every} >= set(K.DUTY_WINDOWS)
    ages = [days_ago(m.values["verified_on"]) for m in every if m.values["verified_on"]]
    stale = sum(1 for a in ages if a > 180)
    assert 0 < stale < len(ages) / 3
    assert min(ages) >= 0
    assert sum(1 for c in contacts if c.values["ics_position"]) > 30
    assert sum(1 for c in contacts if c.values["languages"]) > 30
    call_signs = [m.values["value"] for m in every if m.values["kind"] == "call_sign"]
    assert len(call_signs) == len(set(call_signs))
    assert any(s.startswith("MEDIC ") for s in call_signs)


def test_standing_positions_are_found(demo):
    store, _, _ = demo
    hits = store.search("duty officer", kind="contact")
    assert any(h.title == "Duty Officer" for h in hits)
    assert store.search("watch commander", kind="contact")


def test_accentless_search_finds_accented_names(demo):
    store, _, _ = demo
    accented = [c.values["name"] for c in store.list("contact")
                if strip_accents(c.values["name"]) != c.values["name"]]
    assert len(accented) >= 10
    assert {"José Núñez", "Zoë Brandt", "Łukasz Nowak"} <= set(accented)
    for name in ["José Núñez", "Zoë Brandt", "Łukasz Nowak", *accented[:10]]:
        hits = store.search(strip_accents(name).lower(), kind="contact")
        assert name in [h.title for h in hits], name


def test_resources_are_typed_correctly(demo):
    store, _, _ = demo
    resources = store.list("resource")
    assert len(resources) == 200
    for r in resources:
        v = r.values
        t = find_nims_type(v["type_id"])
        assert t is not None and v["type_level"] in t.levels, v["name"]
        assert v["type_name"] == t.name and v["quantity"] >= 1 and v["location"]
        assert r.owner == code_of(store, v["agency"])
        if v["contact"]:
            assert store.get(v["contact"]).values["agency"] == v["agency"]
    statuses = collections.Counter(r.values["status"] for r in resources)
    assert statuses["available"] > 150 and statuses["assigned"] > 0
    assert sum(1 for r in resources if r.values["lat"] is not None) > 40
    names = {r.values["name"] for r in resources}
    assert {"Engine 51", "Ladder 51", "SWAT Team", "Medic 7"} <= names


def test_agreements_parties_and_alerts(demo):
    store, _, _ = demo
    agreements = store.list("agreement")
    assert sorted(a.values["kind"] for a in agreements) == sorted(K.AGREEMENT_KINDS)
    for a in agreements:
        assert len(store.children("party", "agreement", a.id)) >= 2
    assert any(a.values["expiry_date"] and 0 <= -days_ago(a.values["expiry_date"]) <= 60
               for a in agreements)
    assert any(a.values["review_date"] and days_ago(a.values["review_date"]) > 0
               for a in agreements)


def test_plans_have_lead_and_support_roles(demo):
    store, _, _ = demo
    plans = store.list("plan")
    assert len(plans) == 2
    for p in plans:
        roles = store.children("role", "plan", p.id)
        assert {r.values["function"] for r in roles} == {"lead", "support"}
        assert p.scope == "all+edit"


def test_the_joint_operation(demo):
    store, _, _ = demo
    [op] = store.list("operation")
    assert op.values["status"] == "active" and op.scope == "all+edit"
    assert len(store.children("member", "operation", op.id)) >= 8
    requests = store.children("request", "operation", op.id)
    assert {"requested", "acknowledged", "committed", "en_route", "on_scene"} <= \
        {r.values["status"] for r in requests}
    for r in requests:
        for rid in r.values["committed_resources"] or ():
            res = store.get(rid, "resource")
            assert res.values["agency"] == r.values["supplying_agency"]
            if r.values["status"] in ("committed", "en_route", "on_scene"):
                assert res.values["status"] == "assigned"
    rows = store.children("comms", "operation", op.id)
    assert len(rows) >= 8
    channels = {store.get(r.values["channel"]).values["name"] for r in rows}
    assert {"VCALL10", "VTAC11", "VTAC12", "8TAC91"} <= channels
    for ch in store.list("channel"):
        lib = find_channel(ch.values["name"])
        if lib:
            assert ch.values["rx_freq"] == lib.rx_freq and ch.values["tx_freq"] == lib.tx_freq
    logs = store.children("log", "operation", op.id)
    assert 10 <= len(logs) <= 20
    assert all(entry.values["author"] and entry.values["happened_at"] for entry in logs)


def test_events_with_participants_and_actions(demo):
    store, _, _ = demo
    events = store.list("event")
    assert 4 <= len(events) <= 6
    assert len({e.values["kind"] for e in events}) >= 4
    for e in events:
        assert store.children("participant", "event", e.id)
    actions = store.list("action")
    assert {a.values["status"] for a in actions} == {"open", "done"}
    assert all(a.values["assigned_to"] and a.values["due_date"] for a in actions)


def test_loading_twice_is_refused_and_changes_nothing(demo):
    store, _, _ = demo
    before = store.dump()
    with pytest.raises(ValidationError, match="already"):
        load_demo(store)
    assert store.dump() == before


def test_loads_into_another_agencys_database(store, demo):
    demo_store, demo_counts, _ = demo
    counts = load_demo(store)
    assert store.home == "CCF"
    assert counts == demo_counts
    hcem = store.get(store.agency_id("HCEM"))
    assert hcem.owner == "HCEM" and hcem.values["discipline"] == "emergency_management"
    # The people are drawn with a fixed seed: the same directory every time.
    assert sorted(c.values["name"] for c in store.list("contact")) == \
        sorted(c.values["name"] for c in demo_store.list("contact"))


def test_cancel_leaves_the_database_unchanged(store):
    before = store.dump()
    cancel = threading.Event()
    seen = []

    def progress(label, value, maximum):
        seen.append(value)
        if value >= 400:
            cancel.set()

    with pytest.raises(Cancelled):
        load_demo(store, progress=progress, cancel=cancel)
    assert seen and store.dump() == before
    assert store.count("contact") == 0
    # A cancel already set stops before anything is written, too.
    with pytest.raises(Cancelled):
        load_demo(store, cancel=cancel)
    assert store.dump() == before


# ------------------------------------------------------------------ the demo stays the demo
def _copy(template, tmp_path):
    import shutil
    path = tmp_path / "demo.db"
    shutil.copy(template, path)
    return path


def test_the_demo_is_marked_and_never_synced_or_bundled_without_confirmation(
        demo_template, tmp_path):
    from fieldcoord.demo import DemoNotShared
    from fieldcoord.sync.bundle import export_bundle
    from fieldcoord.sync.engine import StorePeer, sync
    hub = Store.create(tmp_path / "hub.db", DEMO_HOME_NAME, DEMO_HOME_CODE, device="hub")
    with Store.open(_copy(demo_template, tmp_path)) as demo_store, hub:
        assert demo_store.demo and not hub.demo
        before = hub.dump()
        with pytest.raises(DemoNotShared, match="demo directory"):
            sync(demo_store, StorePeer(hub))
        assert hub.dump() == before, "not one record went to the peer"
        with pytest.raises(DemoNotShared):
            export_bundle(demo_store, tmp_path / "out.fcb", "CCF")
        assert not (tmp_path / "out.fcb").exists()
        # confirmed: it syncs
        sync(demo_store, StorePeer(hub), allow_demo=True)
        assert hub.conn.execute("SELECT count(*) FROM contact").fetchone()[0] > 100
        assert not hub.demo, "the receiving replica is not the demo"


def test_the_demo_command_writes_its_own_file_not_the_users_database(tmp_path, monkeypatch,
                                                                    capsys):
    from fieldcoord.cli import main
    from fieldcoord.core.places import default_db
    monkeypatch.delenv("FIELDCOORD_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    mine = default_db()
    assert main(["init", "--agency", "Clark County Fire", "--code", "CCF"]) == 0
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert f"loaded into {mine.with_name('demo.db')}" in out
    with Store.open(mine) as s:
        assert not s.demo and s.conn.execute("SELECT count(*) FROM contact").fetchone()[0] == 0
    with Store.open(mine.with_name("demo.db")) as s, s.transaction():
        s.conn.execute("INSERT INTO peer (name, url) VALUES ('hub', 'http://127.0.0.1:9')")
    assert main(["--db", str(mine.with_name("demo.db")), "sync"]) == 2
    assert "--include-demo" in capsys.readouterr().err
