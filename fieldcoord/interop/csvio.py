# SPDX-License-Identifier: GPL-3.0-or-later
"""CSV in: contact exports, agency registries, any table with a column mapping (interop).

Import recognises Google Contacts, Outlook and Thunderbird exports and the USFA National Fire
Department Registry by their header rows; any other table is read with a column mapping:
`options["map"] = {field: column}` where a column is named by its header, by its number (1 =
first; the file then has no header row), as a template such as "{HQ City}, {HQ State}", or as a
constant "=fire"; a contact method (email, phone, address...) may be given a list of them, each
giving one method, while any other field takes one. A mapping can be saved by name
(`options["save_mapping"]`) and used again (`options["mapping"]`); saved mappings live in
csv-mappings.json in the user's config folder (platformdirs, or $FIELDCOORD_CONFIG_DIR). The
encoding (UTF-8, UTF-16, Windows code pages, Shift-JIS) and the delimiter are detected; quoted
line breaks stay in the values. The report names, in one line per file, the columns holding
values that were not read (neither the profile nor the mapping uses them).

Contacts go through the shared duplicate matching of `contacts.Directory`; `options["no_match"]`
lists rows to add as new contacts even when they match one (line numbers, "FILE:LINE" or
(file, line) pairs, as the report's matches name them). Agencies are matched
by code (or name); rows with the same code are one agency, whose note lines collect every row's
(a registry's stations). Export is interop/csvexport.py.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

from ..core import kinds as K
from ..core.errors import ValidationError
from ..core.validate import normalise_field
from .contacts import ContactIn, Directory, MethodIn, Pacer, derive_code, name_key, rows_kept_apart
from .report import ImportReport
from .textfile import read_text, sniff_delimiter

MAPPINGS_FILE = "csv-mappings.json"
# Fields a contact mapping may name besides the contact's own.
CONTACT_EXTRA = ("first_name", "middle_name", "last_name", "organization", "agency_name",
                 "phone", "mobile",
                 "satellite_phone", "email", "fax", "pager", "call_sign", "address", "website",
                 "id")
AGENCY_EXTRA = ("phone", "email", "fax")
# Fields a mapping may fill from several columns: each column gives one contact method.
CONTACT_REPEATABLE = ("phone", "mobile", "satellite_phone", "email", "fax", "pager", "call_sign",
                      "address", "website")
AGENCY_REPEATABLE = AGENCY_EXTRA
_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,11}$")
_TEMPLATE_RE = re.compile(r"\{([^{}]+)\}")


# ---------------------------------------------------------------------------- config
def config_dir() -> Path:
    env = os.environ.get("FIELDCOORD_CONFIG_DIR")
    if env:
        return Path(env)
    import platformdirs
    return Path(platformdirs.user_config_dir("fieldcoord", appauthor=False))


def saved_mappings() -> dict:
    path = config_dir() / MAPPINGS_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ValidationError(f"cannot read the saved CSV mappings in {path}: {e}") from None
    return data if isinstance(data, dict) else {}


def save_mapping(name: str, mapping: dict) -> Path:
    name = name.strip()
    if not name:
        raise ValidationError("give the mapping a name to save it under")
    data = saved_mappings()
    data[name] = mapping
    path = config_dir() / MAPPINGS_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True),
                       encoding="utf-8")
        tmp.replace(path)
    except OSError as e:
        raise ValidationError(f"cannot save the mapping in {path}: {e.strerror or e}") from None
    return path


def load_mapping(name: str) -> dict:
    data = saved_mappings()
    if name not in data:
        known = ", ".join(sorted(data)) or "none saved yet"
        raise ValidationError(f"no saved CSV mapping called '{name}' (saved: {known})")
    return data[name]


# ---------------------------------------------------------------------------- reading rows
class Table:
    """A CSV file's rows as dicts (header -> value) with the line each row starts on."""

    def __init__(self, path: Path, encoding: str | None, header: bool = True):
        text, self.encoding = read_text(path, encoding)
        self.path = path
        self.delimiter = sniff_delimiter(text)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)
        rows: list[tuple[int, list[str]]] = []
        start = 1
        try:
            for row in reader:
                if any(cell.strip() for cell in row):
                    rows.append((start, row))
                start = reader.line_num + 1
        except csv.Error as e:
            raise ValidationError(f"{path}:{reader.line_num}: not readable as CSV ({e})") \
                from None
        if not rows:
            raise ValidationError(f"{path} holds no rows")
        if header:
            self.columns = [c.strip().lstrip("\ufeff").strip() for c in rows[0][1]]
            rows = rows[1:]
            width = len(self.columns)
        else:
            # without a header, the width most rows have
            widths = [len(r) for _, r in rows]
            width = max(set(widths), key=lambda w: (widths.count(w), w))
            self.columns = [str(i) for i in range(1, width + 1)]
        self.header = header
        # a row with another number of fields (a file mixing tab and comma rows) would put
        # its values in the wrong columns: left out, and reported by the import
        self.ragged = [(line, len(r)) for line, r in rows if not _fits(r, width)]
        self.rows = [(line, r) for line, r in rows if _fits(r, width)]
        self._lower = {c.casefold(): c for c in self.columns if c}

    def column(self, ref: str) -> str | None:
        ref = ref.strip()
        if ref in self.columns:
            return ref
        if ref.isdigit() and 1 <= int(ref) <= len(self.columns):
            return self.columns[int(ref) - 1]
        return self._lower.get(ref.casefold())

    def dicts(self):
        n = len(self.columns)
        for line, row in self.rows:
            cells = row[:n] + [""] * (n - len(row))
            yield line, {c: v for c, v in zip(self.columns, cells) if c}

    def has(self, *names: str) -> bool:
        return all(n.casefold() in self._lower for n in names)


