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
"""
from __future__ import annotations

import calendar
import datetime as dt
import os
import re
import zoneinfo
from pathlib import Path

import icalendar

from ..core import kinds as K
from ..core.errors import Cancelled, ValidationError
from ..core.validate import MAX_TEXT
from .exporting import selected, write_atomically
from .report import ExportReport, ImportReport

PRODID = "-//fieldcoord//fieldcoord//EN"
UID_DOMAIN = "@fieldcoord"
_EXPORT_UID_RE = re.compile(r"^([0-9a-f-]{36})(?:-(review|expiry))?@fieldcoord$", re.I)

# Lines of an event's notes that carry iCalendar data rather than the description.
_TRAILER_RE = re.compile(r"^(Repeats|Also|Except|Time zone|iCalendar UID): ?(.*)$")
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

# ------------------------------------------------------------------ checking a file

_NAME = r"[A-Za-z0-9-]+"
_PVAL = r'(?:"[^"]*"|[^";:,]*)'
_LINE_RE = re.compile(rf"^({_NAME})((?:;{_NAME}={_PVAL}(?:,{_PVAL})*)*):(.*)$", re.S)
_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DATETIME_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)$")
# weeks may come with days and times (as Outlook writes them), though RFC 5545 keeps them apart
_DURATION_RE = re.compile(r"^[+-]?P(?=\d|T\d)(?:\d+W)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?"
                          r"(?:\d+S)?)?$")
_INT_RE = re.compile(r"^[+-]?\d+$")
_FLOAT = r"[+-]?\d+(?:\.\d+)?"
_GEO_RE = re.compile(rf"^{_FLOAT};{_FLOAT}$")
_OFFSET_RE = re.compile(r"^[+-]\d{4}(?:\d{2})?$")
_DATE_PROPS = {"DTSTART", "DTEND", "DUE", "DTSTAMP", "CREATED", "LAST-MODIFIED",
               "RECURRENCE-ID", "COMPLETED", "EXDATE", "RDATE"}
_INT_PROPS = {"SEQUENCE", "PRIORITY", "REPEAT", "PERCENT-COMPLETE"}
_NOT_EMPTY = _DATE_PROPS | _INT_PROPS | {
    "CLASS", "STATUS", "TRANSP", "ORGANIZER", "ATTENDEE", "RRULE", "EXRULE", "DURATION",
    "TRIGGER", "ACTION", "GEO", "TZOFFSETFROM", "TZOFFSETTO", "VERSION", "CALSCALE", "METHOD",
    "URL", "FREEBUSY"}


def _fail(path: Path, line: int | None, problem: str) -> ValidationError:
    where = f"{path.name}, line {line}" if line else path.name
    return ValidationError(f"{where}: not a valid iCalendar file: {problem}")


def _decode(path: Path, data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return data.decode("utf-16")
    if b"\x00" in data:
        raise _fail(path, None, "it is not a text file")
    return data.decode("cp1252", errors="replace")


def _content_lines(text: str):
    """(line number, unfolded line) of every line; folding undone (RFC 5545 3.1)."""
    out: list[list] = []
    raws = re.split(r"\r\n|\n|\r", text)
    if raws and raws[-1] == "":
        raws.pop()                          # the end of the last line, not an empty line
    for n, raw in enumerate(raws, 1):
        if raw[:1] in (" ", "\t") and out and out[-1][1]:
            out[-1][1] += raw[1:]
        else:
            out.append([n, raw])
    return out


def _param(params: str, name: str) -> str | None:
    m = re.search(rf";{name}=(\"[^\"]*\"|[^;]*)", params, re.I)
    return m.group(1).strip('"') if m else None


def _check_date(value: str, as_date: bool) -> bool:
    """Whether a DATE (YYYYMMDD) or DATE-TIME (YYYYMMDDTHHMMSS[Z]) value is a real one."""
    m = (_DATE_RE if as_date else _DATETIME_RE).match(value)
    if not m:
        return False
    nums = [int(g) for g in m.groups() if g and g != "Z"]
    year, month, day = nums[:3]
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)     # year 0000 is one
    days = [31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    if not (1 <= month <= 12 and 1 <= day <= days[month - 1]):
        return False
    # a leap second (60) is allowed
    return as_date or (nums[3] <= 23 and nums[4] <= 59 and nums[5] <= 60)


def _check_value(name: str, params: str,  # noqa: C901 - a branch per RFC 5545 property
                 value: str) -> str | None:
    """What is wrong with one property's value, or None."""
    if name in _NOT_EMPTY and not value.strip():
        return f"{name} has no value"
    if name in _DATE_PROPS:
        kind = (_param(params, "VALUE") or "").upper()
        for item in value.split(","):
            if name == "RDATE" and (kind == "PERIOD" or "/" in item):
                first, _, second = item.partition("/")
                ok = _check_date(first, False) and (_check_date(second, False)
                                                    or bool(_DURATION_RE.match(second)))
            elif kind == "DATE":
                ok = _check_date(item, True)
            elif kind in ("", "DATE-TIME"):
                ok = _check_date(item, False) or (kind == "" and _check_date(item, True))
            else:
                ok = False
            if not ok:
                return f"{name} '{item}' is not a date or date-time (YYYYMMDD or YYYYMMDDTHHMMSS)"
    elif name == "DURATION" or (name == "TRIGGER"
                                and (_param(params, "VALUE") or "").upper() != "DATE-TIME"):
        if not _DURATION_RE.match(value):
            return f"{name} '{value}' is not a duration such as PT15M"
    elif name == "TRIGGER":
        if not _check_date(value, False):
            return f"TRIGGER '{value}' is not a date-time"
    elif name in _INT_PROPS:
        if not _INT_RE.match(value):
            return f"{name} '{value}' is not a whole number"
    elif name == "GEO":
        if not _GEO_RE.match(value):
            return f"GEO '{value}' is not latitude;longitude"
    elif name in ("ORGANIZER", "ATTENDEE"):
        if re.search(r"\s", value):
            return f"{name} '{value}' is not an address (it contains spaces)"
    elif name in ("TZOFFSETFROM", "TZOFFSETTO"):
        if not _OFFSET_RE.match(value):
            return f"{name} '{value}' is not a UTC offset such as -0500"
    elif name in ("RRULE", "EXRULE"):
        parts = dict(p.partition("=")[::2] for p in value.upper().split(";"))
        if "FREQ" not in parts:
            return f"{name} '{value}' names no FREQ"
    return None


