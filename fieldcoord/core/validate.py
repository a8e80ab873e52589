# SPDX-License-Identifier: GPL-3.0-or-later
"""Normalising and checking field values, with messages a liaison understands (core layer).

Reference fields (REF, REFS) are only checked for shape here; the store resolves them.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping
from functools import lru_cache
from typing import Any, NoReturn

import phonenumbers

from . import kinds as K
from .errors import ValidationError

MAX_TEXT = 20_000
_EMAIL_RE = re.compile(r"^[^@\s<>(),;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                       r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,11}$")
_URL_RE = re.compile(r"^(https?://)?[^\s/]+\.[^\s/]+(/\S*)?$", re.I)
_DATETIME_RE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?$",
    re.I)

# Spellings users type for enum values.
_ENUM_ALIASES = {
    "24x7": "24/7", "247": "24/7", "24_7": "24/7", "always": "24/7",
    "office": "office_hours", "business_hours": "office_hours",
    "after": "after_hours", "afterhours": "after_hours", "out_of_hours": "after_hours",
    "community_based": "community", "non_governmental": "ngo", "nonprofit": "ngo",
    "police": "law_enforcement", "law": "law_enforcement", "le": "law_enforcement",
    "em": "emergency_management", "oem": "emergency_management",
    "cell": "mobile", "cellphone": "mobile", "cell_phone": "mobile", "tel": "phone",
    "telephone": "phone", "landline": "phone", "sat": "satellite_phone",
    "satellite": "satellite_phone", "satphone": "satellite_phone", "mail": "email",
    "e_mail": "email", "callsign": "call_sign", "radio": "call_sign",
    "radio_call_sign": "call_sign",
    "oos": "out_of_service", "enroute": "en_route", "onscene": "on_scene", "canceled": "cancelled",
    "demobilised": "demobilized", "demobilise": "demobilized", "demobilize": "demobilized",
    "acknowledge": "acknowledged", "ack": "acknowledged", "commit": "committed",
    "unable": "unable_to_fill", "not_filled": "unable_to_fill", "unfilled": "unable_to_fill",
    "ground_air": "ground_to_air", "air_ground": "ground_to_air", "air_air": "air_to_air",
    "fullscale": "full_scale", "table_top": "tabletop", "mutual_aid_agreement": "mutual_aid",
    "maa": "mutual_aid", "standing": "standing_by", "standby": "standing_by",
    "stand_by": "standing_by",
    "done": "done", "closed_out": "done",
}


# field types whose stored form is the text given, trimmed
_PLAIN_TEXT = frozenset((K.TEXT, K.REF))


def _fail(kind: K.Kind, fld: K.Field, problem: str) -> ValidationError:
    return ValidationError(f"{kind.label} {fld.name}: {problem}", fld.name)


def enum_key(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


def normalise_enum(kind: K.Kind, fld: K.Field, value: object) -> str:
    text = str(value).strip()
    if fld.choices == K.TYPE_LEVELS:
        from .library import normalise_type_level
        level = normalise_type_level(text)
        if level:
            return level
    key = enum_key(text)
    # a field's own choice first: an alias of another field's word may be a choice here
    # ("standby": a facility's status; an operation member "standing by")
    for k in dict.fromkeys((key, _ENUM_ALIASES.get(key, key))):
        for choice in fld.choices:
            if k == enum_key(choice):
                return choice
    raise _fail(kind, fld, f"'{text}' is not one of {', '.join(fld.choices)}")


def normalise_date(text: str) -> str:
    """ISO date YYYY-MM-DD ('today' accepted); raises ValueError."""
    t = text.strip().lower()
    if t == "today":
        return dt.date.today().isoformat()
    return dt.date.fromisoformat(t).isoformat() if len(t) == 10 else _bad_date(text)


def _bad_date(text: str) -> NoReturn:
    raise ValueError(text)


def normalise_datetime(text: str) -> str:
    """ISO date or date-time to the minute (seconds kept when given), offset kept; 'now'
    accepted."""
    t = text.strip()
    if t.lower() == "now":
        return dt.datetime.now().strftime("%Y-%m-%dT%H:%M")
    if t.lower() == "today":
        return dt.date.today().isoformat()
    m = _DATETIME_RE.match(t)
    if not m:
        raise ValueError(text)
    day, hh, mm, ss, tz = m.groups()
    dt.date.fromisoformat(day)
    if hh is None:
        return day
    h, mi, s = int(hh), int(mm), int(ss or 0)
    if h > 23 or mi > 59 or s > 59:
        raise ValueError(text)
    out = f"{day}T{h:02d}:{mi:02d}" + (f":{s:02d}" if ss else "")
    if tz:
        tz = tz.upper()
        if tz != "Z":
            tz = tz.replace(":", "")
            tz = f"{tz[:3]}:{tz[3:]}"
            if int(tz[1:3]) > 14 or int(tz[4:]) > 59:
                raise ValueError(text)
            if tz in ("+00:00", "-00:00"):
                tz = "Z"
        out += tz
    return out


_PHONE_CHARS_RE = re.compile(r"^\+?[\d\s\-.()/]+$")
NANP_REGIONS = {"US", "CA", "PR", "GU", "VI", "AS", "MP"}


def normalise_phone(text: str, region: str = "US") -> str:
    """E.164 (with ';ext=N' for extensions) when the number parses as a whole number, otherwise
    the text as typed (a local number without area code stays as typed, too)."""
    raw = text.strip()
    digits = re.sub(r"\D", "", raw)
    if len(digits) < 3:
        raise ValueError(raw)
    if _PHONE_CHARS_RE.match(raw):
        # North American numbers, the common case, without the cost of a full parse.
        if raw.startswith("+"):
            if len(digits) == 11 and digits[0] == "1":
                return "+" + digits
        elif region in NANP_REGIONS and (len(digits) == 10 or (len(digits) == 11
                                                                and digits[0] == "1")):
            return "+1" + digits[-10:]
    try:
        num = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return raw
    if phonenumbers.is_possible_number_with_reason(num) != \
            phonenumbers.ValidationResult.IS_POSSIBLE:
        return raw
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    return f"{e164};ext={num.extension}" if num.extension else e164


def normalise_email(text: str) -> str:
    t = text.strip()
    if t.lower().startswith("mailto:"):
        t = t[7:]
    if not _EMAIL_RE.match(t):
        raise ValueError(text)
    local, domain = t.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def normalise_field(kind: K.Kind, fld: K.Field,  # noqa: C901 - a branch per field type
                    value: object) -> object:
    """The stored form of one field value, or None to clear it. Raises ValidationError."""
    if type(value) is str and fld.type in _PLAIN_TEXT:
        line = value.strip()           # (the common case first: a line of text)
        if line:
            if len(line) > MAX_TEXT:
                raise _fail(kind, fld, f"is too long (at most {MAX_TEXT} characters)")
            return line
    if value is None or (isinstance(value, str) and not value.strip()):
        if fld.required:
            raise _fail(kind, fld, "is required")
        return None
    t = fld.type
    if t == K.REFS:
        items = value if isinstance(value, (list, tuple)) else str(value).split(",")
        return [str(v).strip() for v in items if str(v).strip()] or None
    if isinstance(value, (list, dict, tuple, set)):
        raise _fail(kind, fld, "takes a single value")
    text = str(value).strip() \
        if not isinstance(value, (int, float)) or isinstance(value, bool) else value
    try:
        if t in (K.TEXT, K.REF):
            if len(str(text)) > MAX_TEXT:
                raise _fail(kind, fld, f"is too long (at most {MAX_TEXT} characters)")
            return str(text)
        if t == K.INT:
            n = int(text) if not isinstance(text, float) or text.is_integer() else _bad_int(text)
            if n < 0:
                raise _fail(kind, fld, f"must not be negative (got {n})")
            if fld.name == "priority" and n < 1:
                raise _fail(kind, fld, "must be 1 (first to try) or more")
            return n
        if t in (K.REAL, K.LAT, K.LON):
            x = float(text)
            if x != x or x in (float("inf"), float("-inf")):
                raise ValueError(text)
            if t == K.LAT and not -90 <= x <= 90:
                raise _fail(kind, fld, f"latitude must be between -90 and 90 (got {x:g})")
            if t == K.LON and not -180 <= x <= 180:
                raise _fail(kind, fld, f"longitude must be between -180 and 180 (got {x:g})")
            if fld.name.endswith("_freq") and not 0.03 <= x <= 3000:
                raise _fail(kind, fld, f"frequency is in MHz, between 0.03 and 3000 (got {x:g})")
            return x
        if t == K.DATE:
            try:
                return normalise_date(str(text))
            except ValueError:
                raise _fail(kind, fld, f"'{text}' is not a date; write it as YYYY-MM-DD") from None
        if t == K.DATETIME:
            try:
                return normalise_datetime(str(text))
            except ValueError:
                raise _fail(kind, fld, f"'{text}' is not a date and time; write it as "
                                       "YYYY-MM-DD HH:MM") from None
        if t == K.ENUM:
            return normalise_enum(kind, fld, text)
        if t == K.EMAIL:
            try:
                return normalise_email(str(text))
            except ValueError:
                raise _fail(kind, fld, f"'{text}' is not an email address") from None
        if t == K.PHONE:
            try:
                return normalise_phone(str(text))
            except ValueError:
                raise _fail(kind, fld, f"'{text}' is not a phone number") from None
        if t == K.URL:
            if not _URL_RE.match(str(text)):
                raise _fail(kind, fld, f"'{text}' is not a web address")
            return str(text) if "://" in str(text) else f"https://{text}"
        if t == K.CODE:
            code = str(text).upper()
            if not CODE_RE.match(code):
                raise _fail(kind, fld, f"'{text}' is not a valid agency code: use 2 to 12 letters, "
                                       "digits or hyphens, such as CFD or MPD-2")
            return code
    except ValidationError:
        raise
    except (ValueError, TypeError):
        noun = {K.INT: "a whole number", K.REAL: "a number", K.LAT: "a number",
                K.LON: "a number"}.get(t, "valid")
        raise _fail(kind, fld, f"'{text}' is not {noun}") from None
    raise AssertionError(f"unknown field type {t}")


def _bad_int(value: object) -> NoReturn:
    raise ValueError(value)


def normalise_method_value(method_kind: str, value: str, region: str = "US") -> str:
    """A contact method's value in stored form, checked against its kind."""
    fld = K.KINDS["method"].field_map["value"]
    kind = K.KINDS["method"]
    if method_kind == "email":
        try:
            return normalise_email(value)
        except ValueError:
            raise _fail(kind, fld, f"'{value}' is not an email address") from None
    if method_kind in K.PHONE_KINDS:
        try:
            return normalise_phone(value, region)
        except ValueError:
            raise _fail(kind, fld, f"'{value}' is not a phone number") from None
    if method_kind == "call_sign":
        return re.sub(r"\s+", " ", value.strip()).upper()
    return value.strip()


