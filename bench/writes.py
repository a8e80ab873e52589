# SPDX-License-Identifier: GPL-3.0-or-later
"""The write path, measured side by side: fieldcoord against a bare plain-SQLite table (the
headline), plain tables kept in an FTS5 index by triggers (a second baseline), and cr-sqlite
(the peer to beat) when its extension can be loaded.

Each trial makes fresh files for every variant and runs the variants interleaved: the single
writes BLOCK at a time, variant after variant in a rotating order (A B C D, then B C D A, ...),
the bulk inserts one variant after another, so a busy machine slows them alike. A figure is
the median over trials of each trial's mean, with the trials' min-max; ratios are against the
bare table of the same trial and driver. cr-sqlite loads through sqlean.py (this Python's
sqlite3 cannot load extensions), with its own bare table in that driver for its ratios.

- single insert: one contact (name, agency, title) per transaction, into a table of 1,000;
- single edit: one field (title) of an existing contact per transaction;
- each again with what those writes left for an idle moment done after them: a checkpoint of
  the write-ahead log for every variant (fieldcoord's app makes it at idle, and a commit that
  brings the log to db.CHECKPOINT_PAGES pages makes it in any of them), and fieldcoord's
  full-text entries;
- beside fieldcoord's single writes, the floor under them: the same statements, on the same
  tables, replayed without the store's Python (Statements);
- bulk insert: 100,000 contacts in one transaction (10,000 with --quick);
- file size after the bulk insert, and what change recording alone adds per field written.
"""
from __future__ import annotations

import gc
import os
import random
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from fieldcoord.core import compact, ids
from fieldcoord.core import hlc as clock
from fieldcoord.store import Store
from fieldcoord.store.byref import BYREF
from fieldcoord.store.changelog import _INSERT_RECENT
from fieldcoord.store.db import CHECKPOINT_PAGES, connect
from fieldcoord.store.reading import _BY_ID
from fieldcoord.store.store import _insert_sql, _update_sql

from . import data, plain
from .cases import Config, log
from .report import Results, Row, load_average, median

GOALS = {"insert": 3.0, "edit": 3.0, "insert+idle": 3.0, "edit+idle": 3.0, "bulk": 4.0,
         "size": 3.0, "field_bytes": 25.0}
AIM = {"insert": 1.5, "edit": 1.5, "size": 2.0}
# read plus apply of 100,000 contacts (the bulk insert's) into an empty replica, in seconds
# (a tenth with --quick, which writes a tenth);
# bench/sync_cases.py holds the whole directory (its contacts' methods too) to the same goal
READ_APPLY_GOAL = 5.0
READ_APPLY_RUNS = 3         # the last trials' bulk inserts are read and applied
TRIALS = 5
SINGLES = 400              # single-row transactions timed per trial and figure
BLOCK = 20                 # of which each variant makes this many before the next one's turn
SEED_ROWS = 1_000          # contacts in the table before the single writes
AGENCIES = 50
# user fields a contact insert writes (owner, scope, name, agency, title): the per-field bytes
FIELDS_PER_CONTACT = 5
# the columns Store.add writes for a contact (every field, then owner and scope first)
_CONTACT_COLUMNS = ("owner", "scope", "name", "agency", "title", "ics_position", "languages",
                    "notes")
CRSQLITE_SO = os.environ.get("FIELDCOORD_CRSQLITE", str(
    Path(__file__).resolve().parents[2] / ".crsqlite" / "crsqlite-0.16.3-linux-x86_64.so"))

_BARE_TABLE = ("CREATE TABLE contact (id TEXT PRIMARY KEY NOT NULL, owner TEXT NOT NULL, "
               "scope TEXT NOT NULL, name TEXT, agency TEXT, title TEXT, "
               "created_at TEXT NOT NULL, updated_at TEXT NOT NULL)")
_CRR_TABLE = ("CREATE TABLE contact (id TEXT PRIMARY KEY NOT NULL, owner TEXT NOT NULL "
              "DEFAULT '', scope TEXT NOT NULL DEFAULT '', name TEXT, agency TEXT, title TEXT, "
              "created_at TEXT NOT NULL DEFAULT '', updated_at TEXT NOT NULL DEFAULT '')")


