# SPDX-License-Identifier: GPL-3.0-or-later
"""iCalendar (RFC 5545) in and out: events, and agreements' review and expiry dates (interop layer).

Import reads the VEVENTs of calendar files as `event` records. It is strict about what it
imports and liberal about what it ignores: each event keeps only the properties the importer
reads, and an event whose start, end, rule or dates cannot be read is skipped and reported with
its file, line and reason, while the other events import. A broken property the importer does
not read (CREATED, CLASS, GEO, alarms, to-dos, ...) is passed over and counted in a note. Only a
file that is not a calendar (no BEGIN:VCALENDAR, text outside one, or no event at all and lines
that break the standard) is refused whole, with its name, line and problem; nothing is written.

Recurring events stay one record: the record holds the first occurrence's times, and its notes
keep the rule as written in the file (`Repeats: FREQ=WEEKLY;BYDAY=MO`, `Except: ...` for EXDATE,
`Also: ...` for RDATE, `Time zone: ...` for the zone the rule runs in). A changed occurrence
(RECURRENCE-ID) is a record of its own. Export writes those lines back as RRULE, EXDATE, RDATE
and RECURRENCE-ID, so a series leaves fieldcoord as a series.

Export writes no floating time: a time goes out in its zone (TZID, with a VTIMEZONE made of
yearly rules derived from zoneinfo) or in UTC; a stored time without offset is read as a time
of this computer's zone.

The event's UID is kept as the last line of its notes (`iCalendar UID: ...`); importing the same
file again updates those records instead of adding new ones. Events exported from fieldcoord
carry the UID `<record id>@fieldcoord` and match their record directly.

This module imports; ical_check.py reads and checks a file, ical_times.py holds the times and
the time zones, ical_write.py exports.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import icalendar

from ..core import kinds as K
from ..core.errors import Cancelled, ValidationError
from ..core.validate import MAX_TEXT
from .ical_check import read_checked
from .ical_times import same_time, to_stored, zone_name
from .report import ImportReport

PRODID = "-//fieldcoord//fieldcoord//EN"
UID_DOMAIN = "@fieldcoord"
_EXPORT_UID_RE = re.compile(r"^([0-9a-f-]{36})(?:-(review|expiry))?@fieldcoord$", re.I)

# Lines of an event's notes that carry iCalendar data rather than the description.
TRAILER_RE = re.compile(r"^(Repeats|Also|Except|Time zone|iCalendar UID): ?(.*)$")
_UID_LINE_RE = re.compile(r"^iCalendar UID: (.*?)(?: \(occurrence (\S+)\))?$")

KIND_LABELS = {"course": "Training course", "tabletop": "Tabletop exercise",
               "functional": "Functional exercise", "full_scale": "Full-scale exercise",
               "drill": "Drill", "meeting": "Meeting"}
# Words in CATEGORIES or SUMMARY that name an event kind, most specific first.
_KIND_WORDS = (("tabletop", "tabletop"), ("table top", "tabletop"), ("ttx", "tabletop"),
               ("full-scale", "full_scale"), ("full scale", "full_scale"), ("fse", "full_scale"),
               ("functional", "functional"), ("drill", "drill"), ("course", "course"),
               ("training", "course"), ("class", "course"), ("workshop", "course"),
               ("seminar", "course"), ("meeting", "meeting"))


# ------------------------------------------------------------------ import

def _guess_kind(categories: list[str], summary: str) -> tuple[str, bool]:
    """(event kind, whether the file named it) from CATEGORIES, else from the title."""
    for text in [*categories, summary]:
        low = text.lower()
        for label_kind, label in KIND_LABELS.items():
            if low == label.lower() or low == label_kind:
                return label_kind, True
        for word, kind in _KIND_WORDS:
            if re.search(rf"(?<![a-z]){re.escape(word)}(?![a-z])", low):
                return kind, True
    return "meeting", False


def _categories(ev) -> list[str]:
    got = ev.get("CATEGORIES")
    if got is None:
        return []
    out = []
    for item in got if isinstance(got, list) else [got]:
        cats = getattr(item, "cats", None)
        out += [str(c) for c in cats] if cats is not None else [str(item)]
    return out


def _dates(ev, name: str) -> list[str]:
    """The values of EXDATE or RDATE properties, as stored times (periods as start/end)."""
    got = ev.get(name)
    if got is None:
        return []
    out = []
    for item in got if isinstance(got, list) else [got]:
        for d in getattr(item, "dts", []):
            v = d.dt
            if isinstance(v, tuple):
                end = v[1]
                end = icalendar.vDuration(end).to_ical().decode() if isinstance(
                    end, dt.timedelta) else to_stored(end)
                out.append(f"{to_stored(v[0])}/{end}")
            else:
                out.append(to_stored(v))
    return out


def _event_values(ev, options: dict,  # noqa: C901 - a step per VEVENT property it reads
                  known) -> tuple[dict, dict]:
    """(record values, matching info) of one VEVENT; raises ValueError with a reason to skip."""
    start_prop = ev.get("DTSTART")
    if start_prop is None:
        raise ValueError("it has no start (DTSTART)")
    start = start_prop.dt
    end = None
    if ev.get("DTEND") is not None:
        end = ev["DTEND"].dt
    elif ev.get("DURATION") is not None:
        end = start + ev["DURATION"].dt
    all_day = not isinstance(start, dt.datetime)
    if all_day:
        if isinstance(end, dt.datetime):
            end = end.date()
        # DTEND of an all-day event is the day after; the store keeps the last day
        end = end - dt.timedelta(days=1) if end else None
        if end is not None and end <= start:
            end = None
    elif end is not None:
        if not isinstance(end, dt.datetime):
            end = dt.datetime.combine(end, dt.time())
        if start.tzinfo and end.tzinfo:
            end = end.astimezone(start.tzinfo)
        elif start.tzinfo and not end.tzinfo:
            end = end.replace(tzinfo=start.tzinfo)
        elif end.tzinfo and not start.tzinfo:
            end = end.replace(tzinfo=None)
        if end < start:
            raise ValueError("it ends before it starts")
        if end == start:
            end = None
    summary = str(ev.get("SUMMARY") or "").strip()
    kind, named = _guess_kind(_categories(ev), summary)
    if not named and options.get("event_kind"):
        kind = options["event_kind"]
    tzid = start_prop.params.get("TZID")
    lost_zone = tzid if tzid and isinstance(start, dt.datetime) and start.tzinfo is None else None
    uid = str(ev.get("UID") or "").strip()
    recurrence = ev.get("RECURRENCE-ID")
    occurrence = to_stored(recurrence.dt) if recurrence is not None else None
    trailer = []
    rules = ev.get("RRULE")
    for rule in (rules if isinstance(rules, list) else [rules] if rules is not None else []):
        trailer.append("Repeats: " + rule.to_ical().decode())
    rdates, exdates = _dates(ev, "RDATE"), _dates(ev, "EXDATE")
    if rdates:
        trailer.append("Also: " + ", ".join(rdates))
    if exdates:
        trailer.append("Except: " + ", ".join(exdates))
    zone = zone_name(start)
    if zone and (rules is not None or rdates or occurrence):
        trailer.append(f"Time zone: {zone}")
    own = _EXPORT_UID_RE.match(uid)
    if uid and not own:
        trailer.append(f"iCalendar UID: {uid}" + (f" (occurrence {occurrence})"
                                                   if occurrence else ""))
    description = str(ev.get("DESCRIPTION") or "").strip()
    room = MAX_TEXT - sum(len(t) + 1 for t in trailer) - 2
    if len(description) > room:
        description = description[:max(room - 1, 0)] + "…"
    notes = "\n".join(([description] if description else []) + trailer) or None
    values = {"title": (summary or "Untitled event")[:500], "kind": kind,
              "start": to_stored(start), "end": to_stored(end) if end is not None else None,
              "location": str(ev.get("LOCATION") or "").strip() or None, "notes": notes}
    host = str(ev.get("X-FIELDCOORD-HOST") or "").strip()
    if options.get("agency"):
        values["host_agency"] = options["agency"]
    elif host and known(host):
        values["host_agency"] = host
    return values, {"uid": uid, "occurrence": occurrence, "own": own,
                    "kind_named": named or bool(options.get("event_kind")),
                    "lost_zone": lost_zone}


def event_values(ev, options: dict | None = None) -> dict:
    """The event record one VEVENT would import as (title, kind, start, end, location, notes);
    raises ValueError with the reason it would be skipped."""
    return _event_values(ev, dict(options or {}), lambda code: False)[0]


def uid_of(notes: str | None) -> tuple[str, str | None] | None:
    """(UID, occurrence) kept in an event's notes, or None."""
    for line in reversed((notes or "").splitlines()):
        m = _UID_LINE_RE.match(line)
        if m:
            return m.group(1), m.group(2)
    return None