def _fits(row: list[str], width: int) -> bool:
    """Whether a row has the table's number of fields; empty ones after them (a trailing
    delimiter, as Thunderbird writes) do not count."""
    return len(row) == width or (len(row) > width and not any(c.strip() for c in row[width:]))


def _tidy(text: str) -> str:
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r"(\s*,\s*)+,", ",", text)
    text = re.sub(r"\(\s*\)", "", text)
    return text.strip(" ,;-\t")


def repeatable_fields(kind: K.Kind) -> tuple[str, ...]:
    """The fields of a mapping for `kind` that may come from several columns (contact
    methods: each column gives one)."""
    return CONTACT_REPEATABLE if kind.name == "contact" else \
        AGENCY_REPEATABLE if kind.name == "agency" else ()


def _refs(ref) -> list[str]:
    """A mapping's value as a list of references (a list, or one reference)."""
    items = ref if isinstance(ref, (list, tuple)) else [ref]
    return [str(r) for r in items if r is not None and str(r).strip()]


class Mapping:
    """field -> how to get its value from a row: a column, a template or a constant; a
    repeatable field (a contact method) may have several, and gives a list of values.
    `columns_used` holds every column the mapping reads."""

    def __init__(self, table: Table, kind: K.Kind, spec: dict):
        self.getters: dict[str, list] = {}
        self.columns_used: set[str] = set()
        allowed = {f.name for f in kind.fields} | set(
            CONTACT_EXTRA if kind.name == "contact" else AGENCY_EXTRA if kind.name == "agency"
            else ())
        repeatable = repeatable_fields(kind)
        refs: dict[str, list[str]] = {}
        for fld, ref in spec.items():
            fld = fld.strip().lower().replace("-", "_").replace(" ", "_")
            if fld not in allowed:
                raise ValidationError(f"a {kind.label} has no field '{fld}' to map; choose "
                                      f"from {', '.join(sorted(allowed))}")
            got = refs.setdefault(fld, [])
            got += [r for r in _refs(ref) if r not in got]
        for fld, items in refs.items():
            if len(items) > 1 and fld not in repeatable:
                several = ", ".join(f"'{r}'" for r in items)
                which = (f"only {', '.join(repeatable)} may come from several columns"
                         if repeatable else f"every {kind.label} field comes from one column")
                raise ValidationError(
                    f"the {kind.label} field '{fld}' takes one column, but {len(items)} were "
                    f"given for it: {several}; choose one ({which})")
            if items:
                self.getters[fld] = [self._getter(table, r, self.columns_used) for r in items]

    @staticmethod
    def _getter(table: Table, ref: str, used: set | None = None):
        if ref.startswith("="):
            const = ref[1:]
            return lambda row: const
        if "{" in ref:
            cols = _TEMPLATE_RE.findall(ref)
            for c in cols:
                if table.column(c) is None:
                    raise _no_column(table, c)
            names = {c: table.column(c) for c in cols}
            if used is not None:
                used.update(names.values())
            return lambda row: _tidy(_TEMPLATE_RE.sub(
                lambda m: (row.get(names[m.group(1)]) or "").strip(), ref))
        col = table.column(ref)
        if col is None:
            raise _no_column(table, ref)
        if used is not None:
            used.add(col)
        return lambda row: (row.get(col) or "").strip()

    def apply(self, row: dict) -> dict:
        """{field: value}; a field mapped to several columns gets the list of their values."""
        out = {}
        for f, getters in self.getters.items():
            out[f] = getters[0](row) if len(getters) == 1 else [g(row) for g in getters]
        return out