def _pragmas(conn: Any) -> None:
    """The store's own settings (fieldcoord.store.db.connect): WAL, synchronous=NORMAL, a
    checkpoint every CHECKPOINT_PAGES pages of log."""
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")


def _files(path: Path) -> int:
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


class Variant:
    """One way of storing contacts: made fresh per trial, then written to."""
    name = ""
    driver = "sqlite3"

    def __init__(self, path: Path, d: data.Directory):
        self.path, self.d = path, d

    def insert(self, c: data.Contact) -> None: ...

    def edit(self, k: int, title: str) -> None: ...

    def bulk(self, contacts: list[data.Contact]) -> None: ...

    def size(self) -> int:
        self.checkpoint()
        return _files(self.path)

    def checkpoint(self) -> None: ...

    def idle(self) -> float:
        """Seconds of the work the single writes left for an idle moment."""
        return 0.0

    def close(self) -> None: ...


class _Plain(Variant):
    """A table written with plain SQL statements, one transaction each."""
    conn: Any

    def _tx(self, sql: str, args: tuple) -> None:
        self.conn.execute("BEGIN")
        self.conn.execute(sql, args)
        self.conn.execute("COMMIT")

    def insert(self, c: data.Contact) -> None:
        self._tx(plain.INSERT_CONTACT, plain.contact_row(c, plain.now()))

    def edit(self, k: int, title: str) -> None:
        self._tx(plain.UPDATE_TITLE, (title, plain.now(), self.ids[k]))

    def bulk(self, contacts: list[data.Contact]) -> None:
        ts = plain.now()
        self.conn.execute("BEGIN")
        self.conn.executemany(plain.INSERT_CONTACT, [plain.contact_row(c, ts) for c in contacts])
        self.conn.execute("COMMIT")

    def seed(self, contacts: list[data.Contact]) -> None:
        self.bulk(contacts)
        self.ids = [c.id for c in contacts]

    def checkpoint(self) -> None:
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def idle(self) -> float:
        """A checkpoint of what the writes put in the log (which fieldcoord makes at idle)."""
        t0 = time.perf_counter()
        self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return time.perf_counter() - t0

    def close(self) -> None:
        self.conn.close()


class Bare(_Plain):
    """The headline baseline: a bare table of the contact's columns, no index, no FTS."""
    name = "bare table"

    def __init__(self, path: Path, d: data.Directory):
        super().__init__(path, d)
        self.conn = connect(path)
        self.conn.execute(_BARE_TABLE)


class PlainFts(_Plain):
    """Plain tables with the store's indexes and an FTS5 index kept by triggers."""
    name = "plain + FTS"

    def __init__(self, path: Path, d: data.Directory):
        super().__init__(path, d)
        self.conn = plain.create(path, True)
        ags, _, _ = plain.rows(d, plain.now())
        self.conn.execute("BEGIN")
        self.conn.executemany(plain.INSERT_AGENCY, ags)
        self.conn.execute("COMMIT")


class Fieldcoord(Variant):
    """The store: validation, versions, the change log and the search index."""
    name = "fieldcoord"

    def __init__(self, path: Path, d: data.Directory):
        super().__init__(path, d)
        self.store = Store.create(path, "Bench County Fire", "BCF")
        with self.store.transaction():
            for a in d.agencies:
                self.store.add("agency", {"name": a.name, "code": a.code, "level": a.level,
                                          "discipline": a.discipline})

    def insert(self, c: data.Contact) -> None:
        self.store.add("contact", {"name": c.name, "agency": c.agency.code, "title": c.title})

    def edit(self, k: int, title: str) -> None:
        self.store.edit(self.ids[k], {"title": title})

    def bulk(self, contacts: list[data.Contact]) -> None:
        with self.store.transaction():
            for c in contacts:
                self.store.add("contact", {"name": c.name, "agency": c.agency.code,
                                           "title": c.title})

    def seed(self, contacts: list[data.Contact]) -> None:
        before = {r[0] for r in self.store.conn.execute("SELECT id FROM contact")}
        self.bulk(contacts)
        self.ids = [r[0] for r in self.store.conn.execute("SELECT id FROM contact ORDER BY rowid")
                    if r[0] not in before]

    def checkpoint(self) -> None:
        self.store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def idle(self) -> float:
        """What the single writes left for an idle moment, as the app does it then: their
        full-text entries, and a checkpoint of the write-ahead log."""
        t0 = time.perf_counter()
        self.store.idle()
        return time.perf_counter() - t0

    def parts(self) -> dict[str, int]:
        """Bytes of the records, the change log and the search index (dbstat)."""
        from .cases import _group
        conn = self.store.conn
        tbl_of = {n: t for n, t in conn.execute(
            "SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')")}
        out: dict[str, int] = {}
        for name, size in conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            g = _group(tbl_of.get(name, name))
            out[g] = out.get(g, 0) + size
        return out

    def close(self) -> None:
        self.store.close()