# The properties of a VEVENT the importer reads; every other one is passed over unread, so a
# value of it that breaks RFC 5545 (Google's CREATED:00001231T000000Z, Exchange's empty CLASS:)
# costs nothing.
_USED = {"DTSTART", "DTEND", "DURATION", "SUMMARY", "DESCRIPTION", "LOCATION", "CATEGORIES",
         "UID", "RECURRENCE-ID", "RRULE", "RDATE", "EXDATE", "STATUS", "X-FIELDCOORD-HOST"}
# Used properties whose value is text: kept as written (the importer strips it).
_TEXT = {"SUMMARY", "DESCRIPTION", "LOCATION", "CATEGORIES", "UID", "STATUS",
         "X-FIELDCOORD-HOST"}
# Used properties an event may do without: an empty one is read as absent.
_OPTIONAL = _USED - {"DTSTART"}
# Properties of a VTIMEZONE that give its offsets: a broken one drops the zone.
_ZONE_USED = {"TZID", "DTSTART", "TZOFFSETFROM", "TZOFFSETTO", "RRULE", "RDATE"}


class _Event:
    """One VEVENT's kept lines, or the reason it cannot be used (and that reason's line)."""

    def __init__(self, line: int):
        self.line = line
        self.lines: list[str] = []
        self.names: dict[str, int] = {}           # used property -> index in lines
        self.src: dict[str, int] = {}             # used property -> its line in the file
        self.problem: tuple[int, str] | None = None

    def refuse(self, n: int, problem: str) -> None:
        if self.problem is None:
            self.problem = (n, problem)


