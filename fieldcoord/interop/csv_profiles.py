# SPDX-License-Identifier: GPL-3.0-or-later
"""The CSV exports of programs partners use, read by their headers: Google Contacts, Outlook,
Thunderbird, the USFA fire department registry; and the suggested mapping of any other table
(interop layer)."""
from __future__ import annotations

import re
from collections.abc import Callable

from ..core import kinds as K
from .contacts import MethodIn
from .csv_table import AGENCY_EXTRA, CONTACT_EXTRA, Table, column_refs, repeatable_fields

USFA_MAP = {
    "code": "{HQ State}-{FDID}",
    "name": "Fire Dept Name",
    "address": "{HQ Addr1}, {HQ Addr2}, {HQ City}, {HQ State} {HQ Zip}",
    "jurisdiction": "{County} County, {HQ State}",
    "website": "Website",
    "level": "Organization Type",
    "discipline": "=fire",
    "notes": "Station: {Station Name}, {Station Addr1}, {Station Addr2}, {Station City}, "
             "{Station State} {Station Zip}",
}
USFA_HEAD = ("USFA National Fire Department Registry, FDID {FDID} ({HQ State}): {Dept Type} "
             "department, {Number Of Stations} station(s); firefighters: "
             "{Active Firefighters - Career} career, {Active Firefighters - Volunteer} volunteer, "
             "{Active Firefighters - Paid per Call} paid per call. Mail: {Mail PO Box}, "
             "{Mail Addr1}, {Mail Addr2}, {Mail City}, {Mail State} {Mail Zip}")


PROFILE_NAMES = {"usfa": "the USFA fire department registry",
                 "google": "a Google Contacts export", "outlook": "an Outlook export",
                 "thunderbird": "a Thunderbird export"}


def detect_profile(table: Table) -> str | None:
    if table.has("FDID", "Fire Dept Name", "HQ State"):
        return "usfa"
    if any(re.match(r"^(E-mail|Phone) \d+ - Value$", c) for c in table.columns):
        return "google"
    if table.has("First Name", "Last Name") and (
            table.has("E-mail Address") or table.has("Business Phone")
            or table.has("Mobile Phone")):
        return "outlook"
    if table.has("Display Name") and (table.has("Primary Email") or table.has("Work Phone")):
        return "thunderbird"
    return None


def _value(row: dict, col: str | None) -> str:
    return (row.get(col) or "").strip() if col else ""


def _first(row: dict, cols: list[str]) -> str:
    """The first of `cols` that holds a value in the row."""
    for c in cols:
        v = _value(row, c)
        if v:
            return v
    return ""


def _phone_kind(label: str) -> tuple[str, str | None]:
    low = label.strip().lstrip("*").strip().lower()
    if "fax" in low:
        return "fax", (low.replace("fax", "").strip() or None)
    if "pager" in low:
        return "pager", None
    if low in ("mobile", "cell", "iphone") or "mobile" in low:
        return "mobile", None
    if "satellite" in low:
        return "satellite_phone", None
    return "phone", low or None


def _join_address(row: dict, parts: list[tuple[str, str]]) -> str:
    """An address on one line from (part, column) pairs: street lines (and PO box), city,
    'state postcode', country."""
    got: dict[str, list[str]] = {}
    for part, col in parts:
        v = ", ".join(x.strip() for x in _value(row, col).splitlines() if x.strip())
        if v:
            got.setdefault(part, []).append(v)
    tail = " ".join(got.get("state", []) + got.get("code", []))
    return ", ".join(got.get("street", []) + got.get("city", []) + ([tail] if tail else [])
                     + got.get("country", []))


