# SPDX-License-Identifier: GPL-3.0-or-later
"""Run an import or export by format name, the same way for the CLI and the app.

Each format lives in its own module of this package and offers
    import_files(store, paths, options, progress=None, cancelled=None) -> ImportReport
    export_file(store, path, options, progress=None, cancelled=None) -> ExportReport
An import runs inside one store transaction: it is applied whole or not at all (a dry run or
a cancel rolls it back), so a failed import leaves the database exactly as it was.
"""
from __future__ import annotations

import importlib
from pathlib import Path

from ..core.errors import ValidationError
from .report import ExportReport, ImportReport

IMPORTERS = {"vcard": "vcard", "csv": "csvio", "ical": "ical", "geojson": "geojson",
             "chirp": "chirp"}
EXPORTERS = {"vcard": "vcard", "csv": "csvio", "ical": "ical", "geojson": "geojson",
             "chirp": "chirp"}


class _DryRun(Exception):
    pass


def _module(table: dict, fmt: str, what: str):
    name = table.get(fmt)
    if name is None:
        raise ValidationError(f"cannot {what} '{fmt}'; formats are: {', '.join(table)}")
    return importlib.import_module(f"{__package__}.{name}")


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
    mod = _module(EXPORTERS, fmt, "export")
    return mod.export_file(store, Path(path), dict(options or {}), progress=progress,
                           cancelled=cancelled)