class _Index:
    """The live events, found by UID, by record id, or by title and start."""

    def __init__(self, store):
        self.store = store
        self.by_uid: dict = {}
        self.by_title: dict = {}
        for rec in store.list("event"):
            self.note(rec.id, rec.values)

    def note(self, rid: str, values: dict) -> None:
        key = uid_of(values.get("notes"))
        if key:
            self.by_uid[key] = rid
        self.by_title[(values.get("title") or "").casefold(), values.get("start")] = rid

    def find(self, values: dict, info: dict) -> str | None:
        if info["own"]:
            rid = info["own"].group(1).lower()
            try:
                rec = self.store.get(rid, "event")
                if not rec.deleted:
                    return rid
            except ValidationError:
                pass
        if info["uid"]:
            got = self.by_uid.get((info["uid"], info["occurrence"]))
            if got:
                return got
            if not info["own"]:
                return None
        return self.by_title.get((values["title"].casefold(), values["start"]))


def _changes(store, rec, values: dict, info: dict) -> dict:
    out = {}
    for key, new in values.items():
        old = rec.values.get(key)
        if key in ("start", "end"):
            if not same_time(old, new):
                out[key] = new
        elif key == "kind":
            if info["kind_named"] and new != old:
                out[key] = new
        elif key == "host_agency":
            if new and old != store.resolve(new):
                out[key] = new
        elif (old or None) != (new or None):
            out[key] = new
    return out