class ProfileReader:
    """How the rows of a recognised export are read: `read(row)` gives a person (name parts,
    organisation, title, notes and contact methods), `used` is the set of columns it reads, and
    `blank` the values an export writes for nothing (Outlook's Gender 'Unspecified'), so that
    a column holding only those is not reported as left unread."""

    def __init__(self, fields: dict, methods: list, addresses: dict, used: set,
                 blank: dict | None = None):
        self.fields = fields            # person key -> [columns], the first with a value wins
        self.methods = methods          # (column, kind, label), in the order they are added
        self.addresses = addresses      # label -> [(part, column)]
        self.used = used
        self.blank = blank or {}

    def read(self, row: dict) -> dict:
        p = {k: _first(row, self.fields.get(k, ())) for k in _PERSON_KEYS}
        methods, other = [], []
        for col, kind, label in self.methods:
            v = _value(row, col)
            if v:
                (other if kind == "other" else methods).extend(
                    MethodIn(kind, x, label) for x in _split_lines(kind, v))
        for label, parts in self.addresses.items():
            text = _join_address(row, parts)
            if text:
                methods.append(MethodIn("other", text, label))
        p["methods"] = methods + other          # phones and emails, addresses, then the rest
        return p


_PERSON_KEYS = ("first", "middle", "last", "prefix", "suffix", "display", "org", "title",
                "notes")


def _split_lines(kind: str, value: str) -> list[str]:
    """A phone or email cell holding several lines is that many values (an address or a note
    keeps its lines)."""
    if kind == "other":
        return [value]
    return [x.strip() for x in value.splitlines() if x.strip()]


def _plan_fields(table: Table, spec: dict) -> tuple[dict, set]:
    fields, used = {}, set()
    for key, names in spec.items():
        cols = [c for c in (table.column(n) for n in names) if c]
        fields[key] = cols
        used.update(cols)
    return fields, used


_LABEL_WORDS = {"business": "work", "work": "work", "home": "home", "other": "other",
                "personal": "personal", "private": "home", "office": "work"}


def _label(words) -> str | None:
    words = [_LABEL_WORDS.get(w, w) for w in words if w and not w.isdigit()]
    return " ".join(words) or None


# --------------------------------------------------------------- Google Contacts
_GOOGLE_FIELDS = {"first": ("First Name", "Given Name"), "middle": ("Middle Name",
                  "Additional Name"), "last": ("Last Name", "Family Name"),
                  "prefix": ("Name Prefix",), "suffix": ("Name Suffix",), "display": ("Name",),
                  "org": ("Organization Name", "Organization 1 - Name"),
                  "title": ("Organization Title", "Organization 1 - Title"),
                  "notes": ("Notes",)}
_GOOGLE_GROUP = re.compile(r"^(e-mail|phone|address|website|im) (\d+) - (.+)$", re.I)
_GOOGLE_ADDRESS = {"street": "street", "extended address": "street", "po box": "street",
                   "city": "city", "region": "state", "postal code": "code",
                   "country": "country"}