class _Checked:
    """A file read liberally: its calendars (each a list of VTIMEZONE lines and events), the
    lines ignored as unusable, and the first problem of a file with no event."""

    def __init__(self):
        self.calendars: list[tuple[list[str], list[_Event]]] = []
        self.begins: list[int] = []              # the line of each BEGIN:VCALENDAR
        self.ignored: list[tuple[int, str]] = []


def _check(path: Path, text: str) -> _Checked:  # noqa: C901 - one line-by-line reader; to split
    """Read a file's lines; refuse it (ValidationError) only when it is not a calendar.

    Each VEVENT keeps only the properties the importer reads, with surrounding spaces taken
    off their values and spaces out of RRULE (`BYDAY=MO, TU`); an empty EXDATE, DTEND and the
    like is read as absent; with both DTEND and DURATION, DTEND counts. An event whose start,
    end, rule or dates cannot be read is kept aside with its line and reason. Anything else
    that breaks the standard (other properties, alarms, to-dos, free/busy, stray lines) is
    ignored and counted. A VTIMEZONE is kept whole unless it is broken.

    Exchange writes an empty TZID (on a VTIMEZONE and on the times using it) for times that
    have no zone: those VTIMEZONEs are dropped and the times read as floating local times.
    """
    got = _Checked()
    stack: list[tuple[str, int]] = []
    event: _Event | None = None
    zone: list[str] | None = None               # a VTIMEZONE's lines until its END
    zone_tzid = None
    zone_bad = False
    calendars = 0

    def ignore(n: int, problem: str) -> None:
        got.ignored.append((n, problem))

    for n, line in _content_lines(text):
        if not line.strip():
            continue                            # an empty line carries nothing
        m = _LINE_RE.match(line)
        if not m:
            shown = "".join(c if c.isprintable() else "?" for c in line[:60])
            problem = f"'{shown}' is not a NAME:value line"
            if not stack and not calendars:
                raise _fail(path, n, problem)
            name = (re.match(_NAME, line) or [""])[0].upper()
            if event is not None and len(stack) and stack[-1][0] == "VEVENT" \
                    and name in _USED:
                event.refuse(n, problem)
            elif zone is not None:
                zone_bad = True
                ignore(n, problem)
            else:
                ignore(n, problem)
            continue
        name, params, value = m.group(1).upper(), m.group(2), m.group(3)
        if name == "BEGIN":
            comp = value.strip().upper()
            if not stack and comp != "VCALENDAR":
                if calendars:
                    ignore(n, f"BEGIN:{comp} outside of a calendar")
                    stack.append((comp, n))
                    continue
                raise _fail(path, n, f"BEGIN:{comp} outside of a calendar (BEGIN:VCALENDAR)")
            stack.append((comp, n))
            if comp == "VCALENDAR" and len(stack) == 1:
                calendars += 1
                got.calendars.append(([], []))
                got.begins.append(n)
            elif comp == "VEVENT" and len(stack) == 2 and stack[0][0] == "VCALENDAR":
                event = _Event(n)
                got.calendars[-1][1].append(event)
                event.lines.append(line)
            elif comp == "VTIMEZONE" and len(stack) == 2 and stack[0][0] == "VCALENDAR":
                zone, zone_tzid, zone_bad = [line], None, False
            elif zone is not None:
                zone.append(line)
            continue
        if name == "END":
            comp = value.strip().upper()
            if comp not in [c for c, _ in stack]:
                if event is not None:
                    event.refuse(n, f"END:{comp} where END:{stack[-1][0]} was expected")
                else:
                    ignore(n, f"END:{comp} where END:{stack[-1][0] if stack else 'nothing'} "
                              "was expected")
                continue
            while stack:
                done, begun = stack.pop()
                if done != comp:
                    # a BEGIN never ended: its component is cut short
                    if event is not None:
                        event.refuse(begun, f"BEGIN:{done} is never ended")
                    else:
                        ignore(begun, f"BEGIN:{done} is never ended")
                        zone_bad = zone_bad or zone is not None
                if done == "VEVENT" and len(stack) == 1 and event is not None:
                    if done == comp:
                        event.lines.append(line)
                    if "DTEND" in event.names and "DURATION" in event.names:
                        del event.lines[event.names.pop("DURATION")]
                    event = None
                elif done == "VTIMEZONE" and len(stack) == 1 and zone is not None:
                    zone.append(f"END:{done}")
                    if zone_tzid and not zone_bad:
                        got.calendars[-1][0].extend(zone)
                    zone = None
                elif zone is not None and done != "VTIMEZONE":
                    zone.append(f"END:{done}")
                if done == comp:
                    break
            continue
        if not stack:
            if not calendars:
                raise _fail(path, n, f"{name} outside of a calendar")
            ignore(n, f"{name} outside of a calendar")
            continue
        if re.search(r";TZID=(?:\"\")?(?=;|$)", params, re.I):
            params = re.sub(r";TZID=(?:\"\")?(?=;|$)", "", params, flags=re.I)
        if zone is not None:
            problem = _check_value(name, params, value.strip())
            if problem and name in _ZONE_USED:
                zone_bad = True
                ignore(n, problem)
            if name == "TZID" and stack[-1][0] == "VTIMEZONE":
                zone_tzid = value.strip()
            zone.append(f"{m.group(1)}{params}:{value}")
            continue
        if event is None or stack[-1][0] != "VEVENT":
            problem = _check_value(name, params, value)
            if problem:
                ignore(n, problem)               # a property of no event, or of an alarm
            continue
        if name not in _USED:
            problem = _check_value(name, params, value.strip())
            if problem:
                ignore(n, problem)
            continue
        if name not in _TEXT:
            value = re.sub(r"\s+", "", value) if name in ("RRULE", "EXRULE") else value.strip()
        if not value.strip() and name in _OPTIONAL:
            ignore(n, f"{name} has no value")
            continue
        problem = _check_value(name, params, value)
        if problem:
            event.refuse(n, problem)
            continue
        if name in ("DTSTART", "DTEND", "RECURRENCE-ID", "RDATE", "EXDATE") \
                and re.search(r"(?:^|,)0000", value):
            event.refuse(n, f"{name} '{value}' is in the year 0000, before any date fieldcoord "
                            "can keep")
            continue
        if name in event.names and name in ("DTSTART", "DTEND", "DURATION", "RECURRENCE-ID"):
            event.refuse(n, f"the event has {name} twice")
            continue
        if name in event.names and name in _TEXT - {"CATEGORIES"}:
            ignore(n, f"the event has {name} twice: the first one counts")
            continue
        event.names[name] = len(event.lines)
        event.src[name] = n
        event.lines.append(f"{m.group(1)}{params}:{value}")
    while stack:
        done, begun = stack.pop()
        if done == "VEVENT" and event is not None:
            event.refuse(begun, "BEGIN:VEVENT is never ended")
            event = None
        elif done == "VCALENDAR" and not any(c[1] for c in got.calendars):
            raise _fail(path, begun, "BEGIN:VCALENDAR is never ended")
        else:
            ignore(begun, f"BEGIN:{done} is never ended")
    if not calendars:
        raise _fail(path, None, "it holds no calendar (BEGIN:VCALENDAR)")
    if got.ignored and not any(c[1] for c in got.calendars):
        # no event at all and lines that break the standard: nothing here to import
        n, problem = got.ignored[0]
        raise _fail(path, n, problem)
    return got


