# SPDX-License-Identifier: GPL-3.0-or-later
"""`fieldcoord import|export|print ...` (CLI layer, thin over fieldcoord.interop)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .interop.runner import EXPORTERS, IMPORTERS, LAYOUTS

FORMS = ("ics205", "ics205a", "ics213rr", "ics214")
COMMANDS = ("import", "export", "print")


def add_parsers(sub) -> None:
    i = sub.add_parser("import", help="import vCard, CSV, iCalendar, GeoJSON or CHIRP files")
    i.add_argument("format", choices=list(IMPORTERS), metavar="|".join(IMPORTERS))
    i.add_argument("files", nargs="+", type=Path, metavar="FILE")
    i.add_argument("--kind", help="what the rows are (csv, geojson): agency, contact, "
                                  "resource, channel, event ...")
    i.add_argument("--agency", metavar="CODE",
                   help="agency of imported contacts or resources that name none")
    i.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                   help="take FIELD from COLUMN (csv, geojson); repeat, also with one field "
                        "for several columns of emails, phones... (csv)")
    i.add_argument("--mapping", metavar="NAME", help="use a column mapping saved before")
    i.add_argument("--save-mapping", metavar="NAME", help="save this column mapping as NAME")
    i.add_argument("--encoding", help="text encoding when detection guesses wrong")
    i.add_argument("--scope", help="sharing scope of the new records")
    i.add_argument("--dry-run", action="store_true",
                   help="report what would change and write nothing")
    i.add_argument("--no-match", action="append", default=[], metavar="[FILE:]LINE",
                   help="import this row as a new contact even if it matches one (csv; "
                        "--dry-run lists the matches); repeat")

    e = sub.add_parser("export", help="export vCard, CSV, Excel, iCalendar, GeoJSON or CHIRP "
                                      "files")
    e.add_argument("format", choices=list(EXPORTERS), metavar="|".join(EXPORTERS))
    e.add_argument("file", type=Path)
    e.add_argument("--kind", help="which records (csv, geojson, ical)")
    e.add_argument("--agency", metavar="CODE", help="only this agency's records")
    e.add_argument("--search", metavar="TEXT", help="only the records this search finds")
    e.add_argument("--id", dest="ids", action="append", default=[], metavar="ID",
                   help="only these records; repeat")
    e.add_argument("--vcard-version", choices=("3.0", "4.0"), default="3.0")
    e.add_argument("--layout", metavar="|".join(LAYOUTS["csv"]),
                   help="csv: fieldcoord's columns (default), or as Google Contacts or "
                        "Outlook export them")
    e.add_argument("--name-length", metavar="N", help="chirp: channel names of at most N "
                   "characters (5-16), unique in the file, for radios with short displays")

    p = sub.add_parser("print", help="an ICS form of an operation as PDF")
    p.add_argument("form", choices=FORMS, metavar="|".join(FORMS))
    p.add_argument("--operation", required=True, metavar="ID|NAME")
    p.add_argument("file", type=Path, metavar="FILE.pdf")
    p.add_argument("--prepared-by", default="", metavar="NAME")
    p.add_argument("--position", default="", metavar="TEXT",
                   help="the preparer's position or title")
    p.add_argument("--from", dest="period_from", default="", metavar="DATETIME",
                   help="start of the operational period (also limits the ICS 214 log)")
    p.add_argument("--to", dest="period_to", default="", metavar="DATETIME",
                   help="end of the operational period")
    p.add_argument("--instructions", default="", metavar="TEXT",
                   help="special instructions (ICS 205)")
    p.add_argument("--request", default="", metavar="ID|NUMBER",
                   help="ICS 213 RR: only this request")


def _options(args) -> dict:
    opts = {k: v for k, v in vars(args).items()
            if k in ("kind", "agency", "mapping", "save_mapping", "encoding", "scope", "search",
                     "ids", "vcard_version", "layout", "name_length") and v not in (None, [], "")}
    if getattr(args, "map", None):
        from .cli import parse_assignments
        # a field given several times maps to the list of its columns; the importer takes
        # that for contact methods and says which field takes one column otherwise
        opts["map"] = {k: v for k, v in parse_assignments(args.map).items()}
    if getattr(args, "no_match", None):
        if args.format not in ("csv", "vcard"):
            from .core.errors import ValidationError
            raise ValidationError(f"--no-match: a {args.format} import cannot keep rows apart; "
                                  "it works with csv and vcard")
        opts["no_match"] = list(args.no_match)
    return opts


def run(args, store, progress) -> int:
    from .interop.runner import run_export, run_import
    if args.command == "import":
        report = run_import(store, args.format, args.files, _options(args),
                            progress=progress, dry_run=args.dry_run)
    elif args.command == "export":
        report = run_export(store, args.format, args.file, _options(args), progress=progress)
    else:
        from .interop.icsforms import Options
        from .ui.paper import print_form
        options = Options(prepared_by=args.prepared_by, position=args.position,
                          period_from=args.period_from, period_to=args.period_to,
                          special_instructions=args.instructions, request=args.request)
        report = print_form(store, args.form, args.operation, args.file, options)
    if args.json:
        print(json.dumps(report.to_dict(), indent=1, ensure_ascii=False))
    else:
        print(report.summary())
    if args.command == "import" and report.skipped and not (
            report.added or report.updated or report.unchanged):
        # an import that took nothing is bad input (2), with one line saying why
        n = len(report.skipped)
        what = "the only record was" if n == 1 else f"all {n} records were"
        more = f" (and {n - 1} more, listed above)" if n > 1 else ""
        sys.stdout.flush()
        print(f"error: nothing imported: {what} skipped; {report.skipped[0]}{more}",
              file=sys.stderr)
        return 2
    return 0