class _GoogleReader(ProfileReader):
    """Google Contacts: numbered groups ('E-mail 1 - Value', 'Phone 2 - Label'...), each
    value of a cell split at ' ::: ', an address from 'Formatted' or else its parts."""

    def __init__(self, table: Table):
        fields, used = _plan_fields(table, _GOOGLE_FIELDS)
        self.groups: dict[tuple[str, str], dict[str, str]] = {}
        for col in table.columns:
            m = _GOOGLE_GROUP.match(col or "")
            if not m:
                continue
            what, n, sub = m.group(1).lower(), m.group(2), m.group(3).strip().lower()
            known = {"value", "type", "label"} | (
                {"formatted", *_GOOGLE_ADDRESS} if what == "address" else set()) | (
                {"service", "protocol"} if what == "im" else set())
            if sub in known:
                self.groups.setdefault((what, n), {})[sub] = col
                used.add(col)
        super().__init__(fields, [], {}, used, {"group membership": {"* mycontacts"},
                                                "labels": {"* mycontacts"}})

    def read(self, row: dict) -> dict:
        p = super().read(row)
        for (what, _n), cols in self.groups.items():
            label = (_first(row, [cols.get("label"), cols.get("type")]) or "").lstrip("* ")
            label = label.strip()
            if what == "address":
                value = _first(row, [cols.get("formatted"), cols.get("value")]) or _join_address(
                    row, [(_GOOGLE_ADDRESS[s], c) for s, c in cols.items()
                          if s in _GOOGLE_ADDRESS])
            else:
                value = _value(row, cols.get("value"))
            for v in [x.strip() for x in value.split(" ::: ") if x.strip()]:
                if what == "e-mail":
                    p["methods"].append(MethodIn("email", v, label.lower() or None))
                elif what == "phone":
                    kind, lab = _phone_kind(label)
                    p["methods"].append(MethodIn(kind, v, lab))
                elif what == "address":
                    text = ", ".join(x.strip() for x in v.splitlines() if x.strip())
                    p["methods"].append(MethodIn("other", text, f"{label.lower()} address"
                                                 if label else "address"))
                elif what == "website":
                    p["methods"].append(MethodIn("other", v, "website"))
                else:
                    service = _first(row, [cols.get("service"), cols.get("protocol")])
                    p["methods"].append(MethodIn("other", v, service.lstrip("* ") or "IM"))
        return p


# --------------------------------------------------------------- Outlook
_OUTLOOK_FIELDS = {"first": ("First Name",), "middle": ("Middle Name",), "last": ("Last Name",),
                   "prefix": ("Title",), "suffix": ("Suffix",), "org": ("Company",),
                   "title": ("Job Title",), "notes": ("Notes",)}
_OUTLOOK_PHONES = (
    ("Primary Phone", "phone", None), ("Business Phone", "phone", "work"),
    ("Business Phone 2", "phone", "work"), ("Company Main Phone", "phone", "main"),
    ("Mobile Phone", "mobile", None), ("Home Phone", "phone", "home"),
    ("Home Phone 2", "phone", "home"), ("Car Phone", "mobile", "car"),
    ("Other Phone", "phone", "other"), ("Assistant's Phone", "phone", "assistant"),
    ("Callback", "phone", "callback"), ("Radio Phone", "phone", "radio"),
    ("ISDN", "phone", "ISDN"), ("TTY/TDD Phone", "phone", "TTY/TDD"),
    ("Telex", "phone", "telex"), ("Business Fax", "fax", "work"), ("Home Fax", "fax", "home"),
    ("Other Fax", "fax", "other"), ("Pager", "pager", None))
_PHONE_WORDS = {"phone": "phone", "telephone": "phone", "tel": "phone", "mobile": "mobile",
                "cell": "mobile", "cellular": "mobile", "fax": "fax", "pager": "pager",
                "beeper": "pager", "satellite": "satellite_phone"}
_OUTLOOK_EMAIL = re.compile(r"^(?:(\w+) )?e-?mail(?: (\d+))?(?: (address|type|display name))?"
                            r"(?: (\w+))?$")
_OUTLOOK_ADDRESS = re.compile(
    r"^(business|home|other|work|personal|mailing|postal) (street(?: address)?(?: \d)?|"
    r"address(?: \d)?|(?:address )?p\.?o\.? box|city|state|province|postal code|"
    r"zip(?: ?code)?|postcode|country/region|country)$")
_OUTLOOK_WEB = re.compile(r"^(?:(\w+) )?(?:web ?page|web ?site|home ?page)(?: \d)?$")


def _address_part(part: str) -> str:
    """'street' (street lines and PO box), 'city', 'state', 'code' or 'country'."""
    if part.startswith(("postal", "zip", "postcode")):
        return "code"
    if part in ("state", "province"):
        return "state"
    if part.startswith("country"):
        return "country"
    return "city" if part == "city" else "street"


