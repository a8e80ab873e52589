# SPDX-License-Identifier: GPL-3.0-or-later
"""A look at a file before importing it: its format details, first rows and mapping (interop).

`preview(path, fmt, options)` reads a file with the format module's own parser and returns what
an import wizard shows before anything is written: the encoding and delimiter found, the export
profile recognised (Google, Outlook, Thunderbird, the USFA registry), the columns or properties
with the first rows as text, the record kinds the format imports into and, for CSV and GeoJSON,
the column mapping an import would use for each kind. vCard, iCalendar and CHIRP files have no
mapping: their first records are shown as they would be imported (a card's name, organisation,
phones and emails; an event's title, kind and times; a channel's frequencies and tones).

Nothing here touches a store; it is plain Python, for the app and for tests.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..core import kinds as K
from ..core.errors import ValidationError
from . import csv_profiles, csv_table

ROWS = 20
FORMATS = {"vcard": "vCard contacts", "csv": "CSV table", "ical": "iCalendar events",
           "geojson": "GeoJSON point layer", "chirp": "CHIRP radio channels"}
# What each format can import into; the first is the default.
# (contacts first: the table a liaison is most often handed)
CSV_KINDS = ("contact", *(k for k in K.imported_by("csv") if k != "contact"))
KINDS_OF = {fmt: CSV_KINDS if fmt == "csv" else K.imported_by(fmt) for fmt in FORMATS}
MAPPED = ("csv", "geojson")
_EXTENSIONS = {".vcf": "vcard", ".vcard": "vcard", ".ics": "ical", ".ical": "ical",
               ".ifb": "ical", ".geojson": "geojson", ".json": "geojson"}

# Columns of the contact exports the csv importer reads by itself, shown as the mapping they
# amount to (field -> header candidates: the first present is used, and for a contact method
# every one present, each giving one method; a template is used when the file has all its
# columns). The import keeps using its own reading unless the user changes the mapping.
_PROFILE_COLUMNS = {
    "google": {
        "name": ["Name"], "first_name": ["Given Name", "First Name"],
        "middle_name": ["Additional Name", "Middle Name"],
        "last_name": ["Family Name", "Last Name"],
        "organization": ["Organization 1 - Name", "Organization Name"],
        "title": ["Organization 1 - Title", "Organization Title"],
        "email": ["E-mail 1 - Value"], "phone": ["Phone 1 - Value"],
        "mobile": ["Phone 2 - Value"], "address": ["Address 1 - Formatted"],
        "website": ["Website 1 - Value"], "notes": ["Notes"]},
    "outlook": {
        "first_name": ["First Name"], "middle_name": ["Middle Name"],
        "last_name": ["Last Name"], "organization": ["Company"], "title": ["Job Title"],
        "phone": ["Business Phone", "Primary Phone", "Home Phone"], "mobile": ["Mobile Phone"],
        "fax": ["Business Fax"], "pager": ["Pager"],
        "email": ["E-mail Address", "E-mail 2 Address", "E-mail 3 Address"],
        "address": ["{Business Street}, {Business City}, {Business State} "
                    "{Business Postal Code}",
                    "{Home Street}, {Home City}, {Home State} {Home Postal Code}"],
        "website": ["Web Page"], "notes": ["Notes"]},
    "thunderbird": {
        "name": ["Display Name"], "first_name": ["First Name"], "last_name": ["Last Name"],
        "organization": ["Organization"], "title": ["Job Title"],
        "email": ["Primary Email", "Secondary Email"], "phone": ["Work Phone", "Home Phone"],
        "mobile": ["Mobile Number"],
        "fax": ["Fax Number"], "pager": ["Pager Number"],
        "address": ["{Work Address}, {Work Address 2}, {Work City}, {Work State} "
                    "{Work ZipCode}"],
        "website": ["Web Page 1"], "notes": ["Notes"]},
}


@dataclass
class Preview:
    """What a file holds, as an import would read it."""
    path: str
    format: str
    kinds: list[str]                       # record kinds the format imports into
    kind: str                              # the kind an import would use by default
    columns: list[str]                     # headers, properties or record columns shown
    rows: list[list[str]]                  # the first rows, as text
    total: int = 0                         # rows, features, cards, events or memories
    encoding: str | None = None
    delimiter: str | None = None
    header: bool = True                    # csv: the first row names the columns
    profile: str | None = None             # csv: google, outlook, thunderbird, usfa
    profile_label: str | None = None
    mapping: dict = field(default_factory=dict)        # {field: column(s)} for `kind`
    suggestions: dict = field(default_factory=dict)    # {kind: {field: column}}
    problems: list[tuple] = field(default_factory=list)   # (line, reason)
    notes: list[str] = field(default_factory=list)

    @property
    def mapped(self) -> bool:
        """Whether the format takes a column mapping (CSV, GeoJSON)."""
        return self.format in MAPPED

    def details(self) -> str:
        """One line on how the file was read, for the wizard's header."""
        parts = [FORMATS.get(self.format, self.format)]
        if self.encoding:
            parts.append(_encoding_label(self.encoding))
        if self.delimiter:
            parts.append({",": "comma", ";": "semicolon", "\t": "tab", "|": "bar"}.get(
                self.delimiter, repr(self.delimiter)) + "-separated")
        if self.format == "csv" and not self.header:
            parts.append("no header row")
        if self.profile_label:
            parts.append(f"read as {self.profile_label}")
        what = {"csv": "row", "geojson": "feature", "vcard": "card", "ical": "event",
                "chirp": "memory"}[self.format]
        plural = "memories" if what == "memory" else what + "s"
        parts.append(f"{self.total} {what if self.total == 1 else plural}")
        return "; ".join(parts)