def _no_column(table: Table, ref: str) -> ValidationError:
    cols = ", ".join(c for c in table.columns if c)
    return ValidationError(f"{table.path}: no column '{ref}'; its columns are: {cols}")


def _references_numbers(spec: dict) -> bool:
    refs = []
    for ref in (r for value in spec.values() for r in _refs(value)):
        if ref.startswith("="):
            continue
        refs += _TEMPLATE_RE.findall(ref) if "{" in ref else [ref]
    return bool(refs) and all(r.strip().isdigit() for r in refs)


# ---------------------------------------------------------------------------- profiles
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


def _many(value) -> list[str]:
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
        for v in _many(values.get(kind)):
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


def _generic_spec(table: Table, kind: K.Kind) -> dict:
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
            spec[fld] = _refs(spec[fld]) + [col]
    return spec


def mappable_fields(kind: K.Kind) -> list[str]:
    """The fields a column mapping for `kind` may name: the kind's own, then the extra ones
    (a contact's first_name, phone, email...; an agency's phone, email, fax)."""
    extra = CONTACT_EXTRA if kind.name == "contact" else \
        AGENCY_EXTRA if kind.name == "agency" else ()
    return [f.name for f in kind.fields] + [x for x in extra if x not in kind.field_map]


def suggest_mapping(table: Table, kind: K.Kind) -> dict:
    """The mapping an import given none would use: columns named like the kind's fields."""
    return _generic_spec(table, kind)


