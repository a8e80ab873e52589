# SPDX-License-Identifier: GPL-3.0-or-later
"""CSV in (contact exports, agency registries, any table with a column mapping) and out (interop).

Import recognises Google Contacts, Outlook and Thunderbird exports and the USFA National Fire
Department Registry by their header rows; any other table is read with a column mapping:
`options["map"] = {field: column}` where a column is named by its header, by its number (1 =
first; the file then has no header row), as a template such as "{HQ City}, {HQ State}", or as a
constant "=fire". A mapping can be saved by name (`options["save_mapping"]`) and used again
(`options["mapping"]`); saved mappings live in csv-mappings.json in the user's config folder
(platformdirs, or $FIELDCOORD_CONFIG_DIR). The encoding (UTF-8, UTF-16, Windows code pages,
Shift-JIS) and the delimiter are detected; quoted line breaks stay in the values.

Contacts go through the shared duplicate matching of `contacts.Directory`. Agencies are matched
by code (or name); rows with the same code are one agency, whose note lines collect every row's
(a registry's stations). Export writes contacts (or agencies) with their main phone and email.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

from ..core import kinds as K
from ..core.errors import ValidationError
from ..core.validate import normalise_field
from .contacts import ContactIn, Directory, MethodIn, Pacer, derive_code, name_key
from .exporting import write_atomically
from .report import ExportReport, ImportReport
from .textfile import read_text, sniff_delimiter

MAPPINGS_FILE = "csv-mappings.json"
# Fields a contact mapping may name besides the contact's own.
CONTACT_EXTRA = ("first_name", "middle_name", "last_name", "organization", "agency_name",
                 "phone", "mobile",
                 "satellite_phone", "email", "fax", "pager", "call_sign", "address", "website",
                 "id")
AGENCY_EXTRA = ("phone", "email", "fax")
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


class Mapping:
    """field -> how to get its value from a row: a column, a template or a constant."""

    def __init__(self, table: Table, kind: K.Kind, spec: dict):
        self.getters = {}
        allowed = {f.name for f in kind.fields} | set(
            CONTACT_EXTRA if kind.name == "contact" else AGENCY_EXTRA if kind.name == "agency"
            else ())
        for fld, ref in spec.items():
            fld = fld.strip().lower().replace("-", "_").replace(" ", "_")
            if fld not in allowed:
                raise ValidationError(f"a {kind.label} has no field '{fld}' to map; choose "
                                      f"from {', '.join(sorted(allowed))}")
            self.getters[fld] = self._getter(table, str(ref))

    @staticmethod
    def _getter(table: Table, ref: str):
        if ref.startswith("="):
            const = ref[1:]
            return lambda row: const
        if "{" in ref:
            cols = _TEMPLATE_RE.findall(ref)
            for c in cols:
                if table.column(c) is None:
                    raise _no_column(table, c)
            names = {c: table.column(c) for c in cols}
            return lambda row: _tidy(_TEMPLATE_RE.sub(
                lambda m: (row.get(names[m.group(1)]) or "").strip(), ref))
        col = table.column(ref)
        if col is None:
            raise _no_column(table, ref)
        return lambda row: (row.get(col) or "").strip()

    def apply(self, row: dict) -> dict:
        return {f: g(row) for f, g in self.getters.items()}


def _no_column(table: Table, ref: str) -> ValidationError:
    cols = ", ".join(c for c in table.columns if c)
    return ValidationError(f"{table.path}: no column '{ref}'; its columns are: {cols}")


def _references_numbers(spec: dict) -> bool:
    refs = []
    for ref in spec.values():
        ref = str(ref)
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


def _get(row: dict, *names: str) -> str:
    low = {k.casefold(): v for k, v in row.items()}
    for n in names:
        v = (low.get(n.casefold()) or "").strip()
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


def _addr(row: dict, prefix: str, street: tuple, city: str, state: str, code: str,
          country: str) -> str:
    parts = [_get(row, f"{prefix}{s}") for s in street]
    tail = " ".join(x for x in (_get(row, f"{prefix}{state}"), _get(row, f"{prefix}{code}"))
                    if x)
    return ", ".join(x for x in (*parts, _get(row, f"{prefix}{city}"), tail,
                                 _get(row, f"{prefix}{country}")) if x)


def person_google(row: dict) -> dict:
    p = {"first": _get(row, "First Name", "Given Name"),
         "middle": _get(row, "Middle Name", "Additional Name"),
         "last": _get(row, "Last Name", "Family Name"),
         "prefix": _get(row, "Name Prefix"), "suffix": _get(row, "Name Suffix"),
         "display": _get(row, "Name"),
         "org": _get(row, "Organization Name", "Organization 1 - Name"),
         "title": _get(row, "Organization Title", "Organization 1 - Title"),
         "notes": _get(row, "Notes"), "methods": []}
    for col, value in row.items():
        m = re.match(r"^(E-mail|Phone|Address|Website) (\d+) - (Value|Formatted)$", col)
        if not m or not value.strip():
            continue
        what, n = m.group(1), m.group(2)
        label = _get(row, f"{what} {n} - Label", f"{what} {n} - Type").lstrip("* ").strip()
        for v in [x.strip() for x in value.split(" ::: ") if x.strip()]:
            if what == "E-mail":
                p["methods"].append(MethodIn("email", v, label.lower() or None))
            elif what == "Phone":
                kind, lab = _phone_kind(label)
                p["methods"].append(MethodIn(kind, v, lab))
            elif what == "Address":
                text = ", ".join(x.strip() for x in v.splitlines() if x.strip())
                p["methods"].append(MethodIn("other", text, f"{label.lower()} address"
                                             if label else "address"))
            else:
                p["methods"].append(MethodIn("other", v, "website"))
    return p


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


def person_outlook(row: dict) -> dict:
    p = {"first": _get(row, "First Name"), "middle": _get(row, "Middle Name"),
         "last": _get(row, "Last Name"), "prefix": _get(row, "Title"),
         "suffix": _get(row, "Suffix"), "display": "",
         "org": _get(row, "Company"), "title": _get(row, "Job Title"),
         "notes": _get(row, "Notes"), "methods": []}
    for col, kind, label in _OUTLOOK_PHONES:
        v = _get(row, col)
        if v:
            p["methods"].append(MethodIn(kind, v, label))
    for col in ("E-mail Address", "E-mail 2 Address", "E-mail 3 Address"):
        v = _get(row, col)
        if v:
            p["methods"].append(MethodIn("email", v))
    for prefix, label in (("Business", "work"), ("Home", "home"), ("Other", "other")):
        text = _addr(row, prefix + " ", ("Street", "Street 2", "Street 3"), "City", "State",
                     "Postal Code", "Country/Region")
        if text:
            p["methods"].append(MethodIn("other", text, f"{label} address"))
    v = _get(row, "Web Page")
    if v:
        p["methods"].append(MethodIn("other", v, "website"))
    return p


def person_thunderbird(row: dict) -> dict:
    p = {"first": _get(row, "First Name"), "middle": "", "last": _get(row, "Last Name"),
         "prefix": "", "suffix": "", "display": _get(row, "Display Name"),
         "org": _get(row, "Organization"), "title": _get(row, "Job Title"),
         "notes": _get(row, "Notes"), "methods": []}
    for col, kind, label in (("Primary Email", "email", None), ("Secondary Email", "email", None),
                             ("Work Phone", "phone", "work"), ("Home Phone", "phone", "home"),
                             ("Mobile Number", "mobile", None), ("Fax Number", "fax", None),
                             ("Pager Number", "pager", None)):
        v = _get(row, col)
        if v:
            p["methods"].append(MethodIn(kind, v, label))
    for prefix, label in (("Work", "work"), ("Home", "home")):
        text = _addr(row, prefix + " ", ("Address", "Address 2"), "City", "State", "ZipCode",
                     "Country")
        if text:
            p["methods"].append(MethodIn("other", text, f"{label} address"))
    for col in ("Web Page 1", "Web Page 2"):
        v = _get(row, col)
        if v:
            p["methods"].append(MethodIn("other", v, "website"))
    v = _get(row, "Screen Name")
    if v:
        p["methods"].append(MethodIn("other", v, "screen name"))
    return p


PERSON_PROFILES = {"google": person_google, "outlook": person_outlook,
                   "thunderbird": person_thunderbird}


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
        for v in re.split(r"\s*\n\s*|\s+:::\s+", values.get(kind, "") or ""):
            if v.strip():
                p["methods"].append(MethodIn(kind, v))
    if values.get("address"):
        p["methods"].append(MethodIn("other", ", ".join(
            x.strip() for x in values["address"].splitlines() if x.strip()), "address"))
    if values.get("website"):
        p["methods"].append(MethodIn("other", values["website"], "website"))
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
    spec = {}
    for col in table.columns:
        key = col.strip().casefold()
        as_name = re.sub(r"[\s-]+", "_", key)
        fld = as_name if as_name in names else titles.get(key)
        if fld is None and kind.name == "contact" and as_name in _EMAIL_HEADERS:
            fld = "email"
        if fld and fld not in spec:
            spec[fld] = col
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
    directory = Directory(store, report, options.get("scope"))
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
        if profile == "usfa" and k.name == "agency":
            _import_agencies(directory, table, Mapping(table, k, USFA_MAP), report, progress,
                             cancelled, head=USFA_HEAD)
        elif k.name == "contact":
            _import_contacts(directory, table, k, spec, profile, default_agency, report,
                             progress, cancelled)
        elif k.name == "agency":
            mapping = Mapping(table, k, spec or _need_spec(table, k))
            _import_agencies(directory, table, mapping, report, progress, cancelled)
        else:
            mapping = Mapping(table, k, spec or _need_spec(table, k))
            _import_records(store, table, k, mapping, default_agency, report, progress,
                            cancelled)
        report.notes.append(f"{path}: {len(table.rows)} rows, {table.encoding}, delimiter "
                            f"{'tab' if table.delimiter == chr(9) else repr(table.delimiter)}"
                            + (f", read as {PROFILE_NAMES[profile]}" if profile else ""))
    return report


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
                     cancelled) -> None:
    if profile in PERSON_PROFILES:
        read = PERSON_PROFILES[profile]
    else:
        mapping = Mapping(table, kind, spec or _need_spec(table, kind))
        read = lambda row: person_mapped(mapping.apply(row))  # noqa: E731
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
                     report: ImportReport, progress, cancelled, head: str | None = None) -> None:
    kind = K.KINDS["agency"]
    head_getter = Mapping._getter(table, head) if head else None
    groups: dict[str, dict] = {}
    problems: dict[str, list] = {}
    pacer = Pacer(progress, cancelled, f"Reading {table.path.name}", len(table.rows))
    source = str(table.path)
    for line, row in table.dicts():
        pacer.step()
        raw = mapping.apply(row)
        methods = [MethodIn(k, raw.pop(k)) for k in AGENCY_EXTRA if raw.get(k)]
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


def _report_problems(report: ImportReport, source: str, problems: dict) -> None:
    for name, (n, first, line) in sorted(problems.items()):
        report.notes.append(f"{source}: {name}: {n} value{'s' if n != 1 else ''} not "
                            f"understood and left empty (first: '{first}' on line {line})")


def _import_records(store, table: Table, kind: K.Kind, mapping: Mapping, default_agency,
                    report: ImportReport, progress, cancelled) -> None:
    """Rows of any other kind: one record per row, each checked by the store."""
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


# ---------------------------------------------------------------------------- export
CONTACT_COLUMNS = ("name", "agency", "agency_name", "title", "ics_position", "languages",
                   "phone", "mobile", "email", "fax", "pager", "satellite_phone", "call_sign",
                   "notes", "id")
AGENCY_COLUMNS = ("code", "name", "level", "discipline", "jurisdiction", "address", "lat",
                  "lon", "website", "phone", "email", "fax", "notes")


def export_file(store, path: Path, options: dict, progress=None,
                cancelled=None) -> ExportReport:
    """Write contacts (default) or agencies (options kind=agency) as UTF-8 CSV with a BOM."""
    from .vcard import _methods_by_holder, select
    kind = K.kind_named(str(options.get("kind") or "contact"))
    if kind is None or kind.name not in ("contact", "agency"):
        raise ValidationError("CSV export writes contacts or agencies (--kind contact|agency)")
    contacts, agencies = select(store, options)
    if kind.name == "agency" and not (options.get("ids") or options.get("agency")
                                      or options.get("search")):
        agencies = store.list("agency")
    methods = _methods_by_holder(store)
    codes = {rid: (code, name) for rid, code, name in store.conn.execute(
        "SELECT id, code, name FROM agency")}
    report = ExportReport("csv", str(path))
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\r\n")
    records = contacts if kind.name == "contact" else agencies
    pacer = Pacer(progress, cancelled, "Exporting CSV", len(records))
    if kind.name == "contact":
        w.writerow(CONTACT_COLUMNS)
        for rec in sorted(records, key=lambda r: (r.values["name"].casefold(), r.id)):
            pacer.step()
            v = rec.values
            main = _main_methods(methods.get(rec.id, []))
            code, aname = codes.get(v.get("agency"), ("", ""))
            w.writerow([v["name"], code, aname, v.get("title") or "", v.get("ics_position") or "",
                        v.get("languages") or "", *(main.get(k, "") for k in (
                            "phone", "mobile", "email", "fax", "pager", "satellite_phone",
                            "call_sign")), v.get("notes") or "", rec.id])
    else:
        w.writerow(AGENCY_COLUMNS)
        for rec in sorted(records, key=lambda r: r.values["code"]):
            pacer.step()
            v = rec.values
            main = _main_methods(methods.get(f"a:{rec.id}", []))
            w.writerow([v.get(c) if v.get(c) is not None else "" for c in AGENCY_COLUMNS[:9]]
                       + [main.get("phone", ""), main.get("email", ""), main.get("fax", ""),
                          v.get("notes") or ""])
    report.written[kind.name] = len(records)
    try:
        write_atomically(Path(path), out.getvalue().encode("utf-8-sig"))
    except OSError as e:
        raise ValidationError(f"cannot write {path}: {e.strerror or e}") from None
    return report


def _main_methods(items: list[dict]) -> dict:
    """The first (highest priority) value of each method kind; the list is sorted already."""
    main = {}
    for m in items:
        main.setdefault(m["kind"], m["value"])
    return main
