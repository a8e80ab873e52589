# SPDX-License-Identifier: GPL-3.0-or-later
"""Contacts and agencies out as CSV — in fieldcoord's own columns, or laid out as Google Contacts
or Outlook export them — and as an Excel workbook (interop layer).

Layouts (options["layout"], see runner.LAYOUTS):
- fieldcoord: one column per field and one per method kind holding the first (highest priority)
  value of that kind; phones in E.164. Reads back through `fieldcoord import csv` unchanged.
- google: Google Contacts' CSV columns (First Name, Organization Name, E-mail 1 - Value,
  Phone 1 - Label/Value, Address 1 - Formatted, Website 1 - Value, Custom Field 1 - ...), every
  method in its own numbered column; UTF-8 without BOM, as Google writes it.
- outlook: Outlook's CSV columns (Business Phone, Mobile Phone, E-mail Address, Business Street,
  Web Page...), methods in the slot their kind and label fit; what has no slot (a call sign, a
  fourth email) becomes a line of Notes.
Both partner layouts read back through fieldcoord's importer, which recognises them.

The workbook (export_workbook) has one sheet per kind exported, fieldcoord's columns with
readable headers, a frozen header row, fitted column widths, and every phone as a text cell
(format '@'), so a spreadsheet never turns +13605550100 into 1.36E+10.

Extensions are written one way everywhere a person reads a number: "+1 360-555-0100 ext. 464"
(as fieldcoord shows them, and as Outlook, Google and phonenumbers write them); only vCard 4.0
`tel:` URIs keep RFC 3966's ";ext=464".
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from ..core import kinds as K
from ..core.errors import FieldcoordError, ValidationError
from ..core.format import display_phone
from .contacts import EXPORT_STOPPED, Pacer
from .exporting import write_atomically
from .report import ExportReport
from .runner import LAYOUTS
from .vcard import _methods_by_holder, select
from .vcard_read import note_line
from .vcard_write import name_kind, name_parts

EXT = " ext. "

# fieldcoord's own columns (the headers are field names, so the file reads back as it is)
CONTACT_COLUMNS = ("name", "agency", "agency_name", "title", "ics_position", "languages",
                   "phone", "mobile", "email", "fax", "pager", "satellite_phone", "call_sign",
                   "notes", "id")
AGENCY_COLUMNS = ("code", "name", "level", "discipline", "jurisdiction", "address", "lat",
                  "lon", "website", "phone", "email", "fax", "notes")
_CONTACT_METHOD_COLUMNS = ("phone", "mobile", "email", "fax", "pager", "satellite_phone",
                           "call_sign")
# the workbook's headers: field titles a CSV import also recognises
CONTACT_HEADERS = ("Name", "Agency", "Agency name", "Title", "ICS position", "Languages",
                   "Phone", "Mobile", "Email", "Fax", "Pager", "Satellite phone", "Call sign",
                   "Notes", "Id")
AGENCY_HEADERS = ("Code", "Name", "Level", "Discipline", "Jurisdiction", "Address", "Latitude",
                  "Longitude", "Website", "Phone", "Email", "Fax", "Notes")
_SHEETS = {"contact": "Contacts", "agency": "Agencies"}


def phone_text(value: str, international: bool = True) -> str:
    """A stored phone as a person reads it: '+1 360-555-0100 ext. 464' (international), or
    '+13605550100 ext. 464' (E.164); text that is not a number stays as it is."""
    text = display_phone(value) if international else value
    return text.replace(";ext=", EXT)


# ---------------------------------------------------------------------------- what is exported
@dataclass
class _Data:
    contacts: list
    agencies: list
    methods: dict                 # holder id (agencies: "a:ID") -> methods, priority order
    agency: dict                  # agency id -> (code, name)

    def of(self, rec) -> list[dict]:
        return self.methods.get(rec.id if rec.kind == "contact" else f"a:{rec.id}", [])


def _collect(store, options: dict, kinds: tuple[str, ...]) -> _Data:
    contacts, agencies = select(store, options)
    if "agency" in kinds and not (options.get("ids") or options.get("agency")
                                  or options.get("search")):
        agencies = store.list("agency")        # every agency, not only those with lines
    return _Data(
        sorted(contacts, key=lambda r: (r.values["name"].casefold(), r.id))
        if "contact" in kinds else [],
        sorted(agencies, key=lambda r: r.values["code"]) if "agency" in kinds else [],
        _methods_by_holder(store),
        {rid: (code, name) for rid, code, name in store.conn.execute(
            "SELECT id, code, name FROM agency")})


def _kinds(options: dict, fmt: str, default: str | None) -> tuple[str, ...]:
    name = str(options.get("kind") or default or "").strip()
    if not name:
        return ("contact", "agency")
    kind = K.kind_named(name)
    if kind is None or kind.name not in ("contact", "agency"):
        raise ValidationError(f"{fmt} export writes contacts or agencies "
                              f"(--kind contact|agency), not '{name}'")
    return (kind.name,)


def _main(methods: list[dict]) -> dict:
    """The first (highest priority) value of each method kind; the list is sorted already."""
    main: dict = {}
    for m in methods:
        main.setdefault(m["kind"], m["value"])
    return main


def _label(text: str | None) -> str:
    text = " ".join(str(text or "").split())
    return text[:1].upper() + text[1:]


_KIND_WORDS = {"phone": "Phone", "mobile": "Mobile", "fax": "Fax", "pager": "Pager",
               "satellite_phone": "Satellite phone", "email": "Email"}


def _note(m: dict, international: bool = True) -> str:
    """A method as a line of notes, for a layout with no place for it."""
    if m["kind"] in ("call_sign", "other"):
        return note_line(m["kind"], m["value"], m["label"] or ("other" if m["kind"] == "other"
                                                                else None))
    value = phone_text(m["value"], international) if m["kind"] in K.PHONE_KINDS else m["value"]
    what = _KIND_WORDS.get(m["kind"], _label(m["kind"]))
    if m["label"]:
        what += f" ({m['label']})"
    return f"{what}: {value}"


def _notes(text: str | None, lines: list[str]) -> str:
    return "\n\n".join(x for x in (str(text or "").strip(), "\n".join(lines)) if x)


def _is_address(m: dict) -> bool:
    words = (m["label"] or "").lower().split()
    return m["kind"] == "other" and bool(words) and words[-1] == "address"


def _address_type(m: dict) -> str:
    """'work address' -> 'work'; 'address' -> ''."""
    return " ".join((m["label"] or "").split()[:-1])


def _is_website(m: dict) -> bool:
    low = (m["label"] or "").strip().lower()
    return m["kind"] == "other" and (low in ("website", "url", "homepage", "web page", "web")
                                     or bool(re.match(r"https?://\S+$", m["value"], re.I)))


def _person(rec, data: _Data) -> tuple[str, str, str, str, str]:
    """(family, given, additional, prefix, suffix); a position or a contact named like its
    agency is all given name, which is how both programs show a name of one part."""
    v = rec.values
    agency_name = data.agency.get(v.get("agency"), ("", ""))[1]
    if name_kind(v["name"], agency_name, v.get("title"), v.get("ics_position")) != "person":
        return "", " ".join(v["name"].split()), "", "", ""
    return name_parts(v["name"])


# ---------------------------------------------------------------------------- layouts
def _fieldcoord_rows(data: _Data, kind: str, international: bool) -> list[list]:
    """fieldcoord's columns, values as they are (None for nothing, numbers as numbers)."""
    rows = []
    if kind == "contact":
        for rec in data.contacts:
            v = rec.values
            main = _main(data.of(rec))
            code, aname = data.agency.get(v.get("agency"), (None, None))
            rows.append([v["name"], code, aname, v.get("title"), v.get("ics_position"),
                         v.get("languages"),
                         *(phone_text(main[k], international) if k in K.PHONE_KINDS
                           and main.get(k) else main.get(k) for k in _CONTACT_METHOD_COLUMNS),
                         v.get("notes"), rec.id])
    else:
        for rec in data.agencies:
            v = rec.values
            main = _main(data.of(rec))
            rows.append([v.get(c) for c in AGENCY_COLUMNS[:9]]
                        + [phone_text(main["phone"], international) if main.get("phone")
                           else None, main.get("email"),
                           phone_text(main["fax"], international) if main.get("fax") else None,
                           v.get("notes")])
    return rows


