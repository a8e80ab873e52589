# SPDX-License-Identifier: GPL-3.0-or-later
"""The command line: `fieldcoord ...`, thin over the store (CLI layer).

Exit status: 0 on success, 2 on bad input (one `error: ...` line on stderr, nothing written;
also an import that skipped every record), 1 on any other failure. Output cut short by its
reader (`fieldcoord list contact | head`) ends quietly with 0.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from . import __version__
from .core import kinds as K
from .core import places, workflow
from .core.errors import Cancelled, FieldcoordError, NotInitialised, ValidationError
from .core.format import display_number, display_phone, local_time
from .core.places import default_db

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2
log = logging.getLogger("fieldcoord.cli")

class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="fieldcoord", description="Offline-first partner directory and coordination "
                "records for field liaisons.")
    p.add_argument("--db", type=Path, help="database file (default: $FIELDCOORD_DB or the user "
                   "data directory)")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="say what happens on standard error, debug details included (it is "
                   "always written to the log file, see docs/cli.md)")
    p.add_argument("--version", action="version", version=f"fieldcoord {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    s = sub.add_parser("init", help="create a database whose home agency is CODE")
    s.add_argument("--agency", required=True, metavar="NAME")
    s.add_argument("--code", required=True)
    s.add_argument("--device", help="this device's name (default: the host name)")
    s.add_argument("--region", default="US", help="country for phone numbers without +code")
    s.add_argument("--join", action="store_true",
                   help="a device of an agency that already has a hub: its certificate comes "
                   "from the hub at the first sync (without it, this database makes the "
                   "agency's key)")

    kinds = ", ".join(K.KINDS)
    s = sub.add_parser("add", help="add a record: add KIND field=value ...")
    s.add_argument("kind", help=kinds)
    s.add_argument("fields", nargs="*", metavar="field=value")
    s = sub.add_parser("edit", help="change fields: edit ID field=value ...")
    s.add_argument("id")
    s.add_argument("fields", nargs="+", metavar="field=value")
    for name, text in (("delete", "delete a record (it can be restored)"),
                       ("restore", "restore a deleted record"), ("show", "show one record")):
        s = sub.add_parser(name, help=text)
        s.add_argument("id")
    s = sub.add_parser("list", help="list records of a kind")
    s.add_argument("kind", help=kinds)
    s.add_argument("--where", action="append", default=[], metavar="field=value")
    s.add_argument("--deleted", action="store_true", help="list deleted records instead")
    s.add_argument("--limit", type=int)
    s = sub.add_parser("search", help="find records of every kind by their title and key fields")
    s.add_argument("text", nargs="+")
    s.add_argument("--kind", help=", ".join(K.SEARCHABLE))
    s.add_argument("--limit", type=int, default=20)
    s = sub.add_parser("fields", help="the fields of a record kind (all kinds when none)")
    s.add_argument("kind", nargs="?")
    sub.add_parser("dump", help="canonical JSON of every live record and open conflict")
    s = sub.add_parser("calls", help="the duty-line check: 24/7 lines due for a call, in "
                                     "order; `calls ID reached|wrong_number|no_answer` records "
                                     "what a call found")
    s.add_argument("id", nargs="?")
    s.add_argument("outcome", nargs="?", choices=("reached", "wrong_number", "no_answer"))
    s = sub.add_parser("alerts", help="what needs attention: agreements due, stale 24/7 lines, "
                                      "overdue action items, urgent requests, conflicts, peers")
    s.add_argument("--level", choices=("overdue", "soon", "notice"),
                   help="only alerts this pressing or more")
    s.add_argument("--set", action="append", default=[], metavar="NAME=DAYS",
                   help="change a threshold (kept with the database): agreement_days=90,30,7 "
                        "stale_days=180 peer_days=7 refused_days=30")
    from . import cli_interop, cli_sync
    cli_sync.add_parsers(sub)
    cli_interop.add_parsers(sub)
    sub.add_parser("demo", help="fill the database with the built-in demo directory")
    return p


def parse_assignments(items: list[str]) -> dict:
    """field=value pairs; a repeated field collects its values in a list."""
    out: dict = {}
    for item in items:
        if "=" not in item:
            raise ValidationError(f"'{item}' is not field=value")
        key, value = item.split("=", 1)
        key = key.strip()
        if not key:
            raise ValidationError(f"'{item}' has no field name before '='")
        if key in out:
            prev = out[key]
            out[key] = (prev if isinstance(prev, list) else [prev]) + [value]
        else:
            out[key] = value
    return out


class Printer:
    """Text or JSON output of records, with references shown by code or title."""

    def __init__(self, store, as_json: bool):
        self.store, self.as_json = store, as_json
        self._names: dict = {}

    def out(self, text: str = "") -> None:
        print(text)

    def json(self, obj) -> None:
        print(json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True))

    def ref(self, fld: K.Field, value) -> str:
        if value is None:
            return ""
        if fld.type == K.REFS:
            return ", ".join(self.ref(K.Field(fld.name, K.REF, ref=fld.ref), v) for v in value)
        key = (fld.ref, value)
        if key not in self._names:
            try:
                rec = self.store.get(value, fld.ref)
                label = rec.values.get("code") if fld.ref == "agency" else rec.title
                self._names[key] = (label or value) + (" (deleted)" if rec.deleted else "")
            except ValidationError:
                self._names[key] = value
        return self._names[key]

    def value(self, kind: K.Kind, name: str, value) -> str:
        fld = kind.field_map.get(name)
        if value is None:
            return ""
        if fld and fld.type in (K.REF, K.REFS):
            return self.ref(fld, value)
        if (fld and fld.type == K.PHONE) or (name == "value" and kind.name == "method"):
            return display_phone(value)
        if isinstance(value, float):
            return display_number(value)
        return str(value).replace("_", " ") if fld and fld.type == K.ENUM else str(value)

    def record(self, rec, related: dict | None = None, steps: list | None = None) -> None:
        kind = K.KINDS[rec.kind]
        if self.as_json:
            data = rec.to_dict()
            if related:
                data["related"] = {k: [r.to_dict() for r in v] for k, v in related.items()}
            if steps is not None:
                data["history"] = [s.to_dict() for s in steps]
            self.json(data)
            return
        rows = [("kind", kind.label), ("id", rec.id)]
        rows += [(f.name, self.value(kind, f.name, rec.values.get(f.name))) for f in kind.fields]
        rows += [("owner", rec.owner), ("scope", rec.scope), ("created", rec.created_at),
                 ("updated", f"{rec.updated_at} by {rec.device or '?'}")]
        if rec.deleted:
            rows.append(("status", "DELETED (fieldcoord restore " + rec.id + ")"))
        width = max(len(n) for n, _ in rows)
        for name, val in rows:
            if val not in ("", None):
                self.out(f"{name:<{width}}  {val}")
        if steps:
            self.out("\nhistory:")
            for st in steps:
                move = (f"{workflow.label(st.before)} -> " if st.before else "recorded as ") \
                    + workflow.label(st.status)
                self.out(f"  {local_time(st.at):<16}  {move:<32}  {st.who}")
        for label, recs in (related or {}).items():
            if recs:
                self.out(f"\n{label}:")
                self.table(recs, indent="  ")

    def table(self, recs, indent: str = "") -> None:
        if not recs:
            return
        kind = K.KINDS[recs[0].kind]
        cols = [kind.title_field] + [c for c in kind.list_columns
                                     if c != kind.title_field]
        rows = [[self.value(kind, c, r.values.get(c)) for c in cols] + [r.id] for r in recs]
        widths = [min(max(len(row[i]) for row in rows), 40) for i in range(len(cols))]
        for row in rows:
            cells = [row[i][:40].ljust(widths[i]) for i in range(len(cols))] + [row[-1]]
            self.out(indent + "  ".join(cells).rstrip())


def _related(store, rec) -> dict:
    """Records a liaison wants to see next to this one."""
    rid = rec.id
    out = {}
    if rec.kind == "agency":
        out["contact methods"] = store.list("method", {"agency": rid, "contact": None})
    elif rec.kind == "contact":
        out["contact methods"] = store.children("method", "contact", rid)
    for part in K.KINDS[rec.kind].parts:
        if part.heading:
            out[part.heading.lower()] = store.children(part.kind, part.field, rid)
    return out


def describe_kind(kind: K.Kind) -> dict:
    """A kind's fields as the command line takes them."""
    fields = []
    for f in kind.fields:
        kind_text = {K.REF: f"{f.ref} id" + (" or code" if f.ref == "agency" else ""),
                     K.REFS: f"{f.ref} ids, comma-separated", K.ENUM: "one of " + ", ".join(
                         f.choices)}.get(f.type, f.type)
        fields.append({"field": f.name, "type": kind_text, "required": f.required,
                       "default": f.default, "label": f.title})
    return {"kind": kind.name, "label": kind.label, "table": kind.table, "fields": fields,
            "default_scope": kind.default_scope,
            "aliases": list(kind.aliases)}