# ---------------------------------------------------------------------------- import
def import_files(store, paths, options: dict, progress=None, cancelled=None) -> ImportReport:
    """Import every CSV file (see the module's docstring); runs in the caller's transaction."""
    report = ImportReport("csv")
    paths = [Path(p) for p in paths]
    no_match = rows_kept_apart(options.get("no_match"), paths)
    directory = Directory(store, report, options.get("scope"), no_match)
    saved = load_mapping(options["mapping"]) if options.get("mapping") else {}
    spec = dict(saved.get("map") or {})
    spec.update(options.get("map") or {})
    kind_name = options.get("kind") or saved.get("kind")
    kind = None
    if kind_name:
        kind = K.kind_named(str(kind_name))
        if kind is None:
            raise ValidationError(f"unknown record kind '{kind_name}'; kinds are: "
                                  + ", ".join(K.KINDS))
    default_agency = None
    if options.get("agency"):
        default_agency = store.agency_id(str(options["agency"]).strip())
        if default_agency is None:
            raise ValidationError(f"no agency with code '{options['agency']}' in the directory")
    if options.get("save_mapping"):
        if not spec:
            raise ValidationError("give the column mapping to save (--map FIELD=COLUMN)")
        save_mapping(options["save_mapping"], {"kind": (kind.name if kind else "contact"),
                                               "map": spec})
        report.notes.append(f"mapping saved as '{options['save_mapping']}'")
    for path in paths:
        table = Table(Path(path), options.get("encoding"),
                      header=not (spec and _references_numbers(spec)))
        _report_ragged(table, report)
        profile = None if spec else detect_profile(table)
        k = kind or (K.KINDS["agency"] if profile == "usfa" else K.KINDS["contact"])
        blank: dict = {}
        if profile == "usfa" and k.name == "agency":
            used = _import_agencies(directory, table, Mapping(table, k, USFA_MAP), report,
                                    progress, cancelled, head=USFA_HEAD)
        elif k.name == "contact":
            used, blank = _import_contacts(directory, table, k, spec, profile, default_agency,
                                           report, progress, cancelled)
        elif k.name == "agency":
            mapping = Mapping(table, k, spec or _need_spec(table, k))
            used = _import_agencies(directory, table, mapping, report, progress, cancelled)
        else:
            mapping = Mapping(table, k, spec or _need_spec(table, k))
            used = _import_records(store, table, k, mapping, default_agency, report, progress,
                                   cancelled)
        _report_unread(table, used, blank, report)
        for source, line in sorted(no_match):
            if source == str(table.path) and (source, line) not in directory.kept_apart:
                report.notes.append(f"{source}:{line}: was to be imported as a new contact "
                                    "even if it matched one, but it matched no contact")
        report.notes.append(f"{path}: {len(table.rows)} rows, {table.encoding}, delimiter "
                            f"{'tab' if table.delimiter == chr(9) else repr(table.delimiter)}"
                            + (f", read as {PROFILE_NAMES[profile]}" if profile else ""))
    return report


def _report_unread(table: Table, used: set, blank: dict, report: ImportReport) -> None:
    """One line naming the columns that hold values nothing read (an empty column, or one with
    only an export's defaults, is not named)."""
    unread = []
    for i, col in enumerate(table.columns):
        if not col or col in used:
            continue
        default = blank.get(col.casefold(), ())
        if any(i < len(row) and row[i].strip() and row[i].strip().casefold() not in default
               for _, row in table.rows):
            unread.append(col)
    if unread:
        what = "column" if len(unread) == 1 else "columns"
        report.notes.append(f"{table.path}: {len(unread)} {what} not read: "
                            + ", ".join(unread))


def _report_ragged(table: Table, report: ImportReport) -> None:
    """Rows whose number of fields is not the header's: skipped, each with its line."""
    if not table.ragged:
        return
    width = len(table.columns)
    what = "the header has" if table.header else "most rows have"
    for line, n in table.ragged:
        report.skip(str(table.path), line, f"{n} field{'s' if n != 1 else ''} where {what} "
                    f"{width}: row left out (does the file mix delimiters?)")
    lines = ", ".join(str(line) for line, _ in table.ragged[:20]) + \
        (", ..." if len(table.ragged) > 20 else "")
    report.notes.append(
        f"{table.path}: warning: {len(table.ragged)} row{'s' if len(table.ragged) != 1 else ''}"
        f" with another number of fields than {what} ({width}, delimiter "
        f"{'tab' if table.delimiter == chr(9) else repr(table.delimiter)}) skipped: "
        f"line{'s' if len(table.ragged) != 1 else ''} {lines}")


# a contact without a name is named by its first email, else its first number (as a vCard is)
_NAMING_FIELDS = ("email", "phone", "mobile", "satellite_phone", "pager", "fax", "call_sign")


def _need_spec(table: Table, kind: K.Kind) -> dict:
    spec = _generic_spec(table, kind)
    title = kind.title_field
    if title not in spec and not (kind.name == "contact" and (
            "first_name" in spec or "last_name" in spec
            or any(f in spec for f in _NAMING_FIELDS))):
        cols = ", ".join(c for c in table.columns if c) or "(none)"
        raise ValidationError(
            f"{table.path}: cannot tell which column holds the {kind.label} {title}; give a "
            f"mapping such as --map {title}=COLUMN, naming a column by its header or, in a "
            f"file without a header row, by its number (first row: {cols[:300]})")
    return spec


