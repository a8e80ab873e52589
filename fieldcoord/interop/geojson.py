# SPDX-License-Identifier: GPL-3.0-or-later
"""GeoJSON (RFC 7946) in and out: agencies and resources that have a location (interop layer).

Import reads the point features of a layer (a county's fire stations, hospitals, police
stations) as agencies or resources (`options["kind"]`). Each record field comes from a feature
property named in `options["map"]` ({field: property}); without a mapping a property named like
the field is used. A mapped value may join several properties (`address+city+state`) or be a
constant (`=fire`). Features that are not points, or lack a required value, are skipped with
their position in the file and the reason. Importing the same layer again updates the records
it made: a feature matches by its id (the feature's `id`, or the property mapped to `id`), by
agency code, or by the same name within 250 m.

Export writes a FeatureCollection of Point features, coordinates in longitude, latitude order
(WGS 84), with the record's fields as properties; records without a location are left out.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

from ..core import ids
from ..core import kinds as K
from ..core.errors import Cancelled, ValidationError
from ..core.validate import normalise_field
from .exporting import selected, write_atomically
from .report import ExportReport, ImportReport

NEAR_METRES = 250.0
KINDS = K.located()
_ID_LINE = "GeoJSON id: "
# Fields never filled from a same-named property: the location comes from the geometry, and
# references to other records only through an explicit mapping.
_NO_DEFAULT = {"lat", "lon", "notes", *(f.name for k in KINDS for f in K.KINDS[k].fields
                                        if f.type == K.REF)}
_KIND_WORDS = " or ".join(K.KINDS[k].plural for k in KINDS)


def _property(kind: K.Kind, name: str) -> str:
    """The property a field is written to: a field called kind (a facility's) is written as
    facility_kind, as the property "kind" names the record kind of a feature."""
    return f"{kind.name}_kind" if name == "kind" else name


def _metres(lat1, lon1, lat2, lon2) -> float:
    """Great-circle distance (haversine) in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(min(1.0, math.sqrt(a)))


def _kind(options: dict, what: str) -> K.Kind:
    name = options.get("kind")
    if not name:
        raise ValidationError(f"say what the features {what}: --kind "
                              + " or --kind ".join(KINDS))
    k = K.kind_named(str(name))
    if k is None or k.name not in KINDS:
        raise ValidationError(f"GeoJSON {what} {_KIND_WORDS} (--kind {'|'.join(KINDS)}), "
                              f"not '{name}'")
    return k


def read_layer(path: Path) -> list:
    """The features of a GeoJSON file (a FeatureCollection or one Feature)."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ValidationError(f"{path.name}: not a GeoJSON file (it is not UTF-8 text)") from None
    except json.JSONDecodeError as e:
        raise ValidationError(f"{path.name}, line {e.lineno}: not valid JSON: {e.msg}") from None
    if not isinstance(data, dict) or data.get("type") not in ("FeatureCollection", "Feature"):
        found = data.get("type") if isinstance(data, dict) else type(data).__name__
        raise ValidationError(f"{path.name}: not a GeoJSON FeatureCollection or Feature "
                              f"(its type is {found!r})")
    crs = data.get("crs")
    if isinstance(crs, dict):
        name = str((crs.get("properties") or {}).get("name", ""))
        if name and not re.search(r"CRS84|4326", name, re.I):
            raise ValidationError(f"{path.name}: coordinates are in {name}, not longitude and "
                                  "latitude (WGS 84); export the layer as WGS 84 GeoJSON first")
    features = data.get("features") if data["type"] == "FeatureCollection" else [data]
    if not isinstance(features, list):
        raise ValidationError(f"{path.name}: 'features' is not a list")
    return features


class _Mapping:
    """Which properties fill which fields of a kind."""

    def __init__(self, kind: K.Kind, given: dict | None, sample: list[dict]):
        self.kind = kind
        self.rules: dict[str, str] = {}
        self.id_prop = None
        for field, prop in (given or {}).items():
            name = field.strip().lower()
            if isinstance(prop, list):
                raise ValidationError(f"--map {field}: give one property")
            if name == "id":
                self.id_prop = str(prop).strip()
                continue
            if name not in kind.field_map or name in ("lat", "lon"):
                fields = [f.name for f in kind.fields if f.name not in ("lat", "lon")]
                raise ValidationError(f"--map: {kind.label} has no field '{field}'; its fields "
                                      f"are: {', '.join(fields)} (and id)")
            self.rules[name] = str(prop).strip()
        keys = {k.lower(): k for props in sample for k in props}
        for f in kind.fields:
            if f.name in self.rules or f.name in _NO_DEFAULT or f.immutable:
                continue
            prop = _property(kind, f.name).lower()
            if prop in keys:
                self.rules[f.name] = keys[prop]
        if kind.name == "agency" and "code" not in self.rules and "code" in keys:
            self.rules["code"] = keys["code"]
        place = "address" if "address" in kind.field_map else "location"
        if place not in self.rules and "address" in keys:
            self.rules[place] = "+".join(keys[k] for k in ("address", "city", "state", "zipcode",
                                                          "zip") if k in keys)
        if "name" not in self.rules:
            raise ValidationError("--map name=PROPERTY: no property is called name; say which "
                                  "property holds the " + kind.label + "'s name")

    @staticmethod
    def _get(props: dict, name: str):
        if name in props:
            return props[name]
        low = name.lower()
        for k, v in props.items():
            if k.lower() == low:
                return v
        return None

    def value(self, props: dict, rule: str):
        if rule.startswith("="):
            return rule[1:]
        parts = []
        for name in rule.split("+"):
            v = self._get(props, name.strip())
            if v is not None and str(v).strip():
                parts.append(str(v).strip() if not isinstance(v, (int, float)) or isinstance(
                    v, bool) else v)
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        return ", ".join(" ".join(str(p).split()) for p in parts)

    def values(self, props: dict) -> dict:
        out = {}
        for field, rule in self.rules.items():
            v = self.value(props, rule)
            if isinstance(v, str):
                v = " ".join(v.split())
            if v is not None and v != "":
                out[field] = v
        return out


def suggest_mapping(kind_name: str, features: list) -> dict:
    """{field: property} an import of these features without a mapping would use; 'name' is
    missing when no property is called name (the import then asks for one)."""
    kind = K.KINDS[kind_name]
    sample = [f.get("properties") or {} for f in features[:200] if isinstance(f, dict)]
    sample = [p for p in sample if isinstance(p, dict)]
    try:
        return dict(_Mapping(kind, None, sample).rules)
    except ValidationError:
        rules = _Mapping(kind, {"name": "name"}, sample).rules
        return {k: v for k, v in rules.items() if k != "name"}


def _point(geometry) -> tuple[float, float]:
    """(lat, lon) of a Point (or a MultiPoint of one point); ValueError says why not."""
    if not isinstance(geometry, dict):
        raise ValueError("it has no geometry")
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "MultiPoint" and isinstance(coords, list) and len(coords) == 1:
        kind, coords = "Point", coords[0]
    if kind != "Point":
        raise ValueError(f"it is a {kind or 'geometry of no type'}, not a point")
    if not isinstance(coords, list) or len(coords) < 2 or not all(
            isinstance(c, (int, float)) and not isinstance(c, bool) for c in coords[:2]):
        raise ValueError(f"its coordinates {coords!r} are not [longitude, latitude]")
    lon, lat = float(coords[0]), float(coords[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValueError(f"its coordinates ({coords[0]}, {coords[1]}) are not longitude and "
                         "latitude (WGS 84)")
    return lat, lon


def _code_for(name: str, prefix: str | None, taken) -> str:
    """An unused agency code made from a name: 'FIRE STATION 13' -> FS13 (CFD-FS13 under CFD)."""
    words = re.findall(r"[A-Za-z]+|\d+", name.upper())
    base = "".join(w if w.isdigit() else w[0] for w in words)
    if len(base) < 2:
        base = re.sub(r"[^A-Z0-9]", "", name.upper())[:4] or "AG"
        base = base if len(base) >= 2 else base + "X"
    if prefix:
        base = f"{prefix}-{base}"
    base = base[:12].rstrip("-")
    code, n = base, 1
    while taken(code):
        n += 1
        suffix = f"-{n}"
        code = base[:12 - len(suffix)].rstrip("-") + suffix
    return code


class _Existing:
    """Live records of a kind, found by source id, code, record id, or name and place."""

    def __init__(self, store, kind: K.Kind):
        self.store, self.kind = store, kind
        self.by_id: dict = {}
        self.by_name: dict = {}
        for rec in store.list(kind.name):
            self.note(rec.id, rec.values)

    def note(self, rid: str, values: dict) -> None:
        for line in (values.get("notes") or "").splitlines():
            if line.startswith(_ID_LINE):
                self.by_id[line[len(_ID_LINE):].strip()] = rid
        key = (values.get("name") or "").casefold()
        self.by_name.setdefault(key, []).append((rid, values.get("lat"), values.get("lon"),
                                                 values.get("agency")))

    def find(self, values: dict, source_id: str | None, agency_id: str | None) -> str | None:
        if source_id:
            if source_id in self.by_id:
                return self.by_id[source_id]
            if ids.looks_like_id(source_id):
                try:
                    rec = self.store.get(source_id, self.kind.name)
                    if not rec.deleted:
                        return rec.id
                except ValidationError:
                    pass
        if self.kind.name == "agency" and values.get("code"):
            rid = self.store.agency_id(str(values["code"]))
            if rid:
                return rid
        for rid, lat, lon, agency in self.by_name.get((values.get("name") or "").casefold(), []):
            if lat is None or lon is None:
                continue
            if self.kind.name != "agency" and agency != agency_id:
                continue
            if _metres(lat, lon, values["lat"], values["lon"]) <= NEAR_METRES:
                return rid
        return None


def import_files(store, paths, options: dict, progress=None, cancelled=None) -> ImportReport:
    """Import point features as agencies or resources (inside the caller's transaction)."""
    kind = _kind(options, "import as")
    report = ImportReport("geojson")
    code = (options.get("agency") or "").strip().upper() or None
    agency_id = None
    if code:
        agency_id = store.agency_id(code)
        if agency_id is None:
            raise ValidationError(f"--agency: no agency with code '{code}'")
    layers = [(Path(p), read_layer(Path(p))) for p in paths]
    existing = _Existing(store, kind)
    total = sum(len(f) for _, f in layers)
    done = 0
    for path, features in layers:
        sample = [f.get("properties") or {} for f in features[:200] if isinstance(f, dict)]
        mapping = _Mapping(kind, options.get("map"), sample)
        for i, feature in enumerate(features, 1):
            done += 1
            if cancelled and cancelled():
                raise Cancelled("import cancelled")
            if progress and (done % 100 == 0 or done == total):
                progress("Importing features", done, total)
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                report.skip(path, i, "it is not a GeoJSON Feature")
                continue
            props = feature.get("properties") or {}
            if not isinstance(props, dict):
                props = {}
            other = props.get("kind")
            if other in KINDS and other != kind.name:
                report.skip(path, i, f"it is a {other} (written by fieldcoord), not "
                                     f"{'an' if kind.name == 'agency' else 'a'} {kind.name}")
                continue
            values = mapping.values(props)
            label = f"'{values['name']}'" if values.get("name") else "the feature"
            try:
                values["lat"], values["lon"] = _point(feature.get("geometry"))
            except ValueError as e:
                report.skip(path, i, f"{label}: {e}")
                continue
            if not values.get("name"):
                report.skip(path, i, f"it has no name (property '{mapping.rules['name']}')")
                continue
            source = mapping.value(props, mapping.id_prop) if mapping.id_prop else feature.get("id")
            source = str(source).strip() if source not in (None, "") else None
            if kind.name != "agency":
                values.setdefault("agency", code or store.home)
                res_agency = store.resolve(str(values["agency"]))
            else:
                res_agency = None
                if code and "parent" not in values:
                    values["parent"] = code
            if options.get("scope"):
                values["scope"] = options["scope"]
            rid = existing.find(values, source, res_agency)
            try:
                with store.transaction():
                    if rid is None:
                        rid = _add(store, kind, values, source, code)
                        report.add(kind.name)
                    else:
                        change = _changes(store, kind, rid, values, source)
                        if change:
                            store.edit(rid, change)
                            report.update(kind.name)
                        else:
                            report.same(kind.name)
                    existing.note(rid, store.get(rid).values)
            except ValidationError as e:
                report.skip(path, i, f"{label}: {e}")
    return report


def _with_source(notes: str | None, source: str | None) -> str | None:
    if not source:
        return notes
    lines = [ln for ln in (notes or "").splitlines() if not ln.startswith(_ID_LINE)]
    if ids.looks_like_id(source):      # a record id: the record itself, nothing to keep
        return "\n".join(lines) or None
    return "\n".join(lines + [_ID_LINE + source])


def _add(store, kind: K.Kind, values: dict, source: str | None, parent_code: str | None) -> str:
    values = dict(values)
    values["notes"] = _with_source(values.get("notes"), source)
    if kind.name == "agency" and not values.get("code"):
        values["code"] = _code_for(values["name"], parent_code,
                                   lambda c: store.conn.execute(
                                       "SELECT 1 FROM agency WHERE id = ?",
                                       (ids.agency_id(c),)).fetchone() is not None)
    return store.add(kind.name, {k: v for k, v in values.items() if v is not None})


def _changes(store, kind: K.Kind, rid: str, values: dict, source: str | None) -> dict:
    rec = store.get(rid, kind.name)
    out = {}
    for key, new in values.items():
        if key in ("scope", "code"):
            continue
        old = rec.values.get(key)
        fld = kind.field_map[key]
        if fld.type == K.REF:
            if store.resolve(str(new), fld.ref) != old:
                out[key] = new
        elif fld.type in (K.LAT, K.LON, K.REAL):
            if old is None or abs(float(old) - float(new)) > 1e-7:
                out[key] = new
        elif fld.type == K.ENUM or fld.type == K.INT:
            try:
                if normalise_field(kind, fld, new) != old:
                    out[key] = new
            except ValidationError:
                out[key] = new
        elif str(new) != str(old or ""):
            out[key] = new
    notes = _with_source(out.get("notes", rec.values.get("notes")), source)
    if (notes or None) != (rec.values.get("notes") or None):
        out["notes"] = notes
    return out


# ------------------------------------------------------------------ export

def _of_agency(rec, agency_id: str, code: str) -> bool:
    """An agency's own record and its sub-agencies; other records by their agency field."""
    if rec.kind == "agency":
        return rec.id == agency_id or rec.values.get("parent") == agency_id
    return rec.values.get("agency") == agency_id


def _selected(store, kind: str, options: dict) -> list:
    return selected(store, kind, options, _of_agency)


def feature(store, rec) -> dict:
    """One record as a GeoJSON Point feature (longitude first)."""
    kind = K.KINDS[rec.kind]
    props = {"kind": rec.kind}
    for f in kind.fields:
        v = rec.values.get(f.name)
        if v is None or f.name in ("lat", "lon"):
            continue
        if f.type == K.REF:
            if f.ref == "agency":
                v = store.checker.agency_code(v) or v
            else:
                try:
                    v = store.get(v).title or v
                except ValidationError:
                    pass
        props[_property(kind, f.name)] = v
    props["owner"] = rec.owner
    return {"type": "Feature", "id": rec.id,
            "geometry": {"type": "Point", "coordinates": [rec.values["lon"], rec.values["lat"]]},
            "properties": props}


def export_file(store, path, options: dict, progress=None, cancelled=None) -> ExportReport:
    """Write agencies and resources with a location as a GeoJSON FeatureCollection."""
    report = ExportReport("geojson", str(path))
    kinds = [_kind(options, "export").name] if options.get("kind") else list(KINDS)
    features = []
    for k in kinds:
        records = _selected(store, k, options)
        unplaced = 0
        for n, rec in enumerate(records, 1):
            if cancelled and cancelled():
                raise Cancelled("export cancelled")
            if progress and (n % 200 == 0 or n == len(records)):
                progress(f"Exporting {K.KINDS[k].plural}", n, len(records))
            if rec.values.get("lat") is None or rec.values.get("lon") is None:
                unplaced += 1
                continue
            features.append(feature(store, rec))
            report.written[k] += 1
        if unplaced:
            report.notes.append(f"{unplaced} {K.KINDS[k].plural if unplaced > 1 else k} "
                                "without a location left out")
    # one feature a line: small, and readable in a diff
    body = ",\n".join(json.dumps(f, ensure_ascii=False, allow_nan=False) for f in features)
    text = '{"type": "FeatureCollection", "features": [\n' + body + "\n]}\n"
    write_atomically(Path(path), text.encode("utf-8"))
    return report