def _fieldcoord_table(data: _Data, kind: str) -> tuple[list[str], list[list]]:
    head = CONTACT_COLUMNS if kind == "contact" else AGENCY_COLUMNS
    return list(head), _fieldcoord_rows(data, kind, international=False)


_GOOGLE_TYPES = {"work": "Work", "home": "Home", "main": "Main", "other": "Other"}


def _google_phone_label(kind: str, label: str | None) -> str:
    low = (label or "").strip().lower()
    if kind == "mobile":
        return "Work Mobile" if low == "work" else "Mobile"
    if kind == "fax":
        return f"{_GOOGLE_TYPES.get(low, _label(label))} Fax" if low else "Fax"
    if kind == "pager":
        return "Work Pager" if low == "work" else "Pager"
    if kind == "satellite_phone":
        return "Satellite"
    return _GOOGLE_TYPES.get(low, label or "")


def _google_record(rec, data: _Data) -> dict:
    v = rec.values
    row: dict = {"emails": [], "phones": [], "addresses": [], "websites": [], "custom": []}
    if rec.kind == "contact":
        family, given, extra, prefix, suffix = _person(rec, data)
        row.update({"First Name": given, "Middle Name": extra, "Last Name": family,
                    "Name Prefix": prefix, "Name Suffix": suffix,
                    "Organization Name": data.agency.get(v.get("agency"), ("", ""))[1],
                    "Organization Title": v.get("title") or ""})
        for field, what in (("ics_position", "ICS position"), ("languages", "Languages")):
            if v.get(field):
                row["custom"].append((what, v[field]))
    else:
        row["Organization Name"] = v["name"]
        row["custom"].append(("Agency code", v["code"]))
        if v.get("jurisdiction"):
            row["custom"].append(("Jurisdiction", v["jurisdiction"]))
        if v.get("address"):
            row["addresses"].append(("Work", v["address"]))
        if v.get("website"):
            row["websites"].append(("", v["website"]))
    row["Notes"] = v.get("notes") or ""
    for m in data.of(rec):
        kind, value, label = m["kind"], m["value"], m["label"]
        if kind in K.PHONE_KINDS:
            row["phones"].append((_google_phone_label(kind, label), phone_text(value)))
        elif kind == "email":
            row["emails"].append((_GOOGLE_TYPES.get((label or "").lower(), label or ""), value))
        elif kind == "call_sign":
            row["custom"].append((f"Call sign ({label})" if label else "Call sign", value))
        elif _is_address(m):
            typ = _address_type(m)
            row["addresses"].append((_GOOGLE_TYPES.get(typ.lower(), typ), value))
        elif _is_website(m):
            low = (label or "").strip().lower()
            row["websites"].append(("" if low in ("website", "url", "homepage", "web page",
                                                  "web") else label or "", value))
        else:
            row["custom"].append((_label(label) or "Other", value))
    return row


