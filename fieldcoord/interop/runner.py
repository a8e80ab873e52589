# SPDX-License-Identifier: GPL-3.0-or-later
"""Run an import or export by format name, the same way for the CLI and the app.

Each format lives in a module of this package and offers
    import_files(store, paths, options, progress=None, cancelled=None) -> ImportReport
    export_file(store, path, options, progress=None, cancelled=None) -> ExportReport
(an exporter given as "module:function" is that function of the module). An import runs inside
one store transaction: it is applied whole or not at all (a dry run or a cancel rolls it back),
so a failed import leaves the database exactly as it was.

LAYOUTS lists the variants an export format writes, chosen with options["layout"] (the first
is the default): CSV in fieldcoord's own columns, or as Google Contacts or Outlook write it.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from ..core.errors import ValidationError
from .report import ExportReport, ImportReport

IMPORTERS = {"vcard": "vcard", "csv": "csvio", "ical": "ical", "geojson": "geojson",
             "chirp": "chirp"}
EXPORTERS = {"vcard": "vcard", "csv": "csvexport", "xlsx": "csvexport:export_workbook",
             "ical": "ical_write", "geojson": "geojson", "chirp": "chirp"}
LAYOUTS = {"csv": ("fieldcoord", "google", "outlook")}


class _DryRun(Exception):
    pass


def _module(table: dict, fmt: str, what: str):
    name = table.get(fmt)
    if name is None:
        raise ValidationError(f"cannot {what} '{fmt}'; formats are: {', '.join(table)}")
    return importlib.import_module(f"{__package__}.{name.partition(':')[0]}")


def _exporter(fmt: str):
    mod = _module(EXPORTERS, fmt, "export")
    return getattr(mod, EXPORTERS[fmt].partition(":")[2] or "export_file")


def check_layout(fmt: str, options: dict) -> str | None:
    """The layout options ask of `fmt` (its default when none), or ValidationError naming the
    layouts the format has."""
    layout = str(options.get("layout") or "").strip().lower()
    known = LAYOUTS.get(fmt, ())
    if not layout:
        return known[0] if known else None
    if layout not in known:
        if not known:
            raise ValidationError(f"{fmt} has no layouts to choose from (--layout is for "
                                  f"{', '.join(LAYOUTS)})")
        raise ValidationError(f"no {fmt} layout called '{layout}'; layouts are: "
                              f"{', '.join(known)}")
    return layout


def run_import(store, fmt: str, paths, options: dict | None = None, progress=None,
               cancelled=None, dry_run: bool = False) -> ImportReport:
    mod = _module(IMPORTERS, fmt, "import")
    paths = [Path(p) for p in paths]
    for p in paths:
        if not p.is_file():
            raise ValidationError(f"no such file: {p}")
    report = None
    try:
        with store.transaction():
            report = mod.import_files(store, paths, dict(options or {}), progress=progress,
                                      cancelled=cancelled)
            report.files = [str(p) for p in paths]
            if dry_run:
                report.dry_run = True
                raise _DryRun
    except _DryRun:
        pass
    return report


def run_export(store, fmt: str, path, options: dict | None = None, progress=None,
               cancelled=None) -> ExportReport:
    export = _exporter(fmt)
    options = dict(options or {})
    layout = check_layout(fmt, options)
    if layout:
        options["layout"] = layout
    return export(store, Path(path), options, progress=progress, cancelled=cancelled)
