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

The event's UID is kept as the last line of its notes (`iCalendar UID: ...`); importing the same
file again updates those records instead of adding new ones. Events exported from fieldcoord
carry the UID `<record id>@fieldcoord` and match their record directly.
"""
from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from pathlib import Path

import icalendar

from ..core import kinds as K
from ..core.errors import Cancelled, ValidationError
from ..core.validate import MAX_TEXT
from .report import ExportReport, ImportReport
from .exporting import selected, write_atomically

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


def _check_value(name: str, params: str, value: str) -> str | None:
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


def _check(path: Path, text: str) -> _Checked:
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
        return dt.datetime.fromisoformat(t[:-1]).replace(tzinfo=dt.timezone.utc)
    return dt.datetime.fromisoformat(t)


def _same_time(a: str | None, b: str | None) -> bool:
    """Two stored times meaning the same moment (09:00-07:00 is 16:00Z)."""
    if a == b:
        return True
    if not a or not b:
        return False
    try:
        x, y = from_stored(a), from_stored(b)
    except ValueError:
        return False
    if isinstance(x, dt.datetime) and isinstance(y, dt.datetime) and \
            (x.tzinfo is None) == (y.tzinfo is None):
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


def _event_values(ev, options: dict, known) -> tuple[dict, dict]:
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


def import_files(store, paths, options: dict, progress=None, cancelled=None) -> ImportReport:
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


def _ical_time(text: str, zone: str | None, fixed: set | None = None):
    """A stored time for DTSTART and the like: in its named zone when the notes name one; a
    time with an offset in UTC, or, for a series (`fixed` given), at its own offset (a rule such
    as BYDAY=MO must run in local time, not in UTC); a time without offset floating."""
    value = from_stored(text)
    if not isinstance(value, dt.datetime):
        return value
    if zone:
        try:
            tz = zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            tz = None
        if tz is not None:
            return value.astimezone(tz) if value.tzinfo else value.replace(tzinfo=tz)
    if value.tzinfo:
        off = value.utcoffset()
        if fixed is None or not off:
            return value.astimezone(dt.timezone.utc)
        fixed.add(off)
        return value.replace(tzinfo=dt.timezone(off))
    return value


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
            tzinfo=dt.timezone.utc)
    except ValueError:
        return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _event_component(store, rec, offsets: set) -> icalendar.Event:
    v = rec.values
    description, meta = _split_notes(v.get("notes"))
    zone = (meta.get("Time zone") or [None])[0]
    ev = icalendar.Event()
    key = uid_of(v.get("notes"))
    series = bool(meta.get("Repeats") or meta.get("Also") or (key and key[1]))
    fixed = offsets if series else None
    ev.add("uid", key[0] if key else f"{rec.id}{UID_DOMAIN}")
    ev.add("dtstamp", _stamp(rec.updated_at))
    ev.add("created", _stamp(rec.created_at))
    ev.add("last-modified", _stamp(rec.updated_at))
    ev.add("summary", v["title"])
    start = _ical_time(v["start"], zone, fixed)
    ev.add("dtstart", start)
    if isinstance(start, dt.datetime):
        if v.get("end"):
            end = _ical_time(v["end"], zone, fixed)
            if not isinstance(end, dt.datetime):
                end = dt.datetime.combine(end, dt.time(23, 59), start.tzinfo)
            ev.add("dtend", end)
    else:
        last = from_stored(v["end"]) if v.get("end") else start
        if isinstance(last, dt.datetime):
            last = last.date()
        ev.add("dtend", max(last, start) + dt.timedelta(days=1))
    if key and key[1]:
        ev.add("recurrence-id", _ical_time(key[1], zone, fixed))
    for rule in meta.get("Repeats", []):
        ev.add("rrule", icalendar.vRecur.from_ical(rule))
    for name, prop in (("Except", "exdate"), ("Also", "rdate")):
        items = [x.strip() for line in meta.get(name, []) for x in line.split(",") if x.strip()]
        if items:
            values = []
            for item in items:
                if "/" in item:
                    a, _, b = item.partition("/")
                    values.append((_ical_time(a, zone, fixed),
                                   icalendar.vDuration.from_ical(b) if b.startswith(("P", "+P",
                                                                                     "-P"))
                                   else _ical_time(b, zone, fixed)))
                else:
                    values.append(_ical_time(item, zone, fixed))
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
    """Write events and agreements' review and expiry dates as one iCalendar file."""
    report = ExportReport("ical", str(path))
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
    offsets: set = set()
    for k in kinds:
        for rec in chosen[k]:
            done += 1
            if cancelled and cancelled():
                raise Cancelled("export cancelled")
            if progress and (done % 50 == 0 or done == total):
                progress("Exporting calendar", done, total)
            if k == "event":
                cal.add_component(_event_component(store, rec, offsets))
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
    cal.add_missing_timezones()
    for off in sorted(offsets, reverse=True):
        cal.subcomponents.insert(0, _offset_zone(off))
    write_atomically(Path(path), cal.to_ical())
    return report
