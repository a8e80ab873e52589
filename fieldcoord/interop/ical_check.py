# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading an iCalendar file (RFC 5545) the way ical.py imports it: every content line checked,
the events it can use collected, the rest reported with its line (interop layer)."""
from __future__ import annotations

import re
from pathlib import Path

import icalendar

from ..core.errors import ValidationError

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


def read_checked(path: Path, data: bytes | None = None):
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
    cals, lines, _, _ = read_checked(path, data)
    return cals, lines
