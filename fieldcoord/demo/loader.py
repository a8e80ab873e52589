# SPDX-License-Identifier: GPL-3.0-or-later
"""Loading the demo directory, fictional Harbor County, in one transaction (store layer).

The region lives in resources/demo/: region.json (agencies, duty lines, standing positions),
people.json (name pools and titles from which the staff is drawn with a fixed seed),
resources.json (typed resources) and scenario.json (agreements, plans, the flood task force,
events). Dates in the scenario are relative to the day of loading, so alerts (stale contacts,
agreements due for review or expiring) always have something to show.
"""
from __future__ import annotations

import datetime as dt
import json
import random
import re
from pathlib import Path

from ..core import kinds as K
from ..core import workflow
from ..core.errors import Cancelled, ValidationError
from ..core.library import RESOURCES, find_channel
from ..core.progress import Progress
from ..core.text import strip_accents

DEMO_HOME_NAME = "Harbor County Emergency Management"
DEMO_HOME_CODE = "HCEM"
DEMO_DIR: Path = RESOURCES / "demo"

# The kinds the demo fills, in the order they are reported.
KINDS = tuple(K.KINDS)
_AGENCY_FIELDS = ("name", "level", "discipline", "jurisdiction", "address", "lat", "lon",
                  "safecom_notes", "notes")
# Mixed ways people write the same North American number; {a} area code, {n} line number.
_PHONE_FORMATS = ("({a}) 555-{n}", "{a}-555-{n}", "{a}.555.{n}", "+1 {a} 555 {n}",
                  "1-{a}-555-{n}", "+1 ({a}) 555-{n}")
_PHONE_WEIGHTS = (6, 3, 2, 2, 1, 1)
_WHEN_RE = re.compile(r"^D([+-]?\d+)?(?:\s+(\d{1,2}:\d{2}))?$")
# Requests in these states hold their committed resources.
_HOLDING = ("committed", "en_route", "on_scene")
_MAIN_LINE = (workflow.REQUESTED, workflow.ACKNOWLEDGED, workflow.COMMITTED, workflow.EN_ROUTE,
              workflow.ON_SCENE, workflow.DEMOBILIZED, workflow.RETURNED)


def _steps_to(status: str) -> tuple[str, ...]:
    """The workflow's steps from requested to `status`."""
    if status in _MAIN_LINE:
        return _MAIN_LINE[1:_MAIN_LINE.index(status) + 1]
    return (status,)
_STATUS_WEIGHTS = {"available": 86, "assigned": 7, "out_of_service": 5, "demobilized": 2}



def load_demo(store, progress: Progress | None = None, cancel=None) -> dict[str, int]:
    """Fill `store` with the Harbor County demo; returns the number of records per kind.

    Works on the demo's own database (home agency HCEM, whose record is completed) and on any
    other initialised one. Everything happens in one transaction: an error or `cancel` (a
    threading.Event) being set leaves the database unchanged (Cancelled is raised then).
    """
    loader = _Loader(store, progress, cancel)
    loader.check_not_loaded()
    with store.transaction():
        loader.run()
        store.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('demo', '1')")
    store.demo = True
    if progress and loader.done != loader.maximum:
        progress("Demo directory loaded", loader.maximum, loader.maximum)
    return {k: n for k, n in loader.counts.items() if n}


def _read(name: str) -> dict:
    return json.loads((DEMO_DIR / name).read_text(encoding="utf-8"))


def _email_part(text: str) -> str:
    return re.sub(r"[^a-z0-9-]", "", strip_accents(text).lower())