def check_dates_in_order(kind: K.Kind, row: Mapping[str, Any], first: str, second: str
                         ) -> None:
    a, b = row.get(first), row.get(second)
    if a and b and str(b)[:len(str(a))] < str(a)[:len(str(b))]:
        raise ValidationError(f"{kind.label} {second}: {b} is before {first} {a}", second)


def field_label(kind: K.Kind, name: str | None) -> str:
    """The label a user sees for one of `kind`'s fields (or owner, scope), e.g. 'Expiry date'."""
    if not name:
        return ""
    fld = kind.field_map.get(name)
    if fld is not None:
        return fld.title
    return {"scope": "Sharing scope", "owner": "Owner"}.get(
        name, name.replace("_", " ").capitalize())


_CLI_HINT_RE = re.compile(r" \((?:[a-z_]+=[A-Za-z_]+)\)")


def plain_message(kind: K.Kind, message: str, field: str | None = None) -> str:
    """A refusal worded for a form: the field's label instead of its internal name.

    'agreement expiry_date: 2020-01-01 is before effective_date 2021-01-01' becomes
    'Expiry date: 2020-01-01 is before effective date 2021-01-01', and
    'contact name: is required' becomes 'Name is required'. The command line keeps the
    internal names, which are what its users type; dialogs show this form instead.
    """
    text = message.strip()
    label = None
    for name in ([field] if field else []) + [f.name for f in kind.fields] + ["scope", "owner"]:
        for prefix in (f"{kind.label} {name}:", f"{name}:"):
            if text.startswith(prefix):
                label, text = field_label(kind, name), text[len(prefix):].strip()
                break
        if label:
            break
    text = _CLI_HINT_RE.sub("", text)
    for fld in sorted(kind.fields, key=lambda f: -len(f.name)):
        if "_" in fld.name:
            text = re.sub(rf"\b{re.escape(fld.name)}\b", fld.title.lower(), text)
    if label is None:
        return text[:1].upper() + text[1:]
    if re.match(r"(is|must|cannot|takes) ", text):
        return f"{label} {text}"
    return f"{label}: {text}"