def _read(path: Path, data: bytes | None = None):
    """(calendars, line of each VEVENT kept, [(line, reason)] of events that cannot be used,
    [(line, problem)] of lines ignored), or a ValidationError when it is not a calendar."""
    text = _decode(path, path.read_bytes() if data is None else data)
    got = _check(path, text)
    cals, lines, skipped = [], [], []
    for begun, (zones, events) in zip(got.begins, got.calendars):
        good = []
        for ev in events:
            if ev.problem:
                skipped.append(ev.problem)
            else:
                good.append(ev)
        head = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//fieldcoord//read//EN", *zones]
        try:
            cal = icalendar.Calendar.from_ical("\r\n".join(
                head + [x for ev in good for x in ev.lines] + ["END:VCALENDAR", ""]))
            parsed = cal.walk("VEVENT")
            if len(parsed) != len(good):
                raise ValueError("events lost in parsing")
        except Exception:  # icalendar raises ValueError and others for what it cannot read
            cal, parsed = icalendar.Calendar(), []
            try:
                for comp in icalendar.Calendar.from_ical("\r\n".join(
                        head + ["END:VCALENDAR", ""])).subcomponents:
                    cal.add_component(comp)
            except Exception as e:
                got.ignored.append((begun, f"its time zones (VTIMEZONE) cannot be read ({e}): "
                                           "times in them are read as local times"))
                head = head[:3]
            for ev in good:
                try:
                    one = icalendar.Calendar.from_ical("\r\n".join(
                        head + ev.lines + ["END:VCALENDAR", ""])).walk("VEVENT")[0]
                except Exception as e:
                    one = e
                parsed.append(one)
        kept = []
        for ev, comp in zip(good, parsed):
            if isinstance(comp, Exception):
                skipped.append((ev.line, f"the event cannot be read: {comp}"))
            elif comp.errors:
                prop, problem = comp.errors[0]
                skipped.append((ev.src.get(str(prop).upper(), ev.line), f"{prop}: {problem}"))
            else:
                kept.append(comp)
                lines.append(ev.line)
        cal.subcomponents = [c for c in cal.subcomponents if c.name != "VEVENT"] + kept
        cals.append(cal)
    skipped.sort(key=lambda p: p[0])
    return cals, lines, skipped, got.ignored


