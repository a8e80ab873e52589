# SPDX-License-Identifier: GPL-3.0-or-later
"""The facility kind (shelters, staging areas, EOCs, hospitals), added as CONTRIBUTING.md says:
stored, checked, searched, shared with partners, imported and exported where it fits."""
import csv
import json

import pytest

from fieldcoord.core.errors import FieldcoordError, ValidationError
from fieldcoord.interop.runner import run_export, run_import
from fieldcoord.sync.engine import StorePeer, sync


def _shelter(store, **more):
    return store.add("facility", {"name": "Kestrel Bay High School Shelter", "kind": "shelter",
                                  "agency": "CCF", "capacity": "220", "occupancy": "143",
                                  "phone": "(360) 555-0163", "lat": "46.9812",
                                  "lon": "-123.8305", **more})


def test_a_facility_is_checked_stored_and_found_by_name_and_by_its_main_line(store):
    rid = _shelter(store)
    rec = store.get(rid)
    assert rec.values["status"] == "open", "a new facility is open unless said otherwise"
    assert rec.values["phone"] == "+13605550163" and rec.values["capacity"] == 220
    assert rec.owner == "CCF"
    assert [h.id for h in store.search("high school")] == [rid]
    assert rid in [h.id for h in store.search("555-0163")]
    with pytest.raises(ValidationError, match="facility capacity"):
        _shelter(store, capacity="lots")
    with pytest.raises(ValidationError, match="facility phone: 'call me' is not a phone"):
        _shelter(store, phone="call me")
    with pytest.raises(ValidationError, match="facility status"):
        store.edit(rid, {"status": "half full"})
    assert store.get(rid).values["status"] == "open"
    store.edit(rid, {"status": "standby"})
    assert store.get(rid).values["status"] == "standby", "'standby' is a facility's own word"


def test_renaming_the_operating_agency_refreshes_the_facility_in_search(store):
    rid = _shelter(store)
    store.edit(store.agency_id("CCF"), {"name": "Clark Regional Fire Authority"})
    assert rid in [h.id for h in store.search("regional fire authority", kind="facility")]


def test_a_contact_named_as_point_of_contact_is_not_deleted_from_under_a_facility(store):
    cid = store.add("contact", {"name": "Shelter Manager", "agency": "CCF"})
    _shelter(store, contact=cid)
    with pytest.raises(ValidationError, match="facilit"):
        store.delete(cid)


def test_a_shared_facility_reaches_the_partner_and_a_private_one_does_not(replicas):
    ccf, mpd = replicas("ccf", "CCF"), replicas("mpd", "MPD")
    shared = _shelter(ccf, scope="all")
    private = _shelter(ccf, name="Station 7 Staging", kind="staging_area", scope="private")
    sync(mpd, StorePeer(ccf))
    assert mpd.get(shared).values["occupancy"] == 143
    with pytest.raises(ValidationError):
        mpd.get(private)
    ccf.edit(shared, {"occupancy": "160", "status": "full"})
    sync(mpd, StorePeer(ccf))
    got = mpd.get(shared).values
    assert (got["occupancy"], got["status"]) == (160, "full")
    assert mpd.search("kestrel bay")[0].id == shared


def test_a_partner_may_not_change_a_facility_it_does_not_own(replicas):
    ccf, mpd = replicas("ccf", "CCF"), replicas("mpd", "MPD")
    rid = _shelter(ccf, scope="all")
    sync(mpd, StorePeer(ccf))
    with pytest.raises(FieldcoordError, match="maintained by CCF: only CCF can change it"):
        mpd.edit(rid, {"status": "closed"})


def test_geojson_round_trip_keeps_the_facility_kind_apart_from_the_record_kind(store, tmp_path):
    _shelter(store)
    store.add("facility", {"name": "County EOC", "kind": "eoc", "agency": "CCF",
                           "lat": "46.97", "lon": "-123.81"})
    out = tmp_path / "facilities.geojson"
    report = run_export(store, "geojson", out, {"kind": "facility"})
    assert report.written == {"facility": 2}
    features = json.loads(out.read_text(encoding="utf-8"))["features"]
    props = {f["properties"]["name"]: f["properties"] for f in features}
    assert props["County EOC"]["kind"] == "facility"
    assert props["County EOC"]["facility_kind"] == "eoc"
    from fieldcoord.store import Store
    other = Store.create(tmp_path / "other.db", "Metro Police Department", "MPD")
    try:
        got = run_import(other, "geojson", [out], {"kind": "facility"})
        assert got.added == {"facility": 2}
        kinds = {r.title: r.values["kind"] for r in other.list("facility")}
        assert kinds == {"County EOC": "eoc", "Kestrel Bay High School Shelter": "shelter"}
    finally:
        other.close()


def test_a_csv_of_shelters_imports_with_kind_and_capacity_and_a_bad_row_loses_nothing(
        store, tmp_path):
    path = tmp_path / "shelters.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["name", "kind", "agency", "capacity", "address", "phone"])
        w.writerow(["Grange Hall", "shelter", "CCF", "80", "212 Grange Road", "360-555-0149"])
        w.writerow(["Fairgrounds POD", "Point of distribution", "CCF", "", "Fairgrounds Rd", ""])
    report = run_import(store, "csv", [path], {"kind": "facility"})
    assert report.added == {"facility": 2}
    got = {r.title: r.values for r in store.list("facility")}
    assert got["Grange Hall"]["capacity"] == 80
    assert got["Fairgrounds POD"]["kind"] == "point_of_distribution"
    bad = tmp_path / "bad.csv"
    bad.write_text("name,kind,agency,capacity\nAnnex,shelter,CCF,many\n", encoding="utf-8")
    report = run_import(store, "csv", [bad], {"kind": "facility"})
    assert any("capacity: 1 value not understood and left empty (first: 'many' on line 2)" in n
               for n in report.notes), report.notes
    assert {r.title: r.values["capacity"] for r in store.list("facility")}["Annex"] is None
