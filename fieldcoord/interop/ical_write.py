# SPDX-License-Identifier: GPL-3.0-or-later
"""iCalendar export: events, and agreements' review and expiry dates, with no floating time
(interop layer; the rules are in ical.py's docstring)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import icalendar

from ..core import kinds as K
from ..core.errors import Cancelled, ValidationError
from .exporting import selected, write_atomically
from .ical import KIND_LABELS, PRODID, TRAILER_RE, UID_DOMAIN, uid_of
from .ical_times import UTC, ExportTimes, from_stored, local_zone, named_zone, zone_component
from .report import ExportReport


def _split_notes(notes: str | None) -> tuple[str, dict]:
    """(description, {trailer key: [values]}) of an event's notes."""
    text, meta = [], {}
    for line in (notes or "").splitlines():
        m = TRAILER_RE.match(line)
        if m:
            meta.setdefault(m.group(1), []).append(m.group(2))
        else:
            text.append(line)
    return "\n".join(text).strip(), meta


def _offset_zone(off: dt.timedelta) -> icalendar.Timezone:
    """A VTIMEZONE for a fixed UTC offset, named as Python names it (UTC+11:00)."""
    tz = icalendar.Timezone()
    tz.add("tzid", dt.timezone(off).tzname(None))
    std = icalendar.TimezoneStandard()
    std.add("dtstart", dt.datetime(1970, 1, 1))
    std.add("tzoffsetfrom", off)
    std.add("tzoffsetto", off)
    tz.add_component(std)
    return tz


def _stamp(text: str | None) -> dt.datetime:
    try:
        return dt.datetime.strptime(text or "", "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=dt.UTC)
    except ValueError:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _event_component(store, rec, times: ExportTimes) -> icalendar.Event:
    v = rec.values
    description, meta = _split_notes(v.get("notes"))
    zone = (meta.get("Time zone") or [None])[0]
    ev = icalendar.Event()
    key = uid_of(v.get("notes"))
    series = bool(meta.get("Repeats") or meta.get("Also") or (key and key[1]))

    def when(text: str):
        return times.write(text, zone, series)
    ev.add("uid", key[0] if key else f"{rec.id}{UID_DOMAIN}")
    ev.add("dtstamp", _stamp(rec.updated_at))
    ev.add("created", _stamp(rec.created_at))
    ev.add("last-modified", _stamp(rec.updated_at))
    ev.add("summary", v["title"])
    start = when(v["start"])
    ev.add("dtstart", start)
    if isinstance(start, dt.datetime):
        if v.get("end"):
            end = when(v["end"])
            if not isinstance(end, dt.datetime):
                end = dt.datetime.combine(end, dt.time(23, 59), start.tzinfo)
            ev.add("dtend", end)
    else:
        last = from_stored(v["end"]) if v.get("end") else start
        if isinstance(last, dt.datetime):
            last = last.date()
        ev.add("dtend", max(last, start) + dt.timedelta(days=1))
    if key and key[1]:
        ev.add("recurrence-id", when(key[1]))
    for rule in meta.get("Repeats", []):
        recur = icalendar.vRecur.from_ical(rule)
        until = recur.get("UNTIL")
        if until and isinstance(start, dt.datetime) and isinstance(until[0], dt.datetime) \
                and until[0].tzinfo is None:
            # a floating series now runs in a zone: its UNTIL must be in UTC (RFC 5545 3.3.10)
            recur["UNTIL"] = [until[0].replace(tzinfo=start.tzinfo).astimezone(UTC)]
        ev.add("rrule", recur)
    for name, prop in (("Except", "exdate"), ("Also", "rdate")):
        items = [x.strip() for line in meta.get(name, []) for x in line.split(",") if x.strip()]
        if items:
            values = []
            for item in items:
                if "/" in item:
                    a, _, b = item.partition("/")
                    values.append((when(a), icalendar.vDuration.from_ical(b)
                                   if b.startswith(("P", "+P", "-P")) else when(b)))
                else:
                    values.append(when(item))
            ev.add(prop, values)
    ev.add("categories", [KIND_LABELS.get(v["kind"], v["kind"])])
    if v.get("location"):
        ev.add("location", v["location"])
    if description:
        ev.add("description", description)
    if v.get("host_agency"):
        code = store.checker.agency_code(v["host_agency"])
        if code:
            ev.add("x-fieldcoord-host", code)
    return ev


def _agreement_components(store, rec) -> list[icalendar.Event]:
    v = rec.values
    parties = []
    for party in store.children("party", "agreement", rec.id):
        name = store.conn.execute("SELECT name FROM agency WHERE id = ?",
                                  (party.values["agency"],)).fetchone()
        if name:
            parties.append(name[0])
    kind_label = (v.get("kind") or "agreement").replace("_", " ")
    lines = [f"{kind_label.upper() if len(kind_label) <= 3 else kind_label.capitalize()}: "
             f"{v['title']}"]
    if parties:
        lines.append("Parties: " + ", ".join(sorted(parties)))
    for name, label in (("effective_date", "Effective"), ("review_date", "Review due"),
                        ("expiry_date", "Expires")):
        if v.get(name):
            lines.append(f"{label}: {v[name]}")
    if v.get("document"):
        lines.append(f"Document: {v['document']}")
    out = []
    for name, what, title in (("review_date", "review", "Review due"),
                              ("expiry_date", "expiry", "Expires")):
        if not v.get(name):
            continue
        day = dt.date.fromisoformat(v[name])
        ev = icalendar.Event()
        ev.add("uid", f"{rec.id}-{what}{UID_DOMAIN}")
        ev.add("dtstamp", _stamp(rec.updated_at))
        ev.add("last-modified", _stamp(rec.updated_at))
        ev.add("summary", f"{title}: {v['title']}")
        ev.add("dtstart", day)
        ev.add("dtend", day + dt.timedelta(days=1))
        ev.add("transp", "TRANSPARENT")
        ev.add("categories", ["Agreement " + what])
        ev.add("description", "\n".join(lines))
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"{title}: {v['title']}")
        alarm.add("trigger", dt.timedelta(days=-30))
        ev.add_component(alarm)
        out.append(ev)
    return out