def run(args: argparse.Namespace) -> int:  # noqa: C901 - a branch per subcommand; to split
    from .store import Store
    db = args.db or default_db()
    if args.command == "demo" and not args.db and not places.db_given():
        from .demo import demo_path
        db = demo_path(db)                  # the demo has its own file, never the user's
    if args.command == "fields":
        kinds = list(K.KINDS.values())
        if args.kind:
            k = K.kind_named(args.kind)
            if k is None:
                raise ValidationError(f"unknown record kind '{args.kind}'; kinds are: "
                                      + ", ".join(K.KINDS))
            kinds = [k]
        described = [describe_kind(k) for k in kinds]
        if args.json:
            print(json.dumps(described, indent=1, ensure_ascii=False))
            return EXIT_OK
        for d in described:
            print(f"{d['kind']} ({d['label']}; default scope {d['default_scope']})")
            for f in d["fields"]:
                extra = " (required)" if f["required"] else (
                    f" (default {f['default']})" if f["default"] is not None else "")
                print(f"  {f['field']:<22} {f['type']}{extra}")
            print("  owner, scope")
        return EXIT_OK
    if args.command == "init":
        store = Store.create(db, args.agency, args.code, device=args.device, region=args.region,
                             founder=not args.join)
        with store:
            if store.key_warning():
                print(f"warning: {store.key_warning()}", file=sys.stderr)
            if args.json:
                print(json.dumps({"db": str(db), "agency": store.home, "site": store.site_uuid}))
            else:
                print(f"initialised {db} for {args.agency.strip()} ({store.home})")
        return EXIT_OK
    from . import cli_interop, cli_sync
    say_upgrade(Path(db))
    if args.command in cli_sync.COMMANDS:
        return cli_sync.run(args, Path(db))
    if args.command == "demo" and not Path(db).exists():
        from .demo import DEMO_HOME_CODE, DEMO_HOME_NAME
        Store.create(db, DEMO_HOME_NAME, DEMO_HOME_CODE).close()
    with Store.open(db) as store:
        pr = Printer(store, args.json)
        cmd = args.command
        if cmd == "add":
            kind = store.kind_of(args.kind)
            rid, _ = store.write(lambda: store.add(args.kind, store.library_refs(
                kind, parse_assignments(args.fields))))
            if args.json:
                pr.record(store.get(rid))
            else:
                print(rid)
        elif cmd in ("edit", "delete", "restore"):
            if cmd == "edit":
                kind = K.KINDS[store.get(args.id).kind]
                rec, _ = store.write(lambda: store.edit(args.id, store.library_refs(
                    kind, parse_assignments(args.fields))))
            else:
                rec = getattr(store, cmd)(args.id)
            if args.json:
                pr.record(rec)
            else:
                verb = {"edit": "saved", "delete": "deleted", "restore": "restored"}[cmd]
                print(f"{verb} {K.KINDS[rec.kind].label} '{rec.title}' ({rec.id})")
        elif cmd == "show":
            rec = store.get(args.id)
            pr.record(rec, _related(store, rec),
                      store.request_history(rec.id) if rec.kind == "request" else None)
        elif cmd == "list":
            where = parse_assignments(args.where)
            if any(isinstance(v, list) for v in where.values()):
                raise ValidationError("give each --where field once")
            recs = store.list(args.kind, where, deleted=args.deleted, limit=args.limit)
            if args.json:
                pr.json([r.to_dict() for r in recs])
            elif recs:
                pr.table(recs)
            else:
                print(f"no {'deleted ' if args.deleted else ''}{store.kind_of(args.kind).plural}",
                      file=sys.stderr)
        elif cmd == "search":
            hits = store.search(" ".join(args.text), kind=args.kind, limit=args.limit)
            if args.json:
                pr.json([h.to_dict() for h in hits])
            else:
                for h in hits:
                    print(f"{h.kind:<8} {h.title}" + (f" — {h.subtitle}" if h.subtitle else "")
                          + f"  [{h.id}]")
                if not hits:
                    print("nothing found", file=sys.stderr)
        elif cmd == "dump":
            sys.stdout.write(store.dump())
        elif cmd == "alerts":
            _alerts(store, args, pr)
        elif cmd == "calls":
            _calls(store, args, pr)
        elif cmd in cli_interop.COMMANDS:
            return cli_interop.run(args, store, _progress if sys.stderr.isatty() else None)
        elif cmd == "demo":
            from .demo import load_demo
            counts = load_demo(store, progress=_progress if sys.stderr.isatty() else None)
            if args.json:
                pr.json(counts)
            else:
                print(f"demo directory loaded into {store.path}: "
                      + ", ".join(f"{n} {k}" for k, n in counts.items()))
    return EXIT_OK