_GOOGLE_NAMES = ("First Name", "Middle Name", "Last Name", "Name Prefix", "Name Suffix",
                 "Organization Name", "Organization Title", "Notes")
# (list in the record, header prefix, value column); the first two are always written, so the
# header is one Google's and fieldcoord's importers recognise even when no one has an email
_GOOGLE_GROUPS = (("emails", "E-mail", "Value"), ("phones", "Phone", "Value"),
                  ("addresses", "Address", "Formatted"), ("websites", "Website", "Value"),
                  ("custom", "Custom Field", "Value"))


def _google_table(data: _Data, kind: str) -> tuple[list[str], list[list]]:
    records = [_google_record(r, data) for r in (data.contacts if kind == "contact"
                                                  else data.agencies)]
    head = list(_GOOGLE_NAMES)
    widths = {}
    for key, prefix, value in _GOOGLE_GROUPS:
        n = max([len(r[key]) for r in records] + [1 if key in ("emails", "phones") else 0])
        widths[key] = n
        for i in range(1, n + 1):
            head += [f"{prefix} {i} - Label", f"{prefix} {i} - {value}"]
    rows = []
    for r in records:
        row = [r.get(c, "") for c in _GOOGLE_NAMES]
        for key, _prefix, _value in _GOOGLE_GROUPS:
            items = r[key] + [("", "")] * (widths[key] - len(r[key]))
            for label, value in items:
                row += [label, value]
        rows.append(row)
    return head, rows