def read_calendars(path: Path, data: bytes | None = None):
    """The calendars of a file, holding the events that can be used, and the line of each
    VEVENT; a ValidationError when the file is not a calendar."""
    cals, lines, _, _ = _read(path, data)
    return cals, lines


# ------------------------------------------------------------------ times

def to_stored(value) -> str:
    """A DTSTART/DTEND value (date, naive or aware datetime) as the store writes it."""
    if isinstance(value, dt.datetime):
        text = value.strftime("%Y-%m-%dT%H:%M") + (f":{value.second:02d}" if value.second else "")
        off = value.utcoffset() if value.tzinfo else None
        if off is None:
            return text
        if off == dt.timedelta(0):
            return text + "Z"
        total = int(off.total_seconds()) // 60
        sign = "+" if total >= 0 else "-"
        return text + f"{sign}{abs(total) // 60:02d}:{abs(total) % 60:02d}"
    return value.isoformat()


def from_stored(text: str):
    """A stored date or date-time string as a date, naive datetime or aware datetime."""
    t = text.strip()
    if len(t) == 10:
        return dt.date.fromisoformat(t)
    if t.endswith("Z"):
        return dt.datetime.fromisoformat(t[:-1]).replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(t)


def _same_time(a: str | None, b: str | None) -> bool:
    """Two stored times meaning the same moment (09:00-07:00 is 16:00Z; 09:00 without offset is
    09:00-07:00 on a computer in Los Angeles)."""
    if a == b:
        return True
    if not a or not b:
        return False
    try:
        x, y = from_stored(a), from_stored(b)
    except ValueError:
        return False
    if isinstance(x, dt.datetime) and isinstance(y, dt.datetime):
        if (x.tzinfo is None) != (y.tzinfo is None):
            # a time without offset is a time of this computer's zone, as export writes it
            x, y = _as_instant(x), _as_instant(y)
        return x == y
    return False


def _zone_name(value) -> str | None:
    tz = getattr(value, "tzinfo", None)
    key = getattr(tz, "key", None) or getattr(tz, "zone", None)
    return key if key and key != "UTC" else None


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
    zone = _zone_name(start)
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
            if not _same_time(old, new):
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
        cals, lines, skipped, ignored = _read(path)
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