def _person_name(p: dict) -> str:
    parts = [p.get(k, "") for k in ("prefix", "first", "middle", "last", "suffix")]
    built = " ".join(x for x in parts if x)
    return " ".join((p.get("display") or built).split())


def _import_contacts(directory: Directory, table: Table, kind: K.Kind, spec: dict,
                     profile: str | None, default_agency, report: ImportReport, progress,
                     cancelled) -> tuple[set, dict]:
    """The rows as contacts (or agencies: a row of an organisation alone). Returns the
    columns read and the values that count as blank in the others."""
    if profile in PROFILE_READERS:
        reader = PROFILE_READERS[profile](table)
        read, used, blank = reader.read, reader.used, reader.blank
    else:
        mapping = Mapping(table, kind, spec or _need_spec(table, kind))
        read = lambda row: person_mapped(mapping.apply(row))  # noqa: E731
        used, blank = mapping.columns_used, {}
    pacer = Pacer(progress, cancelled, f"Importing {table.path.name}", len(table.rows))
    source = str(table.path)
    named: dict[str, list[int]] = {"email": [], "number": [], "call sign": []}
    for line, row in table.dicts():
        pacer.step()
        p = read(row)
        name = _person_name(p)
        org = " ".join((p.get("org") or "").split())
        has_person = any(p.get(k) for k in ("first", "middle", "last"))
        if org and not has_person and (not name or name == org):
            values = {"name": org, "notes": p.get("notes")}
            directory.upsert_agency(values, source, line, p["methods"])
            continue
        agency = default_agency
        if p.get("agency"):
            agency = _agency_named(directory, p["agency"], p.get("agency_name"), source, line)
        elif org:
            agency = directory.agency_for(org, source, line) or agency
        if not name:
            firsts = [(m.value, "email") for m in p["methods"] if m.kind == "email"] + \
                [(m.value, "call sign" if m.kind == "call_sign" else "number")
                 for m in p["methods"] if m.kind != "other"]
            name = firsts[0][0] if firsts else ""
            if firsts:
                named[firsts[0][1]].append(line)
        fields = {k: p.get(k) for k in ("title", "notes", "ics_position", "languages")}
        uid = (p.get("id") or "").strip().lower() or None
        directory.upsert_contact(ContactIn(name, source, line, agency, fields, p["methods"],
                                           uid))
    pacer.check()
    for how, lines in named.items():
        if lines:
            shown = ", ".join(map(str, lines[:20])) + (", ..." if len(lines) > 20 else "")
            report.notes.append(
                f"{source}: {len(lines)} row{'s' if len(lines) != 1 else ''} without a name "
                f"named by their {how} (line{'s' if len(lines) != 1 else ''} {shown})")
    return used, blank


def _agency_named(directory: Directory, text: str, name: str | None, source: str,
                  line: int) -> str | None:
    """An agency given by code or name (and, from fieldcoord's export, its name beside its
    code): found, or created with that code and name."""
    text = " ".join(text.split())
    found = directory.find_agency(name or text, text.upper() if _CODE_RE.match(text.upper())
                                  else None) or directory.find_agency(text)
    if found:
        return found
    if name and _CODE_RE.match(text.upper()):
        rid, _ = directory.upsert_agency({"name": name, "code": text.upper()}, source, line)
        return rid
    return directory.agency_for(text, source, line)


def _clean_fields(kind: K.Kind, values: dict, line: int, problems: dict) -> dict:
    """Values normalised field by field; one that does not fit (a level the registry spells
    its own way, a malformed web address) is left empty and counted for the report."""
    out = {}
    for name, value in values.items():
        if value in (None, ""):
            continue
        fld = kind.field_map.get(name)
        if fld is None or fld.type in (K.REF, K.REFS) or name == "code":
            out[name] = value
            continue
        try:
            out[name] = normalise_field(kind, fld, value)
        except ValidationError:
            if fld.type == K.ENUM:
                word = re.split(r"[\s(/,]+", str(value).strip())[0]
                try:
                    out[name] = normalise_field(kind, fld, word)
                    continue
                except ValidationError:
                    pass
            if fld.required:
                out[name] = value          # reported with the row
                continue
            got = problems.setdefault(name, [0, value, line])
            got[0] += 1
    return out