def _encoding_label(name: str) -> str:
    return {"utf-8": "UTF-8", "utf-16-le": "UTF-16 (LE)", "utf-16-be": "UTF-16 (BE)",
            "cp1252": "Windows-1252", "cp1251": "Windows-1251", "cp932": "Shift-JIS",
            "latin-1": "Latin-1", "utf-32-le": "UTF-32 (LE)",
            "utf-32-be": "UTF-32 (BE)"}.get(name, name)


def guess_format(path: str | Path) -> str | None:
    """The import format of a file, from its extension and first bytes (None: cannot tell)."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError as e:
        raise ValidationError(f"cannot read {path}: {e.strerror or e}") from None
    for bom, enc in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            text = head[2:].decode(enc, errors="ignore")
            break
    else:
        text = head.decode("utf-8", errors="ignore").lstrip("\ufeff")
    upper = text.upper()
    if "BEGIN:VCARD" in upper:
        return "vcard"
    if "BEGIN:VCALENDAR" in upper:
        return "ical"
    if text.lstrip().startswith(("[", "<")) and "VCARD" in upper:
        return "vcard"                                   # jCard, xCard
    ext = path.suffix.lower()
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    if text.lstrip().startswith("{") and "FEATURE" in upper:
        return "geojson"
    first = text.splitlines()[0] if text else ""
    cells = {c.strip().strip('"') for c in first.split(",")}
    if {"Location", "Name", "Frequency"} <= cells or {"Receive Frequency", "Name"} <= cells:
        return "chirp"
    if ext in (".csv", ".tsv", ".txt", ".tab") or "," in first or ";" in first or \
            "\t" in first:
        return "csv"
    return None


def target_fields(fmt: str, kind: str) -> list[tuple[str, str, bool]]:
    """(field, title, required) a mapping of `fmt` may fill for `kind`, in form order."""
    k = K.KINDS[kind]
    if fmt == "geojson":
        names = [f.name for f in k.fields if f.name not in ("lat", "lon")] + ["id"]
    else:
        names = csv_profiles.mappable_fields(k)
    out = []
    for name in names:
        fld = k.field_map.get(name)
        title = fld.title if fld else _EXTRA_TITLES.get(name, name.replace("_", " ").capitalize())
        out.append((name, title, bool(fld and fld.required)))
    return out


_EXTRA_TITLES = {"first_name": "First name", "middle_name": "Middle name",
                 "last_name": "Last name", "organization": "Organization (agency by name)",
                 "agency_name": "Agency name (for a new code)", "phone": "Phone",
                 "mobile": "Mobile", "satellite_phone": "Satellite phone", "email": "Email",
                 "fax": "Fax", "pager": "Pager", "call_sign": "Call sign",
                 "address": "Address", "website": "Website", "id": "Source id"}


def preview(path: str | Path, fmt: str, options: dict | None = None,
            rows: int = ROWS) -> Preview:
    """Read `path` as format `fmt` and return its first `rows` rows and the mapping an import
    would use. options: encoding (csv, vcard), header=False (csv without a header row), kind.
    Raises ValidationError (naming the file and the problem) when the file cannot be read."""
    options = dict(options or {})
    path = Path(path)
    if fmt not in KINDS_OF:
        raise ValidationError(f"cannot preview '{fmt}'; formats are: {', '.join(KINDS_OF)}")
    if not path.is_file():
        raise ValidationError(f"no such file: {path}")
    kind = options.get("kind")
    if kind and kind not in KINDS_OF[fmt]:
        raise ValidationError(f"{FORMATS[fmt]} files import as "
                              f"{' or '.join(KINDS_OF[fmt])}, not as '{kind}'")
    reader = {"csv": _csv, "geojson": _geojson, "vcard": _vcard, "ical": _ical,
              "chirp": _chirp}[fmt]
    try:
        return reader(path, options, rows)
    except OSError as e:
        raise ValidationError(f"cannot read {path}: {e.strerror or e}") from None


# ---------------------------------------------------------------------------- csv
def _profile_mapping(table: csv_table.Table, profile: str) -> dict:
    """{field: column} the profile's reading amounts to; a contact method found in several
    columns gets the list of them."""
    spec = {}
    repeatable = csv_table.repeatable_fields(K.KINDS["contact"])
    for fld, candidates in _PROFILE_COLUMNS[profile].items():
        found = []
        for cand in candidates:
            if "{" in cand:
                ref = cand if all(table.column(c) for c in re.findall(r"\{([^{}]+)\}", cand)) \
                    else None
            else:
                ref = table.column(cand)
            if ref:
                found.append(ref)
                if fld not in repeatable:
                    break
        if found:
            spec[fld] = found[0] if len(found) == 1 else found
    return spec


def _csv(path: Path, options: dict, n: int) -> Preview:
    header = options.get("header", True) is not False
    table = csv_table.Table(path, options.get("encoding"), header=header)
    profile = csv_profiles.detect_profile(table) if header else None
    suggestions = {}
    for kind in CSV_KINDS:
        k = K.KINDS[kind]
        if profile == "usfa" and kind == "agency":
            spec = dict(csv_profiles.USFA_MAP)
        elif profile in _PROFILE_COLUMNS and kind == "contact":
            spec = _profile_mapping(table, profile)
        else:
            spec = csv_profiles.suggest_mapping(table, k) if header else {}
        suggestions[kind] = spec
    kind = options.get("kind") or ("agency" if profile == "usfa" else "contact")
    width = len(table.columns)
    shown = [[(row + [""] * width)[i] for i in range(width)] for _, row in table.rows[:n]]
    notes = []
    if header and not any(table.columns):
        notes.append("the first row holds no column names")
    return Preview(str(path), "csv", list(CSV_KINDS), kind, list(table.columns), shown,
                   total=len(table.rows), encoding=table.encoding, delimiter=table.delimiter,
                   header=header, profile=profile,
                   profile_label=csv_profiles.PROFILE_NAMES.get(profile),
                   mapping=dict(suggestions[kind]), suggestions=suggestions, notes=notes)


# ---------------------------------------------------------------------------- geojson
def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, (dict, list)):
        return json.dumps(v, ensure_ascii=False)
    return " ".join(str(v).split())


def _geojson(path: Path, options: dict, n: int) -> Preview:
    from . import geojson
    features = geojson.read_layer(path)
    columns: list[str] = []
    for f in features[:200]:
        props = f.get("properties") if isinstance(f, dict) else None
        for key in (props or {}) if isinstance(props, dict) else ():
            if key not in columns:
                columns.append(key)
    shown = []
    for f in features[:n]:
        props = (f.get("properties") or {}) if isinstance(f, dict) else {}
        props = props if isinstance(props, dict) else {}
        try:
            lat, lon = geojson._point(f.get("geometry") if isinstance(f, dict) else None)
            where = f"{lat:.5f}, {lon:.5f}"
        except ValueError as e:
            where = f"({e})"
        shown.append([_text(props.get(c)) for c in columns] + [where])
    suggestions = {k: geojson.suggest_mapping(k, features) for k in geojson.KINDS}
    kind = options.get("kind") or "agency"
    notes = []
    if "name" not in suggestions[kind]:
        notes.append("no property is called name: choose the one that holds the names")
    return Preview(str(path), "geojson", list(geojson.KINDS), kind,
                   columns + ["Location (lat, lon)"], shown, total=len(features),
                   encoding="utf-8", mapping=dict(suggestions[kind]), suggestions=suggestions,
                   notes=notes)


# ---------------------------------------------------------------------------- vcard
_CARD_COLUMNS = ["Line", "Name", "Kind", "Organization", "Title", "Phones", "Emails", "Other"]


def _vcard(path: Path, options: dict, n: int) -> Preview:
    from . import vcard
    from .contacts import MethodIn
    try:
        items = vcard.parse_file(path, options.get("encoding"))
    except vcard.CardError as e:
        raise ValidationError(f"{path.name}, line {e.line}: {e.reason}") from None
    shown, problems = [], []
    encoding = None
    for item in items:
        if isinstance(item, vcard.CardError):
            problems.append((item.line, item.reason))
            continue
        encoding = encoding or item.encoding
        if len(shown) >= n:
            continue
        if not item.props:
            problems.append((item.line, "the card is empty"))
            continue
        data = vcard.card_data(item)
        if not data.name and not data.org:
            problems.append((item.line, "no name, organisation, email or phone number"))
            continue

        def join(ms: list[MethodIn]) -> str:
            return "; ".join(m.value + (f" ({m.label})" if m.label else "") for m in ms)
        phones = [m for m in data.methods if m.kind in K.PHONE_KINDS]
        emails = [m for m in data.methods if m.kind == "email"]
        other = [m for m in data.methods if m not in phones and m not in emails]
        if data.address:
            other.insert(0, MethodIn("other", data.address, "address"))
        shown.append([str(item.line), data.name, "agency" if data.is_org else "contact",
                      data.org or "", data.fields.get("title", ""), join(phones),
                      join(emails), join(other)])
    if not items:
        problems.append((None, "no vCard in this file (no BEGIN:VCARD line)"))
    cards = sum(1 for i in items if not isinstance(i, vcard.CardError))
    return Preview(str(path), "vcard", ["contact"], "contact", list(_CARD_COLUMNS), shown,
                   total=cards, encoding=encoding, problems=problems)


# ---------------------------------------------------------------------------- ical
_EVENT_COLUMNS = ["Line", "Title", "Kind", "Start", "End", "Location", "Repeats"]


def _ical(path: Path, options: dict, n: int) -> Preview:
    from . import ical
    from .ical_check import read_calendars
    cals, lines = read_calendars(path)
    events = [ev for cal in cals for ev in cal.walk("VEVENT")]
    shown, problems = [], []
    for i, ev in enumerate(events[:n]):
        line = lines[i] if i < len(lines) else None
        try:
            v = ical.event_values(ev, options)
        except (ValueError, TypeError, AttributeError) as e:
            problems.append((line, str(e)))
            continue
        repeats = ""
        for note in (v.get("notes") or "").splitlines():
            if note.startswith("Repeats: "):
                repeats = note[len("Repeats: "):]
        shown.append([str(line or ""), v["title"], v["kind"], v["start"], v.get("end") or "",
                      v.get("location") or "", repeats])
    notes = [] if events else ["the calendar holds no events"]
    return Preview(str(path), "ical", ["event"], "event", list(_EVENT_COLUMNS), shown,
                   total=len(events), problems=problems, notes=notes)


# ---------------------------------------------------------------------------- chirp
_CHANNEL_COLUMNS = ["Line", "Name", "RX MHz", "TX MHz", "TX tone", "RX tone", "Mode", "Remarks"]


def _mhz(v) -> str:
    return "" if v is None else re.sub(r"\.?0+$", "", f"{float(v):.6f}")


def _chirp(path: Path, options: dict, n: int) -> Preview:
    from . import chirp
    memories = chirp.read_channels(path)
    shown, problems, total = [], [], 0
    for line, values, problem in memories:
        if problem:
            problems.append((line, problem))
            continue
        if values is None:
            continue
        total += 1
        if len(shown) < n:
            shown.append([str(line), values["name"], _mhz(values["rx_freq"]),
                          _mhz(values.get("tx_freq")) if values.get("tx_freq") is not None
                          else "receive only", values.get("tx_tone") or "",
                          values.get("rx_tone") or "", values.get("mode") or "",
                          values.get("remarks") or ""])
    return Preview(str(path), "chirp", ["channel"], "channel", list(_CHANNEL_COLUMNS), shown,
                   total=total, problems=problems)
