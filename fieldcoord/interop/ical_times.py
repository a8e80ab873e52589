# SPDX-License-Identifier: GPL-3.0-or-later
"""Times of iCalendar files and of the store, and the time zones of an export: the zone of
times stored without one, and VTIMEZONEs made of yearly rules derived from zoneinfo
(interop layer)."""
from __future__ import annotations

import calendar
import datetime as dt
import os
import zoneinfo
from pathlib import Path

import icalendar


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


def same_time(a: str | None, b: str | None) -> bool:
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
            x, y = as_instant(x), as_instant(y)
        return x == y
    return False


def zone_name(value) -> str | None:
    tz = getattr(value, "tzinfo", None)
    key = getattr(tz, "key", None) or getattr(tz, "zone", None)
    return key if key and key != "UTC" else None


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


def as_instant(value: dt.datetime) -> dt.datetime:
    """An aware datetime as it is; a naive one as a time of this computer's zone."""
    if value.tzinfo is not None:
        return value
    tz = local_zone()
    return value.replace(tzinfo=tz) if tz is not None else value.astimezone()


class ExportTimes:
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