# ------------------------------------------------------------------ export

def _split_notes(notes: str | None) -> tuple[str, dict]:
    """(description, {trailer key: [values]}) of an event's notes."""
    text, meta = [], {}
    for line in (notes or "").splitlines():
        m = _TRAILER_RE.match(line)
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


# ------------------------------------------------------------------ time zones of an export

UTC = dt.UTC
_ZERO = dt.timedelta(0)
_UTC_NAMES = {"UTC", "UCT", "Etc/UTC", "Etc/UCT", "Universal", "Etc/Universal", "Zulu",
              "Etc/Zulu", "GMT", "Etc/GMT", "GMT0", "Etc/GMT0", "GMT+0", "Etc/GMT+0", "GMT-0",
              "Etc/GMT-0", "Greenwich", "Etc/Greenwich"}
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# A VTIMEZONE describes its zone this many years past the last time written in it: a full
# cycle of weekdays and leap years, so a yearly rule shows every day of the month it can fall on.
_ZONE_YEARS = 28


def named_zone(name: str | None):
    """The zone of an IANA name: datetime's UTC for UTC and its aliases, else a ZoneInfo; None
    for a name that is no zone."""
    name = (name or "").strip()
    if not name:
        return None
    if name in _UTC_NAMES:
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _zone_key_of(path: str) -> str | None:
    """The IANA name in the path of a zone file (/usr/share/zoneinfo/America/Chicago)."""
    at = path.rfind("zoneinfo/")
    if at < 0:
        return None
    key = path[at + len("zoneinfo/"):]
    for prefix in ("posix/", "right/"):
        key = key.removeprefix(prefix)
    return key or None


def local_zone():
    """This computer's time zone: a ZoneInfo when its IANA name can be found (from TZ, the
    /etc/localtime link or /etc/timezone), UTC, or None when it has no name to be found (on
    Windows, or TZ set to a rule such as EST5EDT,M3.2.0,M11.1.0); the system's clock rules
    still convert its times then."""
    env = os.environ.get("TZ")
    if env is not None:
        key = env.lstrip(":").strip()
        if not key:
            return UTC                          # an empty TZ is UTC
        if key.startswith("/"):
            key = _zone_key_of(os.path.realpath(key)) or ""
        return named_zone(key)
    key = _zone_key_of(os.path.realpath("/etc/localtime"))
    if key is None:
        try:
            key = Path("/etc/timezone").read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            key = None
    return named_zone(key)


def _as_instant(value: dt.datetime) -> dt.datetime:
    """An aware datetime as it is; a naive one as a time of this computer's zone."""
    if value.tzinfo is not None:
        return value
    tz = local_zone()
    return value.replace(tzinfo=tz) if tz is not None else value.astimezone()


class _Times:
    """How an export writes stored times, and the zones it wrote them in.

    A time of a series that names its `Time zone` is written in that zone. A time without
    offset is a wall-clock time where it was typed: it is written in `local` (the time_zone
    option, else this computer's zone), or, when that zone has no known name, in UTC as the
    system's clock rules convert it. Any other time with an offset is written in UTC, except in
    a series without zone, which keeps its own offset (a rule such as BYDAY=MO must run in local
    time, not in UTC). Nothing is written as a floating time.
    """

    def __init__(self, local):
        self.local = local
        self.spans: dict[str, list] = {}        # zone name -> [ZoneInfo, first, last time]
        self.offsets: set[dt.timedelta] = set()
        self.naive = 0                          # times without offset written

    def write(self, text: str, zone: str | None, series: bool):
        value = from_stored(text)
        if not isinstance(value, dt.datetime):
            return value
        tz = named_zone(zone)
        if tz is None and value.tzinfo is None:
            self.naive += 1
            tz = self.local
            if tz is None:
                value = value.astimezone()      # the offset the system's rules give
        if tz is not None:
            value = value.astimezone(tz) if value.tzinfo else value.replace(tzinfo=tz)
            if tz is not UTC:
                span = self.spans.setdefault(tz.key, [tz, value, value])
                span[1], span[2] = min(span[1], value), max(span[2], value)
            return value
        off = value.utcoffset()
        if not series or not off:
            return value.astimezone(UTC)
        self.offsets.add(off)
        return value.astimezone(dt.timezone(off))