class Statements(Fieldcoord):
    """Not a way of storing contacts: fieldcoord's own statements for each single write, as its
    code writes them (the same SQL text, the same tables and indexes, values of the same
    shape), replayed without the Python around them (validation, versions, the change's
    cells, search notes). What the store's SQL alone costs: the floor under its figures."""
    name = "fieldcoord's statements alone"

    def seed(self, contacts: list[data.Contact]) -> None:
        super().seed(contacts)
        s = self.store
        s.take_recent()
        self.stream = s.conn.execute("SELECT id FROM stream WHERE origin = ? AND audience = 'all'",
                                     (s.self_ord,)).fetchone()[0]
        self.seq = s.conn.execute("SELECT max(seq) FROM change WHERE stream = ?",
                                  (self.stream,)).fetchone()[0]
        self.hlc = s.conn.execute("SELECT max(hlc) FROM change").fetchone()[0]
        self.agency = {a.code: ids.agency_id(a.code) for a in self.d.agencies}
        self.titles = {rid: t for rid, t in s.conn.execute("SELECT id, title FROM contact")}

    def _begin(self) -> tuple[Any, int, int, str]:
        """BEGIN IMMEDIATE and the transaction's first statement, as Replica._begin runs them;
        the next version and position."""
        conn = self.store.conn
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("PRAGMA data_version").fetchall()
        self.hlc, self.seq = clock.tick(self.hlc), self.seq + 1
        return conn, self.hlc, self.seq, clock.to_iso(self.hlc)

    def insert(self, c: data.Contact) -> None:
        rid = ids.new_bound_id(self.store.site_uuid, "BCF")
        conn, hlc, seq, now = self._begin()
        conn.execute(_insert_sql("contact", _CONTACT_COLUMNS), (
            rid, "BCF", "all", c.name, self.agency[c.agency.code], c.title, None, None, None,
            now, now, self.store.device, 1, f'{{"":[{hlc},1],"@":1}}'))
        conn.execute(_INSERT_RECENT, (self.stream, seq, hlc, "contact", rid, hlc, 1, BYREF))
        conn.execute("COMMIT")

    def edit(self, k: int, title: str) -> None:
        rid = self.ids[k]
        conn, hlc, seq, now = self._begin()
        conn.execute(_BY_ID["contact"], (rid,)).fetchone()
        conn.execute(_update_sql("contact", ("title",)), (
            title, now, self.store.device, f'{{"":[{hlc - 1},1],"title":[{hlc},1],"@":1}}', rid))
        was = self.titles.get(rid)
        self.titles[rid] = title
        conn.execute(_INSERT_RECENT, (
            self.stream, seq, hlc, "contact", rid, hlc, 1,
            compact.dumps({"title": [title, hlc - 1, 1], "_was": [{"title": was}]})))
        conn.execute("COMMIT")

    def idle(self) -> float:
        """A checkpoint (the entries and documents these writes left are not the point)."""
        t0 = time.perf_counter()
        self.store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        return time.perf_counter() - t0


def _sqlean():
    try:
        import sqlean  # type: ignore[import-not-found]
    except ImportError:
        return None
    return sqlean


class _Sqlean(_Plain):
    driver = "sqlean.py"

    def _open(self, path: Path):
        sqlean = _sqlean()
        conn = sqlean.connect(str(path), isolation_level=None)
        _pragmas(conn)
        return conn