OUTLOOK_HEADER = (
    "Title", "First Name", "Middle Name", "Last Name", "Suffix", "Company", "Department",
    "Job Title", "Business Street", "Business Street 2", "Business Street 3", "Business City",
    "Business State", "Business Postal Code", "Business Country/Region", "Home Street",
    "Home Street 2", "Home Street 3", "Home City", "Home State", "Home Postal Code",
    "Home Country/Region", "Other Street", "Other Street 2", "Other Street 3", "Other City",
    "Other State", "Other Postal Code", "Other Country/Region", "Assistant's Phone",
    "Business Fax", "Business Phone", "Business Phone 2", "Callback", "Car Phone",
    "Company Main Phone", "Home Fax", "Home Phone", "Home Phone 2", "ISDN", "Mobile Phone",
    "Other Fax", "Other Phone", "Pager", "Primary Phone", "Radio Phone", "TTY/TDD Phone",
    "Telex", "Account", "Anniversary", "Assistant's Name", "Billing Information", "Birthday",
    "Business Address PO Box", "Categories", "Children", "Directory Server", "E-mail Address",
    "E-mail Type", "E-mail Display Name", "E-mail 2 Address", "E-mail 2 Type",
    "E-mail 2 Display Name", "E-mail 3 Address", "E-mail 3 Type", "E-mail 3 Display Name",
    "Gender", "Government ID Number", "Hobby", "Home Address PO Box", "Initials",
    "Internet Free Busy", "Keywords", "Language", "Location", "Manager's Name", "Mileage",
    "Notes", "Office Location", "Organizational ID Number", "Other Address PO Box", "Priority",
    "Private", "Profession", "Referred By", "Sensitivity", "Spouse", "User 1", "User 2",
    "User 3", "User 4", "Web Page")
# Outlook's phone slots: (kind, label) -> the columns that say the same, tried first; then
# the kind's fallbacks. An unlabelled phone is a work number (Business Phone), as partners'
# directories are.
_OUTLOOK_SLOTS = {
    ("phone", ""): ("Business Phone", "Business Phone 2", "Primary Phone"),
    ("phone", "work"): ("Business Phone", "Business Phone 2"),
    ("phone", "main"): ("Company Main Phone",), ("phone", "primary"): ("Primary Phone",),
    ("phone", "home"): ("Home Phone", "Home Phone 2"), ("phone", "other"): ("Other Phone",),
    ("phone", "assistant"): ("Assistant's Phone",), ("phone", "callback"): ("Callback",),
    ("phone", "radio"): ("Radio Phone",), ("phone", "isdn"): ("ISDN",),
    ("phone", "tty/tdd"): ("TTY/TDD Phone",), ("phone", "telex"): ("Telex",),
    ("mobile", ""): ("Mobile Phone",), ("mobile", "car"): ("Car Phone",),
    ("fax", ""): ("Business Fax",), ("fax", "work"): ("Business Fax",),
    ("fax", "home"): ("Home Fax",), ("fax", "other"): ("Other Fax",),
}
_OUTLOOK_FALLBACK = {
    "phone": ("Business Phone", "Business Phone 2", "Other Phone", "Primary Phone"),
    "mobile": ("Mobile Phone", "Other Phone"),
    "fax": ("Business Fax", "Other Fax", "Home Fax"),
    "pager": ("Pager",),
    "satellite_phone": ("Radio Phone", "Other Phone"),
}
_OUTLOOK_EMAILS = (("E-mail Address", "E-mail Type", "E-mail Display Name"),
                   ("E-mail 2 Address", "E-mail 2 Type", "E-mail 2 Display Name"),
                   ("E-mail 3 Address", "E-mail 3 Type", "E-mail 3 Display Name"))