def _offset_changes(tz, start: dt.datetime, end: dt.datetime) -> list[tuple]:
    """(POSIX second, offset before, offset after) of each change of a zone's UTC offset
    between two instants: the offset is read once a day, a change found to the second."""
    def offset(second: int) -> dt.timedelta:
        return dt.datetime.fromtimestamp(second, tz).utcoffset()
    out = []
    at, stop = int(start.timestamp()), int(end.timestamp())
    now = offset(at)
    while at < stop:
        nxt = min(at + 86400, stop)
        new = offset(nxt)
        if new != now:
            lo, hi = at, nxt
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset(mid) == now else (lo, mid)
            out.append((hi, now, new))
            now = new
        at = nxt
    return out


def _yearly_rules(days: list[dt.date]):
    """Yearly RRULEs (as dicts) that may fall on these days of one month: the nth or the last
    weekday of the month, a weekday within seven days (Friday on or after the 23rd), a weekday
    on the only days seen (a Friday that is the 1st), a fixed day of the month."""
    month = days[0].month
    weekdays = {d.weekday() for d in days}
    low, high = min(d.day for d in days), max(d.day for d in days)
    if len(weekdays) == 1:
        wd = _WEEKDAYS[weekdays.pop()]
        nths = {(d.day - 1) // 7 + 1 for d in days}
        if len(nths) == 1 and min(nths) <= 4:
            yield {"freq": "yearly", "bymonth": month, "byday": f"{min(nths)}{wd}"}
        if all(d.day + 7 > calendar.monthrange(d.year, d.month)[1] for d in days):
            yield {"freq": "yearly", "bymonth": month, "byday": f"-1{wd}"}
        if high - low <= 6:
            yield {"freq": "yearly", "bymonth": month, "byday": wd,
                   "bymonthday": list(range(low, min(low + 6, 31) + 1))}
            if high - low < 6:
                yield {"freq": "yearly", "bymonth": month, "byday": wd,
                       "bymonthday": list(range(low, high + 1))}
    if low == high:
        yield {"freq": "yearly", "bymonth": month, "bymonthday": low}


def _rule_day(rule: dict, year: int) -> dt.date | None:
    """The day of `year` one of those rules falls on (None when it skips the year)."""
    month = rule["bymonth"]
    days = [dt.date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)]
    monthdays = rule.get("bymonthday")
    if monthdays is not None:
        wanted = set(monthdays) if isinstance(monthdays, list) else {monthdays}
        days = [d for d in days if d.day in wanted]
    byday = rule.get("byday")
    if byday:
        days = [d for d in days if _WEEKDAYS[d.weekday()] == byday[-2:]]
        if byday[:-2]:
            nth = int(byday[:-2])
            days = [days[nth - 1 if nth > 0 else nth]] if len(days) >= abs(nth) else []
    return days[0] if len(days) == 1 else None


def _observance(daylight: bool, start: dt.datetime, before: dt.timedelta, after: dt.timedelta,
                name: str | None):
    comp = icalendar.TimezoneDaylight() if daylight else icalendar.TimezoneStandard()
    comp.add("dtstart", start)
    comp.add("tzoffsetfrom", before)
    comp.add("tzoffsetto", after)
    if name:
        comp.add("tzname", name)
    return comp