class BareSqlean(_Sqlean):
    """The bare table again, in sqlean.py's SQLite: the baseline of cr-sqlite's ratios."""
    name = "bare table (sqlean.py)"

    def __init__(self, path: Path, d: data.Directory):
        super().__init__(path, d)
        self.conn = self._open(path)
        self.conn.execute(_BARE_TABLE)


class CrSqlite(_Sqlean):
    """The same table made a conflict-free replicated relation by cr-sqlite."""
    name = "cr-sqlite"

    def __init__(self, path: Path, d: data.Directory):
        super().__init__(path, d)
        self.conn = self._open(path)
        self.conn.enable_load_extension(True)
        self.conn.load_extension(CRSQLITE_SO)
        self.conn.execute(_CRR_TABLE)
        self.conn.execute("SELECT crsql_as_crr('contact')")

    def close(self) -> None:
        self.conn.execute("SELECT crsql_finalize()")
        self.conn.close()


def crsqlite_available() -> str | None:
    """None when cr-sqlite can be measured, else why not."""
    if _sqlean() is None:
        return "sqlean.py is not installed (pip install sqlean.py)"
    if not Path(CRSQLITE_SO).exists():
        return (f"no cr-sqlite extension at {CRSQLITE_SO} (build it with "
                "../shared/anchors/build-crsqlite.sh DIR and set FIELDCOORD_CRSQLITE)")
    return None


# ------------------------------------------------------------------------------ the runs
def _singles(kinds: list[type[Variant]], trial: int, work: Path, d: data.Directory,
             seeds: list[data.Contact], singles: list[data.Contact],
             edits: list[tuple[int, str]], got: dict[tuple[str, str], list[float]]) -> None:
    """One trial of the single writes: every variant's fresh files open side by side, the
    writes made BLOCK at a time, variant after variant in a rotating order, so that a busy
    moment of the machine falls on all of them alike; then each variant's idle work."""
    variants = []
    try:
        for kind in _rotate(kinds, trial):
            v = kind(work / f"{kind.__name__}-{trial}.db", d)
            variants.append(v)
            v.seed(seeds)                   # type: ignore[attr-defined]
        for fig, items in (("insert", singles), ("edit", edits)):
            spent = dict.fromkeys(variants, 0.0)
            for block, start in enumerate(range(0, len(items), BLOCK)):
                part = items[start:start + BLOCK]
                for v in _rotate(variants, block):
                    write = v.insert if fig == "insert" else (lambda e, v=v: v.edit(*e))
                    t0 = time.perf_counter()
                    for item in part:
                        write(item)
                    spent[v] += time.perf_counter() - t0
            for v in variants:
                each = spent[v] / len(items) * 1e6
                got.setdefault((fig, v.name), []).append(each)
                got.setdefault((f"{fig}+idle", v.name), []).append(
                    each + v.idle() / len(items) * 1e6)
    finally:
        for v in variants:
            v.close()
            _remove(v.path)


def _rotate(xs: list, k: int) -> list:
    k %= len(xs)
    return xs[k:] + xs[:k]


