# SPDX-License-Identifier: GPL-3.0-or-later
"""Resource request steps in one replica: request numbers given per agency, the resources that
follow a request, and a database from before the workflow judged once when it opens."""
import pytest

from fieldcoord.core import workflow
from fieldcoord.core.errors import ValidationError
from fieldcoord.store import Store


def test_a_database_from_before_the_workflow_is_judged_once_on_opening(store, monkeypatch):
    rid = store.add("request", {"requesting_agency": "CCF", "description": "Pump"})
    ok = store.add("request", {"requesting_agency": "CCF", "description": "Boat"})
    store.edit(ok, {"status": "acknowledged"})
    # an earlier version let a request jump from requested to returned
    monkeypatch.setattr(workflow, "refusal", lambda *a, **k: None)
    store.edit(rid, {"status": "returned", "supplying_agency": "CCF"})
    monkeypatch.undo()
    store.conn.execute("DELETE FROM meta WHERE key = 'requests_judged'")
    path = store.path
    store.close()
    again = Store.open(path)
    try:
        assert again.get(rid).values["status"] == "requested"
        assert again.get(ok).values["status"] == "acknowledged"
        assert again.conn.execute("SELECT COUNT(*) FROM change WHERE rid = ? AND status = 1",
                                  (rid,)).fetchone()[0] == 1
        assert [s.status for s in again.request_history(rid)] == ["requested"]
    finally:
        again.close()


def test_committed_resources_belong_to_the_supplier_and_follow_the_request(store):
    store.add("agency", {"name": "Metro Police Department", "code": "MPD"})
    mine = store.add("resource", {"name": "Engine 7", "agency": "CCF"})
    theirs = store.add("resource", {"name": "Boat 2", "agency": "MPD", "owner": "MPD"})
    rid = store.add("request", {"requesting_agency": "MPD", "description": "Engine",
                                "owner": "MPD", "scope": "all+edit"})
    store.edit(rid, {"status": "acknowledged"})
    with pytest.raises(ValidationError) as e:
        store.edit(rid, {"status": "committed", "supplying_agency": "CCF",
                         "committed_resources": [theirs]})
    assert "Boat 2 belongs to MPD, not to the supplying agency CCF" in str(e.value)
    store.edit(rid, {"status": "committed", "supplying_agency": "CCF",
                     "committed_resources": [mine]})
    assert store.get(mine).values["status"] == "assigned"
    store.edit(rid, {"status": "en_route"})
    store.edit(rid, {"status": "demobilized"})        # turned back before arriving
    assert store.get(mine).values["status"] == "demobilized"
    store.edit(rid, {"status": "returned"})
    assert store.get(mine).values["status"] == "available"


def test_a_resource_taken_off_a_request_is_available_again(store):
    a = store.add("resource", {"name": "Engine 7", "agency": "CCF"})
    b = store.add("resource", {"name": "Engine 8", "agency": "CCF"})
    rid = store.add("request", {"requesting_agency": "CCF", "description": "Engines",
                                "status": "committed", "supplying_agency": "CCF",
                                "committed_resources": [a, b]})
    assert {store.get(x).values["status"] for x in (a, b)} == {"assigned"}
    store.edit(rid, {"committed_resources": [a]})
    assert store.get(b).values["status"] == "available"
    assert store.get(a).values["status"] == "assigned"
    out = store.add("resource", {"name": "Engine 9", "agency": "CCF",
                                 "status": "out_of_service"})
    store.edit(rid, {"committed_resources": [a, out]})
    assert store.get(out).values["status"] == "out_of_service"     # left as it is


def test_cancelling_is_for_requests_where_nothing_has_moved(store):
    rid = store.add("request", {"requesting_agency": "CCF", "description": "Engine",
                                "status": "committed", "supplying_agency": "CCF"})
    store.edit(rid, {"status": "en_route"})
    with pytest.raises(ValidationError) as e:
        store.edit(rid, {"status": "cancelled"})
    assert "It may go on to: on scene, demobilized" in str(e.value)
    other = store.add("request", {"requesting_agency": "CCF", "description": "Boat"})
    store.edit(other, {"status": "unable_to_fill"})
    with pytest.raises(ValidationError) as e:
        store.edit(other, {"status": "acknowledged"})
    assert "It has ended" in str(e.value)


def test_a_new_request_gets_its_agencys_next_number(store):
    import datetime as dt
    year = dt.date.today().year
    store.add("agency", {"name": "Metro Police Department", "code": "MPD"})
    first = store.add("request", {"requesting_agency": "CCF", "description": "Engine"})
    store.add("request", {"requesting_agency": "CCF", "description": "Boat",
                          "number": f"CCF-{year}-007"})
    later = store.add("request", {"requesting_agency": "CCF", "description": "Crew"})
    theirs = store.add("request", {"requesting_agency": "MPD", "description": "Dogs"})
    assert store.get(first).values["number"] == f"CCF-{year}-001"
    assert store.get(later).values["number"] == f"CCF-{year}-008"
    assert store.get(theirs).values["number"] == f"MPD-{year}-001"
    with pytest.raises(ValidationError) as e:
        store.add("request", {"requesting_agency": "CCF", "description": "Pump",
                              "number": f"ccf-{year}-001"})
    assert "already the number of 'Engine'" in str(e.value)
    with pytest.raises(ValidationError):
        store.edit(later, {"number": f"CCF-{year}-001"})
    store.edit(later, {"notes": "two crews"})           # its own number is no clash
