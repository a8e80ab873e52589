# SPDX-License-Identifier: GPL-3.0-or-later
"""GeoJSON import of point layers and export of located agencies and resources."""
import json
from pathlib import Path

import pytest

from fieldcoord.cli import main
from fieldcoord.core.errors import ValidationError
from fieldcoord.interop.runner import run_export, run_import
from fieldcoord.store import Store

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "geojson" / "mecklenburg-nc"


@pytest.fixture
def store(tmp_path):
    s = Store.create(tmp_path / "t.db", "Harbor County Emergency Management", "HCEM")
    yield s
    s.close()


@pytest.fixture
def layers():
    if not CORPUS.is_dir():
        pytest.skip(f"no GeoJSON corpus at {CORPUS}")
    return CORPUS


def _write(tmp_path, name, doc) -> Path:
    p = tmp_path / name
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return p


def _point(lon, lat, **props):
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Point", "coordinates": [lon, lat]}}


def test_fire_stations_import_as_agencies_with_coordinates(store, layers):
    store.add("agency", {"name": "Charlotte Fire Department", "code": "CFD",
                         "discipline": "fire"})
    src = layers / "fire_stations.geo.json"
    opts = {"kind": "agency", "agency": "CFD",
            "map": {"name": "name", "address": "address+city", "discipline": "=fire",
                    "level": "=local"}}
    report = run_import(store, "geojson", [src], opts)
    features = json.loads(src.read_text())["features"]
    assert report.added["agency"] == len(features) == 60 and not report.skipped
    cfd = store.agency_id("CFD")
    stations = {a.values["name"]: a.values for a in store.list("agency")
                if a.values["parent"] == cfd}
    assert len(stations) == 60
    for f in features:
        got = stations[f["properties"]["name"]]
        lon, lat = f["geometry"]["coordinates"]
        assert (got["lat"], got["lon"]) == (lat, lon)
        assert got["discipline"] == "fire" and got["level"] == "local"
        assert got["address"].startswith(f["properties"]["address"].split()[0])
    station13 = stations["FIRE STATION 13"]
    assert station13["code"] == "CFD-FS13"
    assert station13["address"] == "4337 Glenwood Dr, Charlotte"
    again = run_import(store, "geojson", [src], opts)
    assert again.unchanged["agency"] == 60 and not again.added and not again.updated


def test_police_stations_import_as_resources_of_an_agency(store, layers):
    store.add("agency", {"name": "Charlotte-Mecklenburg Police", "code": "CMPD"})
    src = layers / "police_stations.geo.json"
    report = run_import(store, "geojson", [src], {"kind": "resource", "agency": "CMPD"})
    n = len(json.loads(src.read_text())["features"])
    assert report.added["resource"] == n
    res = store.list("resource")
    assert all(r.values["agency"] == store.agency_id("CMPD") for r in res)
    assert all(r.values["lat"] and r.values["lon"] and r.values["location"] for r in res)
    assert not run_import(store, "geojson", [src], {"kind": "resource", "agency": "CMPD"}).added


def test_polygons_are_skipped_with_a_reason(store, layers):
    report = run_import(store, "geojson", [layers / "political_boundaries.geo.json"],
                        {"kind": "agency"})
    assert not report.added and len(report.skipped) == 62
    assert report.skipped[0].line == 1
    assert "not a point" in report.skipped[0].reason