class _Loader:
    def __init__(self, store, progress: Progress | None, cancel):
        self.store = store
        self.progress = progress
        self.cancel = cancel
        self.region = _read("region.json")
        self.people = _read("people.json")
        self.fleets = _read("resources.json")["agencies"]
        self.scenario = _read("scenario.json")
        self.rng = random.Random(self.people["seed"])
        self.today = dt.date.today()
        self.agencies = {a["code"]: a for a in self.region["agencies"]}
        self.counts = dict.fromkeys(KINDS, 0)
        self.done = 0
        self.label = "Agencies"
        self.staff: dict[str, list[dict]] = {code: [] for code in self.agencies}
        self.reps: dict[str, dict] = {}
        self.resource_ids: dict[str, str] = {}
        self.agreement_ids: dict[str, str] = {}
        self.channel_ids: dict[str, str] = {}
        self.radio_counters: dict[tuple[str, str], int] = {}
        self.names: set[str] = set()
        self.planned_people = self._plan_people()
        self.maximum = self._maximum()

    # ------------------------------------------------------------------ helpers
    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("loading the demo directory was cancelled; nothing was saved")

    def _step(self) -> None:
        self.done += 1
        if self.progress and (self.done % 20 == 0 or self.done == self.maximum):
            self.progress(self.label, min(self.done, self.maximum), self.maximum)

    def add(self, kind: str, values: dict) -> str:
        self._check_cancel()
        rid = self.store.add(kind, {k: v for k, v in values.items() if v is not None})
        self.counts[kind] += 1
        self._step()
        return rid

    def day(self, offset: int) -> str:
        return (self.today + dt.timedelta(days=offset)).isoformat()

    def when(self, spec: str | None) -> str | None:
        """'D-2 05:40' -> two days ago at 05:40; 'D+45' -> a date 45 days from today."""
        if not spec:
            return None
        m = _WHEN_RE.match(spec.strip())
        if not m:
            raise ValueError(f"demo data: bad relative date '{spec}'")
        date = self.day(int(m.group(1) or 0))
        return f"{date} {m.group(2)}" if m.group(2) else date

    def phone(self, area: str) -> str:
        fmt = self.rng.choices(_PHONE_FORMATS, _PHONE_WEIGHTS)[0]
        return fmt.format(a=area, n=f"{self.rng.randint(100, 199):04d}")

    def verified(self) -> dict:
        """When a contact's numbers were last checked: most recently, some long ago (stale)."""
        rng = self.rng
        if rng.random() < 0.08:
            return {}
        days = rng.randint(3, 170) if rng.random() < 0.82 else rng.randint(190, 760)
        return {"verified_on": self.day(-days), "verified_by": rng.choice(self.people["verifiers"])}

    def check_not_loaded(self) -> None:
        for code in self.agencies:
            if code != self.store.home and self.store.agency_id(code):
                raise ValidationError(f"this directory already has agency {code}: the demo "
                                      "directory is loaded once, into a new database")

    # ------------------------------------------------------------------ planning people
    def _plan_people(self) -> list[tuple[str, dict]]:
        """(agency code, person) for every generated person, drawn with the fixed seed."""
        positions = sum(len(a.get("positions", ())) for a in self.region["agencies"])
        wanted = self.people["contacts_total"] - positions
        weights = {code: a.get("staff", 1) for code, a in self.agencies.items()}
        total = sum(weights.values())
        shares = {code: wanted * w / total for code, w in weights.items()}
        alloc = {code: int(s) for code, s in shares.items()}
        rest = sorted(shares, key=lambda c: (alloc[c] - shares[c], c))
        for code in rest[:wanted - sum(alloc.values())]:
            alloc[code] += 1
        for a in self.region["agencies"]:
            self.names.update(p["name"] for p in a.get("positions", ()))
        self.names.update(f"{f['given']} {f['family']}" for f in self.people["featured"])
        planned = []
        for code in self.agencies:
            featured = [f for f in self.people["featured"] if f["agency"] == code]
            planned += [(code, self._person(self.agencies[code], f)) for f in featured]
            planned += [(code, self._person(self.agencies[code]))
                        for _ in range(alloc[code] - len(featured))]
        return planned

    def _person(self, agency: dict, featured: dict | None = None) -> dict:
        rng, pools = self.rng, self.people
        groups = pools["groups"]
        discipline = agency["discipline"]
        entries = pools["titles"].get(discipline, [])
        if featured:
            given, family = featured["given"], featured["family"]
            languages = featured.get("languages")
            entry = next((e for e in entries if e["title"] == featured["title"]),
                         {"title": featured["title"], "call_sign": None, "field": True})
        else:
            for _ in range(100):
                group = rng.choices(groups, [g["weight"] for g in groups])[0]
                given = rng.choice(group["given"] + group.get("given_f", []))
                family = rng.choice(group["family"])
                if f"{given} {family}" not in self.names:
                    break
            self.names.add(f"{given} {family}")
            languages = group.get("languages_by_family", {}).get(family)
            if (not languages and group.get("second_language")
                    and rng.random() < group["language_share"]):
                languages = f"en, {group['second_language']}"
            if rng.random() < pools["extra_language"]["share"]:
                languages = f"{languages or 'en'}, {pools['extra_language']['value']}"
            if agency.get("titles"):
                entry = {"title": rng.choice(agency["titles"]), "call_sign": None, "field": True}
            else:
                entry = rng.choices(entries, [e["weight"] for e in entries])[0]
        name = f"{given} {family}"
        ics = rng.choice(pools["ics_positions"][discipline]) \
            if rng.random() < pools["ics_share"] else None
        call_sign = None
        radio = agency.get("radio")
        if entry["call_sign"] and radio and rng.random() < 0.85:
            call_sign = self._call_sign(agency["code"], entry["call_sign"], radio)
        return {"name": name, "given": given, "family": family, "title": entry["title"],
                "ics_position": ics, "languages": languages,
                "methods": self._person_methods(agency, given, family, entry, call_sign)}

    def _call_sign(self, code: str, pattern: str, radio: dict) -> str:
        start = radio["first"] if pattern == "{prefix} {n}" else radio.get("chief", 1)
        key = (code, pattern)
        n = self.radio_counters.get(key, start - 1) + (1 if pattern != "{prefix} {n}"
                                                       else self.rng.randint(1, 3))
        self.radio_counters[key] = n
        return pattern.format(prefix=radio["prefix"], n=n)

    def _person_methods(self, agency, given, family, entry, call_sign) -> list[dict]:
        rng = self.rng
        office = agency["office"]
        area = re.search(r"\d{3}", office).group(0)
        if rng.random() < 0.6:
            desk = f"{office} {rng.choice(('ext.', 'x', 'ext'))} {rng.randint(200, 499)}"
        else:
            desk = self.phone(area)
        areas = self.people["mobile_area_codes"]
        mobile = self.phone(rng.choices(list(areas), list(areas.values()))[0])
        field = entry["field"]
        if field:
            mobile_duty = rng.choices(("24/7", "after_hours", "office_hours"), (5, 3, 2))[0]
        else:
            mobile_duty = rng.choices(("after_hours", "office_hours", "24/7"), (4, 4, 1))[0]
        mobile_m = {"kind": "mobile", "value": mobile, "duty": mobile_duty}
        desk_m = {"kind": "phone", "value": desk, "duty": "office_hours"}
        email_m = {"kind": "email",
                   "value": f"{_email_part(given)}.{_email_part(family)}@{agency['domain']}"}
        candidates = [mobile_m if field else desk_m]
        if call_sign:
            candidates.append({"kind": "call_sign", "value": call_sign})
        title = entry["title"]
        if rng.random() < 0.05:
            candidates.append({"kind": "pager", "value": self.phone(area),
                               "duty": rng.choice(("24/7", "after_hours"))})
        elif (agency["discipline"] in ("emergency_management", "utilities", "military")
              or "Supervisor" in title or "Chief" in title) and rng.random() < 0.12:
            candidates.append({"kind": "satellite_phone", "value": self.phone(area),
                               "duty": "24/7", "label": "Satellite phone (Globalstar)"})
        candidates.append(email_m)
        candidates.append(desk_m if field else mobile_m)
        n = rng.choices((1, 2, 3), (15, 45, 40))[0]
        if call_sign:
            n = max(n, 2)
        return candidates[:n]

    def _maximum(self) -> int:
        n = 0
        for a in self.region["agencies"]:
            n += 1 + len(a.get("lines", ()))
            n += sum(1 + len(p["methods"]) for p in a.get("positions", ()))
        n += sum(1 + len(p["methods"]) for _, p in self.planned_people)
        for fleet in self.fleets.values():
            n += sum(len(item.get("n", [None])) for item in fleet["fleet"])
        s = self.scenario
        n += sum(1 + len(a["parties"]) for a in s["agreements"])
        n += sum(1 + len(p["roles"]) for p in s["plans"])
        op = s["operation"]
        n += 1 + sum(len(op[k]) for k in ("members", "requests", "channels", "national_channels",
                                          "comms", "log"))
        n += sum(1 + len(e["participants"]) + len(e["actions"]) for e in s["events"])
        n += len(s["facilities"])
        return n

    # ------------------------------------------------------------------ loading
    def run(self) -> None:
        self.label = "Agencies"
        for a in self.region["agencies"]:
            self._agency(a)
        self.label = "Contacts"
        for a in self.region["agencies"]:
            for pos in a.get("positions", ()):
                self._contact(a, pos, standing=True)
        for code, person in self.planned_people:
            self._contact(self.agencies[code], person, standing=False)
        self.label = "Resources"
        self._resources()
        self.label = "Agreements and plans"
        self._agreements()
        self._plans()
        self.label = "Joint operation"
        self._operation()
        self.label = "Events"
        self._events()
        self.label = "Facilities"
        self._facilities()

    def _agency(self, a: dict) -> None:
        code = a["code"]
        values = {k: a.get(k) for k in _AGENCY_FIELDS}
        values.update(website=f"https://www.{a['domain']}", parent=a.get("parent"), owner=code)
        rid = self.store.agency_id(code)
        if rid:         # the database's home agency: complete the record made with the database
            self._check_cancel()
            self.store.edit(rid, {k: v for k, v in values.items() if v is not None})
            self.counts["agency"] += 1
            self._step()
        else:
            self.add("agency", {**values, "code": code})
        for i, line in enumerate(a.get("lines", ()), 1):
            self.add("method", {"agency": code, "kind": line["kind"], "value": line["value"],
                                "label": line.get("label"), "duty": line.get("duty"),
                                "priority": i, **self.verified(), "owner": code})

    def _contact(self, a: dict, person: dict, standing: bool) -> None:
        code = a["code"]
        rid = self.add("contact", {
            "name": person["name"], "agency": code, "title": person.get("title"),
            "ics_position": person.get("ics_position") or person.get("ics"),
            "languages": person.get("languages"), "notes": person.get("notes"), "owner": code})
        checked = self.verified()
        for i, m in enumerate(person["methods"], 1):
            self.add("method", {"contact": rid, "kind": m["kind"], "value": m["value"],
                                "label": m.get("label"), "duty": m.get("duty"), "priority": i,
                                **checked, "owner": code})
        if not standing:
            self.staff[code].append({"id": rid, "name": person["name"], "title": person["title"]})

    def _resources(self) -> None:
        rng = self.rng
        holding, released = set(), set()
        for req in self.scenario["operation"]["requests"]:
            (holding if req["status"] in _HOLDING else released).update(req.get("resources", ()))
        statuses = list(_STATUS_WEIGHTS)
        for code, fleet in self.fleets.items():
            agency = self.agencies[code]
            stations = fleet.get("stations") or [{"name": agency["address"]}]
            people = self.staff[code]
            for item in fleet["fleet"]:
                numbers = item.get("n", [None])
                for i, n in enumerate(numbers):
                    name = item["name"].format(n=n)
                    spots = item.get("at") or range(len(stations))
                    station = stations[list(spots)[i % len(spots)]]
                    ref = f"{code}/{name}"
                    if ref in holding:
                        status = "assigned"
                    elif ref in released or item.get("status"):
                        status = item.get("status", "available")
                    else:
                        status = rng.choices(statuses, list(_STATUS_WEIGHTS.values()))[0]
                    values = {"name": name, "agency": code, "type_id": item["type"],
                              "type_level": item["level"], "quantity": item.get("qty", 1),
                              "status": status, "notes": item.get("notes"), "owner": code}
                    if "location" in item:
                        values.update(location=item["location"], lat=item.get("lat"),
                                      lon=item.get("lon"))
                    else:
                        values["location"] = station["name"]
                        if "lat" in station and rng.random() < 0.7:
                            values.update(lat=station["lat"], lon=station["lon"])
                    if people and rng.random() < 0.45:
                        values["contact"] = rng.choice(people)["id"]
                    self.resource_ids[ref] = self.add("resource", values)

    def _agreements(self) -> None:
        for ag in self.scenario["agreements"]:
            owner = ag["owner"]
            rid = self.add("agreement", {
                "title": ag["title"], "kind": ag["kind"], "terms": ag.get("terms"),
                "reimbursement": ag.get("reimbursement"),
                "activation_procedure": ag.get("activation_procedure"),
                "effective_date": self.when(ag.get("effective")),
                "review_date": self.when(ag.get("review")),
                "expiry_date": self.when(ag.get("expiry")), "document": ag.get("document"),
                "notes": ag.get("notes"), "owner": owner})
            self.agreement_ids[ag["title"]] = rid
            for p in ag["parties"]:
                self.add("party", {"agreement": rid, "agency": p["agency"],
                                   "signatory": p.get("signatory"),
                                   "signed_on": self.when(p.get("signed")), "owner": owner})

    def _plans(self) -> None:
        for plan in self.scenario["plans"]:
            owner = plan["owner"]
            rid = self.add("plan", {"name": plan["name"], "hazard": plan.get("hazard"),
                                    "version": plan.get("version"),
                                    "objectives": plan.get("objectives"),
                                    "activation_triggers": plan.get("activation_triggers"),
                                    "owner": owner, "scope": "all+edit"})
            for role in plan["roles"]:
                self.add("role", {"plan": rid, "agency": role["agency"],
                                  "function": role["function"],
                                  "responsibilities": role.get("responsibilities"),
                                  "owner": owner, "scope": "all+edit"})

    def person(self, spec: str) -> tuple[str, str]:
        """('Name (CODE)', CODE) for 'CODE' or 'CODE:Title': the agency's representative."""
        code, _, title = spec.partition(":")
        staff = self.staff.get(code) or []
        if title:
            fitting = [p for p in staff if p["title"] == title]
            if fitting:
                return f"{fitting[0]['name']} ({code})", code
        if not staff:
            return self.agencies[code]["name"], code
        if code not in self.reps:
            self.reps[code] = self.rng.choice(staff)
        return f"{self.reps[code]['name']} ({code})", code

    def staff_id(self, spec: str) -> str | None:
        """The contact id of the person `person(spec)` names, None for an agency without staff."""
        name, code = self.person(spec)
        return next((p["id"] for p in self.staff.get(code, ()) if name.startswith(p["name"])),
                    None)

    def _facilities(self) -> None:
        for f in self.scenario["facilities"]:
            values = {k: f.get(k) for k in ("name", "kind", "agency", "status", "capacity",
                                             "occupancy", "address", "lat", "lon", "phone",
                                             "notes")}
            self.add("facility", {**values, "contact": self.staff_id(f["contact"]),
                                  "channel": self.channel_ids.get(f.get("channel", "")),
                                  "owner": f["agency"]})

    def _operation(self) -> None:
        op = self.scenario["operation"]
        owner = op["owner"]
        joint = {"owner": owner, "scope": "all+edit"}
        oid = self.add("operation", {"name": op["name"], "kind": op["kind"],
                                     "purpose": op.get("purpose"), "lead_agency": owner,
                                     "start": self.when(op["start"]),
                                     "end": self.when(op.get("end")), "status": op["status"],
                                     **joint})
        for m in op["members"]:
            code = m["agency"]
            names = []
            if m.get("people"):
                names.append(self.person(code)[0].removesuffix(f" ({code})"))
                others = [p["name"] for p in self.staff[code] if p["name"] not in names]
                names += self.rng.sample(others, min(m["people"] - 1, len(others)))
            self.add("member", {"operation": oid, "agency": code, "role": m.get("role"),
                                "activation_status": m["status"],
                                "assigned_people": "; ".join(names) or None, **joint})
        for r in op["requests"]:
            rid = self.add("request", {
                "number": r["number"], "requesting_agency": r["requesting"], "operation": oid,
                "quantity": r.get("quantity", 1), "kind": r.get("kind"), "type": r.get("type"),
                "description": r["description"], "needed_by": self.when(r.get("needed_by")),
                "delivery_location": r.get("delivery"), "priority": r.get("priority"),
                "substitutes": r.get("substitutes"), "status": workflow.REQUESTED,
                "supplying_agency": r.get("supplying"),
                "agreement": self.agreement_ids.get(r.get("agreement", "")),
                "committed_resources": [self.resource_ids[x] for x in r.get("resources", ())]
                or None,
                "notes": r.get("notes"), "owner": r["requesting"], "scope": "all+edit"})
            for step in _steps_to(r["status"]):         # along the workflow, step by step
                self.store.edit(rid, {"status": step})
        for ch in op["channels"]:
            values = {k: v for k, v in ch.items()}
            values["owner"] = ch["agency"]
            self.channel_ids[ch["name"]] = self.add("channel", values)
        for name in op["national_channels"]:
            if find_channel(name) is None:
                raise ValueError(f"demo data: {name} is not in resources/nifog_channels.csv")
            self._check_cancel()
            self.channel_ids[name] = self.store.library_channel(name)
            self.counts["channel"] += 1
            self._step()
        numbers: dict[str, int] = {}
        for row in op["comms"]:
            zone = row.get("zone", "FLOOD TF")
            numbers[zone] = numbers.get(zone, 0) + 1
            self.add("comms", {"operation": oid, "channel": self.channel_ids[row["channel"]],
                               "zone": zone, "number": numbers[zone],
                               "assignment": row["assignment"], "remarks": row.get("remarks"),
                               **joint})
        for entry in op["log"]:
            author, code = self.person(entry["author"])
            self.add("log", {"operation": oid, "author": author, "text": entry["text"],
                             "happened_at": self.when(entry["at"]), "owner": code})

    def _events(self) -> None:
        for ev in self.scenario["events"]:
            host = ev["owner"]
            joint = {"owner": host, "scope": "all+edit"}
            eid = self.add("event", {"title": ev["title"], "kind": ev["kind"],
                                     "start": self.when(ev["start"]),
                                     "end": self.when(ev.get("end")), "host_agency": host,
                                     "location": ev.get("location"), "notes": ev.get("notes"),
                                     **joint})
            for code, role in ev["participants"]:
                self.add("participant", {"event": eid, "agency": code, "role": role, **joint})
            for act in ev["actions"]:
                self.add("action", {"event": eid, "text": act["text"],
                                    "assigned_to": self.person(act["assigned_to"])[0],
                                    "due_date": self.when(act.get("due")),
                                    "status": act.get("status", "open"),
                                    "closing_note": act.get("closing_note"), **joint})