_OUTLOOK_STREETS = {"work": "Business Street", "business": "Business Street",
                    "home": "Home Street"}


def _outlook_record(rec, data: _Data) -> dict:
    v = rec.values
    row: dict = {}
    extra: list[str] = []
    if rec.kind == "contact":
        family, given, middle, prefix, suffix = _person(rec, data)
        row.update({"Title": prefix, "First Name": given, "Middle Name": middle,
                    "Last Name": family, "Suffix": suffix,
                    "Company": data.agency.get(v.get("agency"), ("", ""))[1],
                    "Job Title": v.get("title") or "", "Language": v.get("languages") or ""})
        if v.get("ics_position"):
            extra.append(f"ICS position: {v['ics_position']}")
        display = v["name"]
    else:
        row.update({"Company": v["name"], "Organizational ID Number": v["code"],
                    "Business Street": v.get("address") or "",
                    "Web Page": v.get("website") or ""})
        display = v["name"]
    emails = 0
    for m in data.of(rec):
        kind, value, label = m["kind"], m["value"], (m["label"] or "").strip()
        if kind in K.PHONE_KINDS:
            tried = _OUTLOOK_SLOTS.get((kind, label.lower()), ()) + _OUTLOOK_FALLBACK[kind]
            col = next((c for c in tried if not row.get(c)), None)
            if col:
                row[col] = phone_text(value)
                continue
        elif kind == "email" and emails < len(_OUTLOOK_EMAILS):
            address, typ, shown = _OUTLOOK_EMAILS[emails]
            row.update({address: value, typ: "SMTP", shown: f"{display} ({value})"})
            emails += 1
            continue
        elif _is_address(m):
            col = _OUTLOOK_STREETS.get(_address_type(m).lower(), "Other Street")
            col = col if not row.get(col) else "Other Street"
            if not row.get(col):
                row[col] = value
                continue
        elif _is_website(m) and not row.get("Web Page"):
            row["Web Page"] = value
            continue
        extra.append(_note(m))
    row["Notes"] = _notes(v.get("notes"), extra)
    return row


def _outlook_table(data: _Data, kind: str) -> tuple[list[str], list[list]]:
    records = [_outlook_record(r, data) for r in (data.contacts if kind == "contact"
                                                   else data.agencies)]
    return list(OUTLOOK_HEADER), [[r.get(c, "") for c in OUTLOOK_HEADER] for r in records]


_TABLES = {"fieldcoord": _fieldcoord_table, "google": _google_table, "outlook": _outlook_table}
_LAYOUT_NAMES = {"google": "Google Contacts", "outlook": "Outlook"}