def _calls(store, args, pr: Printer) -> None:
    from .store.alerts import Thresholds
    from .store.calls import due_lines, record_outcome
    if args.id:
        if not args.outcome:
            raise ValidationError("say what the call found: calls ID reached|wrong_number|"
                                  "no_answer")
        store.write(lambda: record_outcome(store, args.id, args.outcome))
        print(f"recorded: {args.outcome.replace('_', ' ')}")
        return
    lines = due_lines(store.conn, Thresholds.load(store.conn).stale_days, home=store.home)
    if args.json:
        pr.json([ln.to_dict() for ln in lines])
        return
    for ln in lines:
        state = (f"{ln.flag.replace('_', ' ')} {ln.checked_on}" if ln.flag else
                 f"verified {ln.verified_on}" if ln.verified_on else "never verified")
        number = display_phone(ln.value) if ln.kind in K.PHONE_KINDS else ln.value
        print(f"{ln.agency or '?':<8} {number:<18} {ln.holder[:34]:<34} {state}  [{ln.id}]")
    if not lines:
        print("no 24/7 line is due for a check", file=sys.stderr)


def _alerts(store, args, pr: Printer) -> None:
    from .store.alerts import LEVELS, Thresholds, alerts
    thresholds = Thresholds.load(store.conn)
    if args.set:
        values: dict = {}
        for name, value in parse_assignments(args.set).items():
            if name not in ("agreement_days", "stale_days", "peer_days", "refused_days"):
                raise ValidationError(f"--set: no threshold called '{name}'; thresholds are "
                                      "agreement_days, stale_days, peer_days, refused_days")
            try:
                days = [int(x) for x in str(value).split(",") if x.strip()]
            except ValueError:
                raise ValidationError(f"--set {name}: '{value}' is not a number of "
                                      "days") from None
            if not days or (name != "agreement_days" and len(days) != 1):
                wanted = "days" if name == "agreement_days" else "one number of days"
                raise ValidationError(f"--set {name}: give {wanted}")
            values[name] = tuple(days) if name == "agreement_days" else days[0]
        thresholds = thresholds.with_values(**values)
        thresholds.save(store)
    found = alerts(store, thresholds)
    if args.level:
        found = [a for a in found if LEVELS.index(a.level) <= LEVELS.index(args.level)]
    if args.json:
        pr.json([a.to_dict() for a in found])
        return
    for a in found:
        print(f"{a.level:<8} {a.title}\n         {a.detail}")
    if not found:
        print("nothing needs attention", file=sys.stderr)