def import_files(store, paths, options: dict,  # noqa: C901 - checks options, then the event loop
                 progress=None, cancelled=None) -> ImportReport:
    """Import the VEVENTs of iCalendar files as events (inside the caller's transaction).

    An event that cannot be used is skipped and reported with its file and line; lines the
    importer does not use are ignored, counted in a note. A file that is not a calendar raises
    ValidationError naming it and the line: nothing of the import is kept.
    """
    report = ImportReport("ical")
    kind = options.get("kind")
    if kind and kind.strip().lower().replace("-", "_").replace(" ", "_") in K.EVENT_KINDS:
        # --kind tabletop: the kind of the events whose file does not say
        options = {**options, "event_kind": kind.strip().lower().replace("-", "_")
                   .replace(" ", "_")}
    elif kind and (K.kind_named(kind) is None or K.kind_named(kind).name != "event"):
        raise ValidationError(f"iCalendar files import as events (--kind event, or an event "
                              f"kind: {', '.join(K.EVENT_KINDS)}), not as '{kind}'")
    if options.get("agency") and store.agency_id(options["agency"]) is None:
        raise ValidationError(f"--agency: no agency with code '{options['agency']}'")
    parsed = []
    for path in paths:
        path = Path(path)
        cals, lines, skipped, ignored = read_checked(path)
        events = [ev for cal in cals for ev in cal.walk("VEVENT")]
        parsed.append((path, events, lines, skipped))
        for line, reason in skipped:
            report.skip(path, line, reason)
        if ignored:
            shown = "; ".join(f"line {n}: {problem}" for n, problem in ignored[:3])
            more = f"; and {len(ignored) - 3} more" if len(ignored) > 3 else ""
            report.notes.append(f"{path.name}: {len(ignored)} problem(s) that keep no event "
                                f"from importing were passed over ({shown}{more})")
    total = sum(len(e) for _, e, _, _ in parsed)
    index = _Index(store)
    lost_zones: list[str] = []
    done = 0
    for path, events, lines, skipped in parsed:
        if not events and not skipped:
            report.notes.append(f"{path.name}: holds no events")
        for i, ev in enumerate(events):
            line = lines[i] if i < len(lines) else None
            done += 1
            if cancelled and cancelled():
                raise Cancelled("import cancelled")
            if progress and (done % 50 == 0 or done == total):
                progress("Importing events", done, total)
            status = str(ev.get("STATUS") or "").upper()
            uid = str(ev.get("UID") or "")
            own = _EXPORT_UID_RE.match(uid.strip())
            if own and own.group(2):
                report.skip(path, line, "an agreement's review or expiry date: agreements "
                                        "are not imported from calendars")
                continue
            if status == "CANCELLED":
                report.skip(path, line, f"'{ev.get('SUMMARY', '')}' is cancelled")
                continue
            try:
                values, info = _event_values(ev, options, store.agency_id)
            except (ValueError, TypeError, AttributeError) as e:
                report.skip(path, line, str(e))
                continue
            if info["lost_zone"] and info["lost_zone"] not in lost_zones:
                lost_zones.append(info["lost_zone"])
            if options.get("scope"):
                values["scope"] = options["scope"]
            rid = index.find(values, info)
            try:
                with store.transaction():
                    if rid is None:
                        new_id = store.add("event", {k: v for k, v in values.items()
                                                     if v is not None})
                        index.note(new_id, values)
                        report.add("event")
                    else:
                        rec = store.get(rid, "event")
                        fields = {k: v for k, v in values.items() if k != "scope"}
                        change = _changes(store, rec, fields, info)
                        if info["own"] and "notes" in change and not values["notes"]:
                            change.pop("notes")
                        if change:
                            store.edit(rid, change)
                            report.update("event")
                        else:
                            report.same("event")
            except ValidationError as e:
                report.skip(path, line, str(e))
    order = {str(path): i for i, (path, *_) in enumerate(parsed)}
    report.skipped.sort(key=lambda p: (order.get(p.source, 0), p.line or 0))   # file order
    for zone in lost_zones:
        report.notes.append(f"time zone '{zone}' is not one fieldcoord knows and the file does "
                            "not define it: its times were read as local times")
    return report