def check_fields(kind: K.Kind, values: Mapping[str, Any],
                 only: Collection[str] | None = None) -> dict[str, Any]:
    """Every field of a form checked at once: the stored forms of `values`, or one
    ValidationError whose `errors` name each refused field (with the kind's label and the
    field's name, as the store words them).

    Checks what needs no database: each of `kind`'s fields (required ones included), the
    sharing scope's shape, and the date pairs the kind keeps in order. Keys that are not
    fields of `kind` are left out of the result. With `only`, refusals are reported for those
    fields alone (an edit: values the user did not touch are not held against them).
    Pure: references are resolved, and partner codes looked up, by the store when it writes.
    """
    out, found = {}, []
    for name, value in values.items():
        fld = kind.field_map.get(name)
        try:
            if fld is not None:
                out[name] = normalise_field(kind, fld, value)
            elif name == "scope" and value not in (None, ""):
                out[name] = normalise_scope(str(value))
        except ValidationError as e:
            if only is None or name in only:
                found.append(e)
    for first, second in kind.in_order:
        if only is not None and first not in only and second not in only:
            continue
        try:
            check_dates_in_order(kind, out, first, second)
        except ValidationError as e:
            found.append(e)
    if found:
        raise ValidationError.combine(found)
    return out


SCOPE_HELP = ("use 'private', 'all', or agency codes separated by commas (such as MPD,CSO), "
              "optionally followed by '+edit' to let those partners edit")