# ---------------------------------------------------------------------------- CSV
def export_file(store, path: Path, options: dict, progress=None,
                cancelled=None) -> ExportReport:
    """Write contacts (default) or agencies (options kind=agency) as CSV in the layout
    options["layout"] asks for (fieldcoord, google or outlook): UTF-8 (with a BOM, so
    spreadsheet programs read it as UTF-8, except for Google, whose own files have none),
    CRLF rows. Reads the store; writes the file whole or not at all."""
    layout = str(options.get("layout") or LAYOUTS["csv"][0]).strip().lower()
    if layout not in _TABLES:
        raise ValidationError(f"no CSV layout called '{layout}'; layouts are: "
                              f"{', '.join(LAYOUTS['csv'])}")
    kind = _kinds(options, "CSV", "contact")[0]
    data = _collect(store, options, (kind,))
    records = data.contacts if kind == "contact" else data.agencies
    pacer = Pacer(progress, cancelled, "Exporting CSV", len(records), stopped=EXPORT_STOPPED)
    pacer.step(len(records))
    head, rows = _TABLES[layout](data, kind)
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(head)
    for row in rows:
        w.writerow(["" if x is None else x for x in row])
    report = ExportReport("csv", str(path))
    report.written[kind] = len(records)
    if layout in _LAYOUT_NAMES:
        report.notes.append(f"written in the {_LAYOUT_NAMES[layout]} CSV layout")
    _write(path, out.getvalue().encode("utf-8" if layout == "google" else "utf-8-sig"))
    return report


def _write(path, data: bytes) -> None:
    try:
        write_atomically(Path(path), data)
    except OSError as e:
        raise ValidationError(f"cannot write {path}: {e.strerror or e}") from None


# ---------------------------------------------------------------------------- workbook
_TEXT_WIDTH = (8, 60)               # column widths, in characters: at least, at most


def export_workbook(store, path: Path, options: dict, progress=None,
                    cancelled=None) -> ExportReport:
    """Write an Excel workbook (.xlsx): a Contacts sheet and an Agencies sheet (options
    kind=contact or agency: that one only), fieldcoord's columns with readable headers.
    Every text cell is a string cell formatted as text ('@'), so phone numbers keep their '+'
    and leading zeros; latitude and longitude are numbers. Reads the store; writes the file
    whole or not at all."""
    try:
        from openpyxl import Workbook
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
        from openpyxl.styles import Font
        from openpyxl.utils import get_column_letter
    except ImportError:
        raise FieldcoordError("the xlsx export needs the openpyxl package "
                              "(pip install openpyxl)") from None
    kinds = _kinds(options, "xlsx", None)
    data = _collect(store, options, kinds)
    pacer = Pacer(progress, cancelled, "Exporting workbook",
                  len(data.contacts) + len(data.agencies), stopped=EXPORT_STOPPED)
    report = ExportReport("xlsx", str(path))
    book = Workbook()
    book.remove(book.active)
    book.properties.creator = "fieldcoord"
    bold = Font(bold=True)
    for kind in kinds:
        head = CONTACT_HEADERS if kind == "contact" else AGENCY_HEADERS
        rows = _fieldcoord_rows(data, kind, international=True)
        sheet = book.create_sheet(_SHEETS[kind])
        sheet.append(list(head))
        for cell in sheet[1]:
            cell.font = bold
        widths = [len(h) for h in head]
        for row in rows:
            pacer.step()
            # control characters have no place in a spreadsheet cell (openpyxl refuses them);
            # the store's 20,000-character limit keeps texts within a cell's 32,767
            sheet.append([ILLEGAL_CHARACTERS_RE.sub("", x) if isinstance(x, str) else x
                          for x in row])
            for i, x in enumerate(row):
                if x is not None:
                    longest = max(len(line) for line in str(x).splitlines() or [""])
                    widths[i] = max(widths[i], longest)
        for col, name in enumerate(head, 1):
            numeric = name in ("Latitude", "Longitude")
            for (cell,) in sheet.iter_rows(min_row=2, min_col=col, max_col=col):
                if not numeric:
                    if cell.value is not None:
                        cell.data_type = "s"         # never a formula, a number or a date
                    cell.number_format = "@"
            letter = get_column_letter(col)
            sheet.column_dimensions[letter].width = min(max(widths[col - 1] + 2,
                                                            _TEXT_WIDTH[0]), _TEXT_WIDTH[1])
        sheet.freeze_panes = "A2"
        if rows:
            sheet.auto_filter.ref = sheet.dimensions
        report.written[kind] = len(rows)
    pacer.check()
    out = io.BytesIO()
    book.save(out)
    _write(path, out.getvalue())
    return report