def outlook_column(col: str):
    """What an Outlook column holds, as ('method', kind, label), ('address', label, part),
    ('implied',) for what another column holds already (Initials, an e-mail's type and
    display name), or None. Several Outlook versions and exporters name the same thing
    differently ('E-mail 2 Address', 'Email Home', 'Home Mobile', 'Phone Video')."""
    low = " ".join(col.casefold().split())
    for name, kind, label in _OUTLOOK_PHONES:
        if low == name.casefold():
            return ("method", kind, label)
    if low == "initials":
        return ("implied",)
    m = _OUTLOOK_EMAIL.match(low)
    if m:
        if m.group(3) in ("type", "display name"):
            return ("implied",)
        return ("method", "email", _label([m.group(1), m.group(4)]))
    m = _OUTLOOK_ADDRESS.match(low)
    if m:
        return ("address", f"{_label([m.group(1)])} address", _address_part(m.group(2)))
    m = _OUTLOOK_WEB.match(low)
    if m:
        return ("method", "other", f"{_label([m.group(1)])} website" if m.group(1)
                else "website")
    if re.fullmatch(r"im ?address(?: \d)?|im", low):
        return ("method", "other", "IM")
    words = re.findall(r"[\w/']+", low)
    kinds = [_PHONE_WORDS[w] for w in words if w in _PHONE_WORDS]
    if kinds:
        kind = next((k for k in ("fax", "pager", "satellite_phone", "mobile") if k in kinds),
                    "phone")
        return ("method", kind, _label([w for w in words if w not in _PHONE_WORDS
                                        and w not in ("number", "no", "#")]))
    return None


def _outlook_reader(table: Table) -> ProfileReader:
    fields, used = _plan_fields(table, _OUTLOOK_FIELDS)
    known = [n.casefold() for n, _, _ in _OUTLOOK_PHONES]
    ranked, addresses = [], {}
    for i, col in enumerate(table.columns):
        if not col or col in used:
            continue
        what = outlook_column(col)
        if what is None:
            continue
        used.add(col)
        if what[0] == "method":
            _, kind, label = what
            low = " ".join(col.casefold().split())
            # the phones first (the best known first), then emails, websites and the like
            rank = (0, known.index(low)) if low in known else \
                (1, i) if kind in K.PHONE_KINDS else (2 if kind == "email" else 3, i)
            ranked.append((rank, (col, kind, label)))
        elif what[0] == "address":
            addresses.setdefault(what[1], []).append((what[2], col))
    methods = [m for _, m in sorted(ranked, key=lambda x: x[0])]
    blank = {"gender": {"unspecified"}, "priority": {"normal"}, "sensitivity": {"normal"},
             "private": {"false"}, "birthday": {"0/0/00"}, "anniversary": {"0/0/00"}}
    return ProfileReader(fields, methods, addresses, used, blank)


# --------------------------------------------------------------- Thunderbird
_THUNDERBIRD_FIELDS = {"first": ("First Name",), "last": ("Last Name",),
                       "display": ("Display Name",), "org": ("Organization",),
                       "title": ("Job Title",), "notes": ("Notes",)}
_THUNDERBIRD_METHODS = (
    ("Primary Email", "email", None), ("Secondary Email", "email", None),
    ("Work Phone", "phone", "work"), ("Home Phone", "phone", "home"),
    ("Mobile Number", "mobile", None), ("Fax Number", "fax", None),
    ("Pager Number", "pager", None), ("Web Page 1", "other", "website"),
    ("Web Page 2", "other", "website"), ("Screen Name", "other", "screen name"))
_THUNDERBIRD_ADDRESS = (("Address", "street"), ("Address 2", "street"), ("City", "city"),
                        ("State", "state"), ("ZipCode", "code"), ("Country", "country"))