def _stdout_gone() -> bool:
    """True when the reader of standard output has gone (a closed pipe)."""
    try:
        import select
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(ev & (select.POLLERR | select.POLLHUP) for _, ev in poller.poll(0))
    except (AttributeError, OSError, ValueError):   # no poll (Windows), no file descriptor
        return True


def _quiet_stdout() -> None:
    """Point standard output at the null device, so that nothing more fails on exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (AttributeError, OSError, ValueError):
        pass


def _progress(label: str, value: int, maximum: int) -> None:
    print(f"\r{label}: {value}/{maximum}", end="", file=sys.stderr, flush=True)
    if value >= maximum:
        print(file=sys.stderr)


def say_upgrade(db: Path) -> None:
    """Say on stderr that opening will bring a database of an earlier version up to date (some
    steps make every search document again: seconds for a large directory)."""
    from .store.migrations import pending
    if db.exists() and (steps := pending(db)):
        print(f"updating {db} for this version of fieldcoord ({len(steps)} "
              f"step{'s' if len(steps) > 1 else ''})...", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from . import logs
    program = "hub" if args.command == "hub" else "cli"
    logs.setup(program, args.verbose)
    log.debug("fieldcoord %s: %s", __version__, args.command)
    try:
        code = run(args)
        sys.stdout.flush()      # a closed pipe shows here, not in the interpreter's exit
        return code
    except BrokenPipeError:
        if not _stdout_gone():
            print("error: BrokenPipeError: a connection was closed", file=sys.stderr)
            return EXIT_FAILURE
        # the reader stopped reading (`| head`): what it read is what it wanted
        _quiet_stdout()
        return EXIT_OK
    except (ValidationError, NotInitialised, UsageError) as e:
        log.info("%s refused: %s", args.command, e)
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Cancelled:
        print("error: cancelled", file=sys.stderr)
        return EXIT_FAILURE
    except FieldcoordError as e:
        log.warning("%s failed: %s", args.command, e)
        print(f"error: {e}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as e:  # a bug or an I/O failure: say it plainly, keep the trace for debugging
        if places.debugging():
            raise
        from .core.failures import DiskFull, is_disk_full
        if is_disk_full(e):
            print(f"error: {DiskFull()}", file=sys.stderr)
            return EXIT_FAILURE
        where = logs.log_crash(program, type(e), e, e.__traceback__)
        print(f"error: {type(e).__name__}: {e}" + (f" (details in {where})" if where else ""),
              file=sys.stderr)
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