def run(cfg: Config, res: Results) -> None:
    # a directory of a few agencies: the contacts written belong to them
    d = data.Directory(data.agencies(random.Random(cfg.seed), AGENCIES), [])
    work = cfg.out / "tmp" / "writes"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    skipped = crsqlite_available()
    kinds: list[type[Variant]] = [Bare, PlainFts, Fieldcoord]
    if skipped is None:
        kinds += [BareSqlean, CrSqlite]
    names = [k.name for k in kinds]
    # (the floor under fieldcoord's single writes makes no bulk insert)
    single_kinds: list[type[Variant]] = [*kinds, Statements]
    rng = random.Random(cfg.seed + 11)
    bulk_n = cfg.n("contacts")
    seeds = data.new_contacts(d, SEED_ROWS, cfg.seed + 12)
    singles = data.new_contacts(d, SINGLES, cfg.seed + 13)
    bulk = data.new_contacts(d, bulk_n, cfg.seed + 14)
    # per figure and variant: one value per trial
    got: dict[tuple[str, str], list[float]] = {}
    parts: dict[str, list[float]] = {}
    sent: list[tuple[float, float, int]] = []       # (read s, apply s, fields) of the last trials
    trials = 3 if cfg.quick else TRIALS
    for trial in range(trials):
        edits = [(rng.randrange(SEED_ROWS), rng.choice(data.TITLES)) for _ in range(SINGLES)]
        _singles(single_kinds, trial, work, d, seeds, singles, edits, got)
        for kind in _rotate(kinds, trial):
            path = work / f"{kind.__name__}-bulk-{trial}.db"
            v = kind(path, d)
            try:
                t0 = time.perf_counter()
                v.bulk(bulk)
                got.setdefault(("bulk", kind.name), []).append(time.perf_counter() - t0)
                got.setdefault(("size", kind.name), []).append(v.size() / bulk_n)
                if isinstance(v, Fieldcoord):
                    for g, b in v.parts().items():
                        parts.setdefault(g, []).append(b / bulk_n)
                    if trial >= trials - READ_APPLY_RUNS:
                        sent.append(_read_apply(v.store, work))
            finally:
                v.close()
            _remove(path)
        log(f"  writes: trial {trial + 1} of {trials} (load {load_average()})")
    shutil.rmtree(work, ignore_errors=True)
    _report(res, got, parts, names, bulk_n, skipped, trials)
    _report_read_apply(res, sent, bulk_n)


def _report_read_apply(res: Results, sent: list[tuple[float, float, int]], n: int) -> None:
    """The run whose read plus apply is the median of those made (a run's parts together)."""
    runs = sorted(sent, key=lambda r: r[0] + r[1])
    read_s, apply_s, fields = runs[len(runs) // 2]
    whole = read_s + apply_s
    goal = READ_APPLY_GOAL * n / 100_000          # (--quick: a tenth of the contacts)
    res.add(Row(f"read ({read_s:.2f} s) plus apply ({apply_s:.2f} s, {fields / apply_s:,.0f} "
                f"fields/s) of the bulk insert's {n:,} contacts ({fields:,} user fields, the "
                f"records alone), end to end; median of {len(runs)}, "
                f"{runs[0][0] + runs[0][1]:.2f}-{runs[-1][0] + runs[-1][1]:.2f} s", "s", whole,
                None, None, f"<= {goal:g} s", "yes" if whole <= goal else "NO"))


def _read_apply(store: Store, work: Path) -> tuple[float, float, int]:
    """(seconds reading, seconds applying, user fields) of the store's whole log sent to an
    empty replica: read as a sync reads it, a batch at a time, then applied batch by batch
    into a new replica as a pull that brings more than it holds (bench/sync_cases.py times the
    whole directory so)."""
    from fieldcoord.store.exchange import apply_batch, outgoing, sites_of, vector

    from .sync_cases import _fields, _fresh_target
    store.sign_heads()
    since = {k: 0 for k in vector(store.conn)}
    gc.collect()
    gc.freeze()
    t0 = time.perf_counter()
    for b in outgoing(store.conn, since):
        sites_of(store.conn, b)
    read_s = time.perf_counter() - t0
    gc.unfreeze()
    batches = [(b, sites_of(store.conn, b)) for b in outgoing(store.conn, since)]
    fields = sum(_fields(b) for b, _ in batches)
    for b, _ in batches:
        for e in b:
            e.text = None           # (as received: checking the signature writes it)
    target = _fresh_target(work / "read-apply.db", store, [])
    gc.collect()
    gc.freeze()
    try:
        t0 = time.perf_counter()
        target.defer_search(indexes=True)
        for b, sites in batches:
            apply_batch(target, b, sites)
        target.catch_up_search()
        apply_s = time.perf_counter() - t0
    finally:
        gc.unfreeze()
        target.close()
        _remove(work / "read-apply.db")
    return read_s, apply_s, fields


def _remove(path: Path) -> None:
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}.keys")):
        p.unlink(missing_ok=True)


def _ratios(got, fig: str, name: str, base: str) -> list[float]:
    return [a / b for a, b in zip(got[(fig, name)], got[(fig, base)])]


def _span(xs: list[float]) -> str:
    return f"{median(xs):.2f}x ({min(xs):.2f}-{max(xs):.2f})"