def _import_agencies(directory: Directory, table: Table, mapping: Mapping,
                     report: ImportReport, progress, cancelled, head: str | None = None) -> set:
    """Rows as agencies, those with one code merged. Returns the columns read."""
    kind = K.KINDS["agency"]
    used = set(mapping.columns_used)
    head_getter = Mapping._getter(table, head, used) if head else None
    groups: dict[str, dict] = {}
    problems: dict[str, list] = {}
    pacer = Pacer(progress, cancelled, f"Reading {table.path.name}", len(table.rows))
    source = str(table.path)
    for line, row in table.dicts():
        pacer.step()
        raw = mapping.apply(row)
        methods = [MethodIn(k, v) for k in AGENCY_EXTRA for v in _many(raw.pop(k, ""))]
        values = _clean_fields(kind, raw, line, problems)
        name = " ".join(str(values.get("name") or "").split())
        if not name:
            report.skip(source, line, "no agency name in this row")
            continue
        values["name"] = name
        code = str(values.get("code") or "").strip().upper()
        code = re.sub(r"[^A-Z0-9-]+", "-", code).strip("-")
        if not _CODE_RE.match(code):
            code = ""
        key = code or "name:" + name_key(name)
        notes = [ln for ln in str(values.pop("notes", "") or "").splitlines() if ln.strip()]
        if head_getter:
            notes.insert(0, head_getter(row))
        group = groups.get(key)
        if group is None:
            groups[key] = {"values": {**values, "code": code or None}, "notes": notes,
                           "line": line, "methods": methods}
            continue
        for k, v in values.items():
            if v not in (None, "") and group["values"].get(k) in (None, ""):
                group["values"][k] = v
        group["notes"] += [n for n in notes if n not in group["notes"]]
        have = {(m.kind, m.value) for m in group["methods"]}
        group["methods"] += [m for m in methods if (m.kind, m.value) not in have]
    pacer = Pacer(progress, cancelled, "Importing agencies", len(groups))
    taken = set(directory.codes_taken)
    for group in groups.values():
        pacer.step()
        values = group["values"]
        if not values.get("code"):
            found = directory.find_agency(values["name"])
            values["code"] = directory.agencies[found]["code"] if found else \
                derive_code(values["name"], taken)
        taken.add(values["code"])
        if group["notes"]:
            values["notes"] = "\n".join(group["notes"])
        directory.upsert_agency(values, source, group["line"], group["methods"],
                                append_notes=True)
    pacer.check()
    _report_problems(report, source, problems)
    return used


def _report_problems(report: ImportReport, source: str, problems: dict) -> None:
    for name, (n, first, line) in sorted(problems.items()):
        report.notes.append(f"{source}: {name}: {n} value{'s' if n != 1 else ''} not "
                            f"understood and left empty (first: '{first}' on line {line})")


def _import_records(store, table: Table, kind: K.Kind, mapping: Mapping, default_agency,
                    report: ImportReport, progress, cancelled) -> set:
    """Rows of any other kind: one record per row, each checked by the store. Returns the
    columns read."""
    pacer = Pacer(progress, cancelled, f"Importing {table.path.name}", len(table.rows))
    source = str(table.path)
    problems: dict[str, list] = {}
    for line, row in table.dicts():
        pacer.step()
        values = _clean_fields(kind, mapping.apply(row), line, problems)
        if default_agency and "agency" in kind.field_map and not values.get("agency"):
            values["agency"] = default_agency
        try:
            with store.transaction():
                store.add(kind.name, values)
        except ValidationError as e:
            report.skip(source, line, str(e))
            continue
        report.add(kind.name)
    pacer.check()
    _report_problems(report, source, problems)
    return mapping.columns_used