def _selected(store, kind: str, options: dict) -> list:
    child, column = ("participant", "event") if kind == "event" else ("party", "agreement")

    def of_agency(rec, agency_id: str, code: str) -> bool:
        """Events it hosts or takes part in; agreements it owns or is a party to."""
        return rec.owner == code or rec.values.get("host_agency") == agency_id or any(
            c.values.get("agency") == agency_id for c in store.children(child, column, rec.id))
    return selected(store, kind, options, of_agency)


def export_file(store, path, options: dict, progress=None, cancelled=None) -> ExportReport:
    """Write events and agreements' review and expiry dates as one iCalendar file.

    Times go out in their zone (TZID, with a rule-based VTIMEZONE) or in UTC, never floating;
    a stored time without offset is read in options["time_zone"] (an IANA name), else in this
    computer's zone.
    """
    report = ExportReport("ical", str(path))
    chosen_zone = str(options.get("time_zone") or "").strip()
    if chosen_zone:
        local = named_zone(chosen_zone)
        if local is None:
            raise ValidationError(f"time zone '{chosen_zone}' is not one fieldcoord knows: give "
                                  "an IANA name such as America/Los_Angeles, or UTC")
    else:
        local = local_zone()
    kind = options.get("kind")
    kinds = ["event", "agreement"]
    if kind:
        k = K.kind_named(kind)
        if k is None or k.name not in kinds:
            raise ValidationError(f"iCalendar export takes --kind event or agreement, "
                                  f"not '{kind}'")
        kinds = [k.name]
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    name = store.conn.execute("SELECT name FROM agency WHERE code = ?", (store.home,)).fetchone()
    cal.add("x-wr-calname", f"{name[0] if name else store.home}: "
            + " and ".join({"event": "events", "agreement": "agreement dates"}[k]
                           for k in kinds))
    chosen = {k: _selected(store, k, options) for k in kinds}
    total = sum(len(v) for v in chosen.values())
    done = 0
    undated = 0
    times = ExportTimes(local)
    for k in kinds:
        for rec in chosen[k]:
            done += 1
            if cancelled and cancelled():
                raise Cancelled("export cancelled")
            if progress and (done % 50 == 0 or done == total):
                progress("Exporting calendar", done, total)
            if k == "event":
                cal.add_component(_event_component(store, rec, times))
                report.written["event"] += 1
            else:
                comps = _agreement_components(store, rec)
                if not comps:
                    undated += 1
                    continue
                for comp in comps:
                    cal.add_component(comp)
                report.written["agreement"] += 1
    if undated:
        report.notes.append(f"{undated} agreement(s) have no review or expiry date")
    if times.naive:
        where = (f"in {getattr(local, 'key', 'UTC')}" if local is not None
                 else "in UTC, as this computer's clock converts them")
        whose = "the time_zone option" if chosen_zone else "this computer's time zone"
        report.notes.append(f"{times.naive} time(s) stored without a UTC offset were written "
                            f"{where} ({whose})")
    zones = [zone_component(tz, first, last) for _, (tz, first, last)
             in sorted(times.spans.items())]
    zones += [_offset_zone(off) for off in sorted(times.offsets)]
    cal.subcomponents[0:0] = zones              # time zones before the events that use them
    write_atomically(Path(path), cal.to_ical())
    return report
