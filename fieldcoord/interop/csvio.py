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

This module imports; csv_table.py reads a table and holds the mappings, csv_profiles.py reads
the exports of known programs and suggests mappings.
"""
from __future__ import annotations

import re
from pathlib import Path

from ..core import kinds as K
from ..core.errors import ValidationError
from ..core.validate import CODE_RE, normalise_field
from .contacts import ContactIn, Directory, MethodIn, Pacer, derive_code, name_key, rows_kept_apart
from .csv_profiles import (
    PROFILE_NAMES,
    PROFILE_READERS,
    USFA_HEAD,
    USFA_MAP,
    detect_profile,
    generic_spec,
    many_values,
    person_mapped,
)
from .csv_table import (
    AGENCY_EXTRA,
    Mapping,
    Table,
    load_mapping,
    references_numbers,
    save_mapping,
)
from .report import ImportReport


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
                      header=not (spec and references_numbers(spec)))
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
    spec = generic_spec(table, kind)
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
    found = directory.find_agency(name or text, text.upper() if CODE_RE.match(text.upper())
                                  else None) or directory.find_agency(text)
    if found:
        return found
    if name and CODE_RE.match(text.upper()):
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
        methods = [MethodIn(k, v) for k in AGENCY_EXTRA for v in many_values(raw.pop(k, ""))]
        values = _clean_fields(kind, raw, line, problems)
        name = " ".join(str(values.get("name") or "").split())
        if not name:
            report.skip(source, line, "no agency name in this row")
            continue
        values["name"] = name
        code = str(values.get("code") or "").strip().upper()
        code = re.sub(r"[^A-Z0-9-]+", "-", code).strip("-")
        if not CODE_RE.match(code):
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