def test_features_without_point_or_name_are_skipped(store, tmp_path):
    doc = {"type": "FeatureCollection", "features": [
        _point(-122.5, 45.5, NAME="Station 1"),
        _point(-122.6, 45.6, NAME=""),
        {"type": "Feature", "properties": {"NAME": "Nowhere"}, "geometry": None},
        _point(1440000.0, 540000.0, NAME="State plane"),
        {"type": "Feature", "properties": {"NAME": "Line"},
         "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}},
    ]}
    report = run_import(store, "geojson", [_write(tmp_path, "l.geojson", doc)],
                        {"kind": "agency", "map": {"name": "NAME"}})
    assert report.added["agency"] == 1
    reasons = {p.line: p.reason for p in report.skipped}
    assert set(reasons) == {2, 3, 4, 5}
    assert "no name" in reasons[2] and "no geometry" in reasons[3]
    assert "not longitude and latitude" in reasons[4] and "LineString" in reasons[5]


def test_dedupe_by_name_and_place_and_by_id(store, tmp_path):
    first = {"type": "FeatureCollection", "features": [
        _point(-80.80, 35.20, name="Station 1"), {**_point(-80.9, 35.3, name="Depot"),
                                                  "id": "depot-7"}]}
    run_import(store, "geojson", [_write(tmp_path, "a.geojson", first)], {"kind": "agency"})
    second = {"type": "FeatureCollection", "features": [
        _point(-80.8001, 35.2001, name="STATION 1"),            # 14 m away: the same station
        _point(-80.90, 35.25, name="Station 1"),                # 5 km away: another one
        {**_point(-80.91, 35.31, name="Depot (renamed)"), "id": "depot-7"}]}
    report = run_import(store, "geojson", [_write(tmp_path, "b.geojson", second)],
                        {"kind": "agency"})
    assert report.added["agency"] == 1 and report.updated["agency"] == 2
    names = sorted(a.values["name"] for a in store.list("agency"))
    assert names == ["Depot (renamed)", "Harbor County Emergency Management", "STATION 1",
                     "Station 1"]
    codes = {a.values["code"] for a in store.list("agency")}
    assert {"S1", "S1-2", "DEPO"} <= codes               # codes made from names, kept unique


def test_export_is_geojson_in_lon_lat_order(store, tmp_path):
    from fieldcoord.demo import load_demo
    load_demo(store)
    out = tmp_path / "out.geojson"
    report = run_export(store, "geojson", out, {})
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    located = {r.id: r for k in ("agency", "resource", "facility") for r in store.list(k)
               if r.values["lat"] is not None}
    assert len(doc["features"]) == len(located) == sum(report.written.values()) > 0
    for f in doc["features"]:
        rec = located[f["id"]]
        assert f["type"] == "Feature" and f["geometry"]["type"] == "Point"
        lon, lat = f["geometry"]["coordinates"]
        assert (lon, lat) == (rec.values["lon"], rec.values["lat"])
        assert -90 <= lat <= 90 and -180 <= lon <= 180
        assert f["properties"]["kind"] == rec.kind and f["properties"]["name"] == rec.title
        if rec.kind == "resource":
            assert f["properties"]["agency"] == store.checker.agency_code(rec.values["agency"])
    only = run_export(store, "geojson", tmp_path / "hcem.geojson",
                      {"kind": "resource", "agency": "HCEM"})
    assert set(only.written) <= {"resource"}
    # the export imports again as the same agencies (matched by their codes)
    again = run_import(store, "geojson", [out], {"kind": "agency"})
    assert not again.added and again.unchanged["agency"] == report.written["agency"]


def test_bad_files_are_refused(store, tmp_path):
    cases = [("broken.geojson", '{"type": "FeatureCollection",\n "features": [}', "line 2"),
             ("list.geojson", "[1, 2]", "not a GeoJSON"),
             ("projected.geojson", {"type": "FeatureCollection", "features": [],
                                    "crs": {"type": "name",
                                            "properties": {"name": "EPSG:2264"}}}, "EPSG:2264")]
    before = store.dump()
    for name, doc, problem in cases:
        with pytest.raises(ValidationError, match=problem) as e:
            run_import(store, "geojson", [_write(tmp_path, name, doc)], {"kind": "agency"})
        assert name in str(e.value)
    with pytest.raises(ValidationError, match="--kind"):
        run_import(store, "geojson", [_write(tmp_path, "ok.geojson", _point(0, 0, name="x"))], {})
    with pytest.raises(ValidationError, match="no field 'colour'"):
        run_import(store, "geojson", [_write(tmp_path, "ok.geojson", _point(0, 0, name="x"))],
                   {"kind": "agency", "map": {"colour": "c"}})
    assert store.dump() == before


def test_cli_import_with_map_and_json(tmp_path, capsys, layers):
    db = tmp_path / "cli.db"
    assert main(["--db", str(db), "init", "--agency", "Harbor County EM", "--code",
                 "HCEM"]) == 0
    capsys.readouterr()
    assert main(["--db", str(db), "--json", "import", "geojson",
                 str(layers / "hospitals.geo.json"), "--kind", "agency", "--map", "name=name",
                 "--map", "discipline==hospital"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["added"] == {"agency": 7} and got["skipped"] == []
    out = tmp_path / "h.geojson"
    assert main(["--db", str(db), "--json", "export", "geojson", str(out), "--kind",
                 "agency"]) == 0
    assert json.loads(capsys.readouterr().out)["written"] == {"agency": 7}
    assert all(f["properties"]["discipline"] == "hospital"
               for f in json.loads(out.read_text())["features"])