def _report(res: Results, got, parts, names, bulk_n: int, skipped: str | None,
            trials: int) -> None:
    figures = {"insert": f"single insert, 1 transaction each ({SINGLES} per trial)",
               "insert+idle": "the same inserts and their work at idle (index, checkpoint)",
               "edit": f"single-field edit, 1 transaction each ({SINGLES} per trial)",
               "edit+idle": "the same edits and their work at idle (index, checkpoint)",
               "bulk": f"bulk insert, {bulk_n:,} contacts in 1 transaction",
               "size": f"file size after the bulk insert ({bulk_n:,} contacts)"}
    units = {"insert": ("µs", 1.0), "edit": ("µs", 1.0), "insert+idle": ("µs", 1.0),
             "edit+idle": ("µs", 1.0), "bulk": ("s", 1.0),
             "size": ("B/contact", 1.0)}
    crs = "cr-sqlite" in names
    rows = []
    for fig, label in figures.items():
        unit, _ = units[fig]
        fc = _ratios(got, fig, "fieldcoord", "bare table")
        goal = GOALS[fig]
        met = median(fc) <= goal
        digits = 3 if unit == "s" else 1
        floor = (_span(_ratios(got, fig, Statements.name, "bare table"))
                 if fig in ("insert", "edit") else "—")
        row = [label, f"{median(got[(fig, 'bare table')]):,.{digits}f} {unit}",
               _span(_ratios(got, fig, "plain + FTS", "bare table")), _span(fc), floor]
        if crs:
            cr = _ratios(got, fig, "cr-sqlite", "bare table (sqlean.py)")
            row += [_span(cr), f"{median(fc) / median(cr):.2f}"]
        row += [f"<= {goal:g}x" + (f" (aim {AIM[fig]:g}x)" if fig in AIM else ""),
                "yes" if met else "NO"]
        rows.append(row)
        res.add(Row(f"write path: {label}, fieldcoord / bare table", "x", median(fc), None,
                    None, f"<= {goal:g}x", "yes" if met else "NO"))
    head = ["Figure", "bare table", "plain + FTS", "fieldcoord", "its statements alone"]
    if crs:
        head += ["cr-sqlite", "fieldcoord / cr-sqlite"]
    head += ["goal (fieldcoord)", "met"]
    res.tables.append((f"The write path against a bare table (median of {trials} interleaved "
                       "trials, min-max; fresh files each trial)", head, rows))
    records = median(parts.get("records", [0]))
    log_b = median(parts.get("change log", [0]))
    search = median(parts.get("search index", [0]))
    per_field = log_b / FIELDS_PER_CONTACT
    # cr-sqlite keeps no full-text index: the size of the rest, beside its (no goal of its own)
    bare_b = median(got[("size", "bare table")])
    rest = (median(got[("size", "fieldcoord")]) - search) / bare_b
    vs = (f"; cr-sqlite {median(_ratios(got, 'size', 'cr-sqlite', 'bare table (sqlean.py)')):.2f}x"
          if crs else "")
    res.add(Row(f"file size without fieldcoord's search index ({search:,.0f} B/contact), "
                f"fieldcoord / bare table{vs}", "x", rest, None, None, "", ""))
    res.add(Row("change recording alone (change log) per field written", "B/field", per_field,
                None, None, f"<= {GOALS['field_bytes']:g} B",
                "yes" if per_field <= GOALS["field_bytes"] else "NO"))
    res.tables.append(("Where fieldcoord's bytes go after the bulk insert (bytes per contact, "
                       "dbstat, each part with its indexes)", ["Part", "bytes per contact"],
                       [["records", f"{records:,.0f}"], ["change log", f"{log_b:,.0f}"],
                        ["search index", f"{search:,.0f}"],
                        ["change log per field written "
                         f"({FIELDS_PER_CONTACT} per contact)", f"{per_field:,.1f}"]]))
    if skipped:
        res.notes.append(f"cr-sqlite was not measured: {skipped}.")
    else:
        res.notes.append("cr-sqlite 0.16.3 ran through sqlean.py (its own SQLite "
                         f"{_sqlean().sqlite_version}); its ratios are against a bare table in "
                         f"that same driver, fieldcoord's against one in Python's sqlite3 "
                         f"({sqlite3.sqlite_version}).")