def zone_component(tz: zoneinfo.ZoneInfo, first: dt.datetime,
                   last: dt.datetime) -> icalendar.Timezone:
    """A VTIMEZONE (TZID the IANA name) good for times in `tz` from `first` on, made of rules.

    The zone's changes of offset are read through zoneinfo from the January of the year before
    `first` to 28 years after `last`. Changes that come back each year in the same month, at
    the same local time, between the same offsets make one STANDARD or DAYLIGHT with an RRULE
    (BYDAY=2SU, BYDAY=-1SU, a weekday within seven days such as Friday on or after the 23rd,
    or a fixed day of the month), ended by UNTIL when the rule stopped and open when it still
    runs. A change that does not come back is an observance of its own; a zone whose offset
    never changes is one STANDARD. No RDATE lists, so the zone does not end in 2037.
    DTSTART of each observance is the local time before the change, as RFC 5545 asks.
    """
    begin = dt.datetime(max(first.year - 1, 1900), 1, 1)
    start = begin.replace(tzinfo=tz).astimezone(UTC)
    end = dt.datetime(min(max(last.year, begin.year) + 1 + _ZONE_YEARS, 9999), 1, 1, tzinfo=UTC)
    final_year = end.year - 1
    changes = []
    for second, before, after in _offset_changes(tz, start, end):
        here = dt.datetime.fromtimestamp(second, tz)
        dst, was = here.dst(), dt.datetime.fromtimestamp(second - 1, tz).dst()
        # Ireland's winter time is its "daylight" time (negative DST): label by the summer one
        daylight = bool(dst and dst > _ZERO) or (not dst and bool(was and was < _ZERO))
        local = (dt.datetime.fromtimestamp(second, UTC) + before).replace(tzinfo=None)
        changes.append((second, local, before, after, here.tzname(), daylight))
    comps: list[tuple[dt.datetime, icalendar.Component]] = []
    if not changes or changes[0][0] > first.timestamp():
        here = begin.replace(tzinfo=tz)
        off = here.utcoffset()
        comps.append((begin, _observance(bool(here.dst() and here.dst() > _ZERO), begin, off,
                                         off, here.tzname())))
    groups: dict[tuple, dict[int, list]] = {}
    for change in changes:
        second, local, before, after, name, daylight = change
        groups.setdefault((local.month, local.time(), before, after, name, daylight),
                          {}).setdefault(local.year, []).append(change)
    for by_year in groups.values():
        years = sorted(by_year)
        while years:
            # the longest stretch of years from the first one left that one rule describes
            # exactly: on the day of each change, and on no day of a year without one
            first_year, rule, span = years[0], None, years[0]
            while len(by_year[first_year]) == 1 and span < final_year:
                seen = [by_year[y][0][1].date() for y in range(first_year, span + 2)
                        if y in by_year]
                fits = next((r for r in _yearly_rules(seen) if all(
                    _rule_day(r, y) == (by_year[y][0][1].date() if y in by_year else None)
                    and len(by_year.get(y, ())) <= 1 for y in range(first_year, span + 2))),
                    None)
                if fits is None:
                    break
                rule, span = fits, span + 1
            part = [c for y in years if y <= span for c in by_year[y]]
            years = [y for y in years if y > span]
            if rule is None or len(part) < 2:
                for _second, local, before, after, name, daylight in part:
                    comps.append((local, _observance(daylight, local, before, after, name)))
                continue
            second, local, before, after, name, daylight = part[0]
            comp = _observance(daylight, local, before, after, name)
            if span < final_year:
                # a day after the last change: past it whether a reader compares UNTIL with
                # the change in UTC (as RFC 5545 says) or with its local time
                rule["until"] = dt.datetime.fromtimestamp(part[-1][0] + 86400, UTC)
            comp.add("rrule", rule)
            comps.append((local, comp))
    out = icalendar.Timezone()
    out.add("tzid", tz.key)
    for _, comp in sorted(comps, key=lambda c: c[0]):
        out.add_component(comp)
    return out


def _stamp(text: str | None) -> dt.datetime:
    try:
        return dt.datetime.strptime(text or "", "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=dt.UTC)
    except ValueError:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _event_component(store, rec, times: _Times) -> icalendar.Event:
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
    times = _Times(local)
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
