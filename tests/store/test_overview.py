# SPDX-License-Identifier: GPL-3.0-or-later
"""The numbers behind the Overview page, checked against the records they count."""
import datetime as dt

from fieldcoord.store import overview as data


def test_resources_by_status_add_up_to_each_partners_resources(demo_store):
    bars = data.resources_by_status(demo_store.conn)
    for i, (aid, _code) in enumerate(bars.agencies):
        units = sum(r.values["quantity"] or 1 for r in demo_store.list("resource", {"agency": aid}))
        assert bars.total(i) == units
        for status in data.RESOURCE_STATUSES:
            assert bars.counts[status][i] == sum(
                r.values["quantity"] or 1 for r in demo_store.list("resource", {"agency": aid,
                                                                         "status": status}))
    teams = data.resources_by_status(demo_store.conn, "Team")
    assert sum(map(sum, teams.counts.values())) == sum(
        r.values["quantity"] or 1 for r in demo_store.list("resource", {"type_kind": "Team"}))


def test_requests_per_day_count_every_request_once_and_mark_the_urgent(demo_store):
    days = data.requests_over_time(demo_store.conn)
    requests = demo_store.list("request")
    assert sum(sum(d.counts.values()) for d in days) == len(requests)
    assert sum(d.urgent for d in days) == sum(r.values["priority"] == "urgent" for r in requests)
    assert [d.day for d in days] == sorted(d.day for d in days)


def test_agreements_lapsing_within_90_days_are_flagged(demo_store):
    today = dt.date.today()
    spans = {s.title: s for s in data.agreement_timeline(demo_store.conn, today)}
    assert len(spans) == len(demo_store.list("agreement"))
    for rec in demo_store.list("agreement"):
        dates = [rec.values[f] for f in ("review_date", "expiry_date") if rec.values[f]]
        soon = (today + dt.timedelta(days=90)).isoformat()
        assert spans[rec.title].lapsing == any(d <= soon for d in dates), rec.title
    assert spans["Harbor County Fire and EMS Mutual Aid Agreement"].lapsing


def test_freshness_is_the_share_of_24_7_lines_verified_within_the_threshold(demo_store):
    today = dt.date.today()
    rows = {f.code: f for f in data.freshness(demo_store.conn, 180, today)}
    hcso = demo_store.agency_id("HCSO")
    lines = [m for m in demo_store.list("method", {"duty": "24/7"})
             if m.values["agency"] == hcso or (m.values["contact"] and demo_store.get(
                 m.values["contact"]).values["agency"] == hcso)]
    limit = (today - dt.timedelta(days=180)).isoformat()
    assert rows["HCSO"].lines == len(lines)
    assert rows["HCSO"].fresh == sum((m.values["verified_on"] or "") >= limit for m in lines)


def test_readiness_per_partner(demo_store):
    today = dt.date.today()
    rows = {r.code: r for r in data.readiness(demo_store.conn, 180, today)}
    assert len(rows) == demo_store.count("agency")
    kbfd = rows["KBFD"]
    assert kbfd.agreements >= 1, "a party to the fire and EMS mutual aid agreement"
    assert sum(kbfd.available.values()) == sum(
        r.values["quantity"] or 1 for r in demo_store.list("resource", {"agency": kbfd.agency,
                                                                 "status": "available"}))
    assert kbfd.row()[0] == "KBFD" and len(kbfd.row()) == len(data.READINESS_COLUMNS)


def test_peer_activity(store):
    today = dt.date(2026, 6, 15)
    store.conn.executemany("INSERT INTO peer (name, url, last_sync) VALUES (?, ?, ?)",
                           [("hub", "https://hub", "2026-06-13T08:00:00Z"),
                            ("new", "https://new", None)])
    store.conn.executemany("INSERT INTO sync_event (at, peer, kind, message) VALUES "
                           "(?, 'hub', ?, '')", [("2026-06-13T08:00:00Z", "synced"),
                                                 ("2026-06-12T08:00:00Z", "synced"),
                                                 ("2026-06-11T08:00:00Z", "error"),
                                                 ("2026-04-01T08:00:00Z", "synced")])
    got = data.peer_activity(store.conn, today)
    assert [(p.name, p.days_since, p.syncs, p.failures) for p in got] == \
        [("hub", 2, 2, 1), ("new", None, 0, 0)]