@lru_cache(maxsize=1024)
def parse_scope(text: str) -> tuple[str, tuple[str, ...], bool]:
    """Split a scope into (form, codes, partners_edit): form is 'private', 'all' or 'list'."""
    t = str(text).strip()
    edit = False
    if t.lower().endswith("+edit"):
        edit, t = True, t[:-5].strip()
    low = t.lower()
    if low == "private":
        return "private", (), edit
    if low == "all":
        return "all", (), edit
    codes = tuple(sorted({c.strip().upper() for c in re.split(r"[,\s]+", t) if c.strip()}))
    if not codes or any(not CODE_RE.match(c) for c in codes):
        raise ValidationError(f"scope: '{text}' is not a sharing scope; {SCOPE_HELP}", "scope")
    return "list", codes, edit


@lru_cache(maxsize=1024)
def normalise_scope(text: str) -> str:
    form, codes, edit = parse_scope(text)
    base = ",".join(codes) if form == "list" else form
    return base + ("+edit" if edit else "")


@lru_cache(maxsize=4096)
def audience(owner: str, scope: str) -> str:
    """Who may see a record: 'all', or the sorted codes of the owner and its listed partners.

    The change log keeps one stream per (origin, audience), so filtered replication stays gap-free.
    """
    form, codes, _ = parse_scope(scope)
    if form == "all":
        return "all"
    return ",".join(sorted({owner, *codes}))


def partners_may_edit(scope: str) -> bool:
    return parse_scope(scope)[2]


def may_see(agency_code: str, aud: str) -> bool:
    return aud == "all" or agency_code in aud.split(",")