def _thunderbird_reader(table: Table) -> ProfileReader:
    fields, used = _plan_fields(table, _THUNDERBIRD_FIELDS)
    methods = []
    for name, kind, label in _THUNDERBIRD_METHODS:
        col = table.column(name)
        if col:
            methods.append((col, kind, label))
            used.add(col)
    addresses = {}
    for prefix, label in (("Work", "work address"), ("Home", "home address")):
        for name, part in _THUNDERBIRD_ADDRESS:
            col = table.column(f"{prefix} {name}")
            if col:
                addresses.setdefault(label, []).append((part, col))
                used.add(col)
    return ProfileReader(fields, methods, addresses, used)


PROFILE_READERS: dict[str, Callable[[Table], ProfileReader]] = {
    "google": _GoogleReader, "outlook": _outlook_reader, "thunderbird": _thunderbird_reader}


def many_values(value) -> list[str]:
    """A mapped value as its list of values (a field mapped to several columns has one per
    column; a cell may hold several lines, or values separated by ' ::: ')."""
    out = []
    for v in value if isinstance(value, list) else [value]:
        out += [x for x in re.split(r"\s*\n\s*|\s+:::\s+", v or "") if x.strip()]
    return out


def person_mapped(values: dict) -> dict:
    """A person from a user's (or a generic header's) mapping."""
    p = {"first": values.get("first_name", ""), "middle": values.get("middle_name", ""),
         "last": values.get("last_name", ""), "prefix": "", "suffix": "",
         "display": values.get("name", ""), "org": values.get("organization", ""),
         "agency": values.get("agency", ""), "agency_name": values.get("agency_name", ""),
         "title": values.get("title", ""),
         "notes": values.get("notes", ""), "ics_position": values.get("ics_position", ""),
         "languages": values.get("languages", ""), "id": values.get("id", ""), "methods": []}
    for kind in ("phone", "mobile", "satellite_phone", "email", "fax", "pager", "call_sign"):
        for v in many_values(values.get(kind)):
            p["methods"].append(MethodIn(kind, v))
    address = values.get("address")
    for v in address if isinstance(address, list) else [address]:
        if v:
            p["methods"].append(MethodIn("other", ", ".join(
                x.strip() for x in v.splitlines() if x.strip()), "address"))
    website = values.get("website")
    for v in website if isinstance(website, list) else [website]:
        if v:
            p["methods"].append(MethodIn("other", v, "website"))
    return p


_EMAIL_HEADERS = ("e_mail", "email_address", "e_mail_address", "mail", "emails")


def generic_spec(table: Table, kind: K.Kind) -> dict:
    """Columns whose header is a field's name or title (as fieldcoord's own export writes)."""
    names = {f.name for f in kind.fields}
    if kind.name == "contact":
        names |= set(CONTACT_EXTRA)
    elif kind.name == "agency":
        names |= set(AGENCY_EXTRA)
    titles = {f.title.casefold(): f.name for f in kind.fields}
    repeatable = repeatable_fields(kind)
    spec = {}
    for col in table.columns:
        key = col.strip().casefold()
        as_name = re.sub(r"[\s-]+", "_", key)
        fld = as_name if as_name in names else titles.get(key)
        if fld is None and kind.name == "contact" and as_name in _EMAIL_HEADERS:
            fld = "email"
        if not fld:
            continue
        if fld not in spec:
            spec[fld] = col
        elif fld in repeatable:             # 'Email' and 'E-mail': each gives one email
            spec[fld] = column_refs(spec[fld]) + [col]
    return spec


def mappable_fields(kind: K.Kind) -> list[str]:
    """The fields a column mapping for `kind` may name: the kind's own, then the extra ones
    (a contact's first_name, phone, email...; an agency's phone, email, fax)."""
    extra = CONTACT_EXTRA if kind.name == "contact" else \
        AGENCY_EXTRA if kind.name == "agency" else ()
    return [f.name for f in kind.fields] + [x for x in extra if x not in kind.field_map]


def suggest_mapping(table: Table, kind: K.Kind) -> dict:
    """The mapping an import given none would use: columns named like the kind's fields."""
    return generic_spec(table, kind)
