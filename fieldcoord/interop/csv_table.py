# SPDX-License-Identifier: GPL-3.0-or-later
"""A CSV table as read from a file (encoding and delimiter detected), the column mappings that
say which column gives which field, and saved mappings (interop layer)."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from ..core import kinds as K
from ..core.errors import ValidationError
from ..core.places import config_dir
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
_TEMPLATE_RE = re.compile(r"\{([^{}]+)\}")


# ---------------------------------------------------------------------------- config
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


def column_refs(ref) -> list[str]:
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
            got += [r for r in column_refs(ref) if r not in got]
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


def references_numbers(spec: dict) -> bool:
    refs = []
    for ref in (r for value in spec.values() for r in column_refs(value)):
        if ref.startswith("="):
            continue
        refs += _TEMPLATE_RE.findall(ref) if "{" in ref else [ref]
    return bool(refs) and all(r.strip().isdigit() for r in refs)
