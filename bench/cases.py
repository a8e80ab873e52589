# SPDX-License-Identifier: GPL-3.0-or-later
"""The benchmarks: bulk load (and the cached directory), search, single writes and size."""
from __future__ import annotations

import hashlib
import json
import random
import shutil
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from fieldcoord.store import Store
from fieldcoord.store.db import connect

from . import DATA_VERSION, SEED, data, plain
from .report import Results, Row, median, p95

ROOT = Path(__file__).resolve().parents[1]
FULL = {"contacts": 100_000, "agencies": 5_000, "ops": 10_000, "queries": 200, "batch": 10_000}
SEARCH_PASSES = 3          # timed passes over the queries, after one warm-up pass
LIMIT = 20
# search: the write path's goals (issue 18) - p95 at most 10 ms and at most 2x the raw FTS5
# query, overall and for each kind of query
TARGETS = {"search_p95_ms": 10.0, "search_ratio": 2.0, "write_ratio": 2.0, "load_s": 15.0}
GOAL_KINDS = ("name prefix", "accent-less", "phone", "email")
CRSQLITE = {"write_ratio": 3.0, "load_ratio": 16.0}
# Files whose change makes a cached database stale (besides DATA_VERSION).
# What decides the contents of the cached databases (applying received changes does not).
_CACHE_INPUTS = ("fieldcoord/store/store.py", "fieldcoord/store/checks.py",
                 "fieldcoord/store/search.py", "fieldcoord/store/records.py",
                 "fieldcoord/store/migrations.py", "fieldcoord/store/db.py",
                 "fieldcoord/store/__init__.py", "fieldcoord/store/schema/*.sql",
                 "fieldcoord/core/*.py", "bench/__init__.py", "bench/data.py", "bench/plain.py")
DBS = ("store", "plain", "plain_fts")


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


@dataclass
class Config:
    quick: bool
    out: Path
    seed: int = SEED

    @property
    def scale(self) -> float:
        return 0.1 if self.quick else 1.0

    def n(self, what: str) -> int:
        if what == "queries":                 # a sample size, not a size: kept in --quick
            return FULL[what]
        return max(1, int(FULL[what] * self.scale))

    def __post_init__(self):
        # Computed once: the store's sources may change while a run is under way.
        self.key = self._key()

    def _key(self) -> str:
        h = hashlib.sha256()
        for pattern in _CACHE_INPUTS:
            for p in sorted(ROOT.glob(pattern)):
                h.update(p.relative_to(ROOT).as_posix().encode())
                h.update(p.read_bytes())
        return (f"{DATA_VERSION}-s{self.seed}-{self.n('contacts')}c{self.n('agencies')}a-"
                f"{h.hexdigest()[:10]}")

    @property
    def cache(self) -> Path:
        return self.out / "cache" / self.key

    def db(self, name: str) -> Path:
        return self.cache / f"{name}.db"


# ------------------------------------------------------------------------ the directory
_DIRECTORY: dict = {}


def directory(cfg: Config) -> data.Directory:
    key = (cfg.n("contacts"), cfg.n("agencies"), cfg.seed)
    if key not in _DIRECTORY:
        _DIRECTORY[key] = data.directory(*key)
    return _DIRECTORY[key]


def _remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def db_bytes(path: Path) -> int:
    return sum(Path(f"{path}{s}").stat().st_size for s in ("", "-wal")
               if Path(f"{path}{s}").exists())


def _checkpoint_close(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def agency_values(a: data.Agency) -> dict:
    return {"name": a.name, "code": a.code, "level": a.level, "discipline": a.discipline,
            "jurisdiction": a.jurisdiction, "phone": a.phone}


def load_store(cfg: Config, d: data.Directory, path: Path) -> float:
    """The directory through Store.add in a few transactions; returns the seconds taken."""
    _remove_db(path)
    store = Store.create(path, "Bench County Fire", "BCF")
    batch = cfg.n("batch")
    t0 = time.perf_counter()
    with store.transaction():
        for a in d.agencies:
            store.add("agency", agency_values(a))
    for i in range(0, len(d.contacts), batch):
        with store.transaction():
            for c in d.contacts[i:i + batch]:
                store.add("contact", c.store_values())
        log(f"  store: {i + len(d.contacts[i:i + batch]):,} contacts "
            f"({time.perf_counter() - t0:.1f} s)")
    elapsed = time.perf_counter() - t0
    _checkpoint_close(store.conn)
    return elapsed


def load_plain(d: data.Directory, path: Path, with_fts: bool, methods_too: bool = True) -> float:
    conn = plain.create(path, with_fts)
    ags, contacts, methods = plain.rows(d, plain.now())
    t0 = time.perf_counter()
    plain.bulk_load(conn, ags, contacts, methods if methods_too else [])
    elapsed = time.perf_counter() - t0
    _checkpoint_close(conn)
    return elapsed


def load_store_records(d: data.Directory, path: Path) -> float:
    """The contact records alone (no contact methods) through Store.add, one transaction."""
    _remove_db(path)
    store = Store.create(path, "Bench County Fire", "BCF")
    with store.transaction():
        for a in d.agencies:
            store.add("agency", agency_values(a))
    t0 = time.perf_counter()
    with store.transaction():
        for c in d.contacts:
            store.add("contact", {"name": c.name, "agency": c.agency.code, "title": c.title})
    elapsed = time.perf_counter() - t0
    _checkpoint_close(store.conn)
    return elapsed


def bench_load_records(cfg: Config, res: Results) -> None:
    """Bulk load of the contact records alone, against plain executemany of the same rows."""
    d = directory(cfg)
    tmp = cfg.out / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    t = {"plain": load_plain(d, tmp / "records-plain.db", False, methods_too=False),
         "plain_fts": load_plain(d, tmp / "records-plain-fts.db", True, methods_too=False),
         "store": load_store_records(d, tmp / "records-store.db")}
    for name in ("records-plain.db", "records-plain-fts.db", "records-store.db"):
        _remove_db(tmp / name)
    target = TARGETS["load_s"] * cfg.scale
    res.add(Row(f"bulk load {len(d.contacts):,} contact records (no methods)", "s", t["store"],
                t["plain"], t["plain_fts"],
                f"<= {target:g} s (cr-sqlite: {CRSQLITE['load_ratio']:g}x plain)",
                _yes(t["store"] <= target)))


def build_cache(cfg: Config) -> dict:
    """Load the directory into the three databases (timed) and keep them as the cache."""
    d = directory(cfg)
    tmp = cfg.out / "cache" / f"{cfg.key}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    log(f"loading {len(d.contacts):,} contacts, {len(d.agencies):,} agencies, "
        f"{d.methods:,} methods")
    times = {"plain": load_plain(d, tmp / "plain.db", False)}
    log(f"  plain: {times['plain']:.2f} s")
    times["plain_fts"] = load_plain(d, tmp / "plain_fts.db", True)
    log(f"  plain+FTS: {times['plain_fts']:.2f} s")
    times["store"] = load_store(cfg, d, tmp / "store.db")
    meta = {"key": cfg.key, "contacts": len(d.contacts), "agencies": len(d.agencies),
            "methods": d.methods, "load_seconds": times}
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    # Replace this key's cache, and drop caches of other keys of the same size (stale).
    size_tag = cfg.key.split("-")[2]
    for old in (cfg.out / "cache").iterdir():
        if old != tmp and old.is_dir() and (old == cfg.cache or size_tag in old.name):
            shutil.rmtree(old, ignore_errors=True)
    tmp.rename(cfg.cache)
    return meta


def ensure_cache(cfg: Config) -> dict:
    meta_file = cfg.cache / "meta.json"
    if meta_file.exists() and all(cfg.db(n).exists() for n in DBS):
        return json.loads(meta_file.read_text(encoding="utf-8"))
    log(f"no cached directory {cfg.key}: building it (about 2-3 minutes at full size)")
    return build_cache(cfg)


# ------------------------------------------------------------------------ benchmarks
def bench_load(cfg: Config, res: Results) -> None:
    meta = build_cache(cfg)
    t = meta["load_seconds"]
    target = TARGETS["load_s"] * cfg.scale
    res.add(Row(f"bulk load {meta['contacts']:,} contacts + {meta['methods']:,} methods",
                "s", t["store"], t["plain"], t["plain_fts"],
                f"(whole directory; {target:g} s applies to the records alone)",
                "" if t["store"] <= target else "over"))
    bench_load_records(cfg, res)
    res.add(Row("bulk load rate", "contacts/s", meta["contacts"] / t["store"],
                meta["contacts"] / t["plain"], meta["contacts"] / t["plain_fts"]))


def _yes(ok: bool) -> str:
    return "yes" if ok else "NO"


def bench_search(cfg: Config, res: Results) -> None:
    ensure_cache(cfg)
    d = directory(cfg)
    queries = data.queries(d, cfg.n("queries"), cfg.seed + 1)
    store = Store.open(cfg.db("store"))
    conn = connect(cfg.db("plain_fts"))
    try:
        for _, q in queries:                                      # warm-up pass
            store.search(q, limit=LIMIT)
            plain.search(conn, q, LIMIT)
        st = [[] for _ in queries]
        pt = [[] for _ in queries]
        s_hits, p_hits = [0] * len(queries), [0] * len(queries)
        for _ in range(SEARCH_PASSES):
            for i, (_, q) in enumerate(queries):
                t0 = time.perf_counter()
                s_hits[i] = len(store.search(q, limit=LIMIT))
                t1 = time.perf_counter()
                p_hits[i] = len(plain.search(conn, q, LIMIT))
                t2 = time.perf_counter()
                st[i].append((t1 - t0) * 1e3)
                pt[i].append((t2 - t1) * 1e3)
    finally:
        store.close()
        conn.close()
    s_ms = [median(x) for x in st]
    p_ms = [median(x) for x in pt]
    sm, sp, pm, pp = median(s_ms), p95(s_ms), median(p_ms), p95(p_ms)
    n = len(queries)
    res.add(Row(f"search median, {n} queries", "ms", sm, None, pm, f"ratio <= "
                f"{TARGETS['search_ratio']:g}x", _yes(sm / pm <= TARGETS["search_ratio"])))
    problems = [what for what, bad in (("p95", sp > TARGETS["search_p95_ms"]),
                                       ("ratio", sp / pp > TARGETS["search_ratio"])) if bad]
    res.add(Row(f"search p95, {n} queries", "ms", sp, None, pp,
                f"<= {TARGETS['search_p95_ms']:g} ms, ratio <= {TARGETS['search_ratio']:g}x",
                f"NO ({', '.join(problems)})" if problems else "yes"))
    res.add(Row("search max", "ms", max(s_ms), None, max(p_ms)))
    res.add(Row("queries with >= 1 hit", "queries", sum(1 for h in s_hits if h), None,
                sum(1 for h in p_hits if h)))
    cats = list(dict.fromkeys(c for c, _ in queries))
    lines = []
    for cat in cats:
        idx = [i for i, (c, _) in enumerate(queries) if c == cat]
        s = [s_ms[i] for i in idx]
        p = [p_ms[i] for i in idx]
        med_r, p95_r = median(s) / median(p), p95(s) / p95(p)
        goal = cat in GOAL_KINDS
        met = med_r <= TARGETS["search_ratio"] and p95_r <= TARGETS["search_ratio"] \
            and p95(s) <= TARGETS["search_p95_ms"]
        lines.append([cat, str(len(idx)), f"{median(s):.2f}", f"{p95(s):.2f}",
                      f"{median(p):.2f}", f"{p95(p):.2f}", f"{med_r:.1f}x", f"{p95_r:.1f}x",
                      f"{sum(1 for i in idx if s_hits[i])}", f"{sum(1 for i in idx if p_hits[i])}",
                      ("yes" if met else "NO") if goal else "-"])
    res.tables.append((
        "Search by kind of query (ms; hits = queries that found something; goal for the kinds "
        f"it names: p95 <= {TARGETS['search_p95_ms']:g} ms and median and p95 <= "
        f"{TARGETS['search_ratio']:g}x the raw FTS5 query)",
        ["Query kind", "n", "Store med", "Store p95", "FTS med", "FTS p95", "Med ratio",
         "p95 ratio", "Store hits", "FTS hits", "goal met"], lines))
    slow = sorted(range(n), key=lambda i: -s_ms[i])[:8]
    res.tables.append((
        "Slowest queries through Store.search",
        ["Query", "Kind", "Store ms", "FTS ms", "Store hits"],
        [[repr(queries[i][1]), queries[i][0], f"{s_ms[i]:.1f}", f"{p_ms[i]:.2f}",
          str(s_hits[i])] for i in slow]))


def _timed(fn, items) -> list[float]:
    out = []
    for item in items:
        t0 = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - t0) * 1e3)
    return out


def _plain_tx(conn: sqlite3.Connection, statements) -> None:
    conn.execute("BEGIN")
    for sql, args in statements:
        conn.execute(sql, args)
    conn.execute("COMMIT")


def bench_writes(cfg: Config, res: Results) -> None:
    ensure_cache(cfg)
    d = directory(cfg)
    n = cfg.n("ops")
    work = cfg.out / "tmp"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    paths = {}
    for name in DBS:
        paths[name] = work / f"{name}.db"
        shutil.copyfile(cfg.db(name), paths[name])
    rng = random.Random(cfg.seed + 3)
    singles = data.new_contacts(d, n, cfg.seed + 2)
    fulls = data.new_contacts(d, n, cfg.seed + 4)
    targets = rng.sample(range(len(d.contacts)), min(n, len(d.contacts)))
    edits = [(k, rng.choice([t for t in data.TITLES if t != d.contacts[k].title]))
             for k in targets]
    store = Store.open(paths["store"])
    conns = {name: connect(paths[name]) for name in ("plain", "plain_fts")}
    ids = {name: [r[0] for r in c.execute("SELECT id FROM contact ORDER BY rowid")]
           for name, c in (("store", store.conn), *conns.items())}
    # Contacts were inserted in generation order in all three, so the k-th by rowid is the
    # k-th generated contact everywhere.
    ops = {}
    try:
        def store_insert(c):
            store.add("contact", {"name": c.name, "agency": c.agency.code, "title": c.title})

        def store_edit(e):
            store.edit(ids["store"][e[0]], {"title": e[1]})

        def store_full(c):
            store.add("contact", c.store_values())

        def plain_ops(name):
            conn = conns[name]

            def insert(c):
                _plain_tx(conn, [(plain.INSERT_CONTACT, plain.contact_row(c, plain.now()))])

            def edit(e):
                _plain_tx(conn, [(plain.UPDATE_TITLE, (e[1], plain.now(), ids[name][e[0]]))])

            def full(c):
                ts = plain.now()
                _plain_tx(conn, [(plain.INSERT_CONTACT, plain.contact_row(c, ts))]
                          + [(plain.INSERT_METHOD, r) for r in plain.method_rows(c, ts)])
            return insert, edit, full

        runs = {"store": (store_insert, store_edit, store_full),
                "plain": plain_ops("plain"), "plain_fts": plain_ops("plain_fts")}
        for j, (op, items) in enumerate((("insert", singles), ("edit", edits),
                                         ("insert_full", fulls))):
            for name in ("plain", "plain_fts", "store"):
                ops[(op, name)] = _timed(runs[name][j], items)
            log(f"  writes: {op} done (store {sum(ops[(op, 'store')]) / 1e3:.1f} s)")
    finally:
        store.close()
        for c in conns.values():
            c.close()
    shutil.rmtree(work, ignore_errors=True)
    labels = {"insert": f"insert contact, {n:,} tx of 1 record",
              "edit": f"edit title, {n:,} tx of 1 field",
              "insert_full": f"insert contact + 2-3 methods, {n:,} tx"}
    for op, label in labels.items():
        mean = {name: sum(ops[(op, name)]) / len(ops[(op, name)]) for name in DBS}
        r = Row(label + " (mean)", "ms/op", mean["store"], mean["plain"], mean["plain_fts"])
        if op != "insert_full":
            r.target = f"<= {TARGETS['write_ratio']:g}x (cr-sqlite: {CRSQLITE['write_ratio']:g}x)"
            r.met = (f"{_yes(r.ratio(r.plain) <= TARGETS['write_ratio'])} (plain), "
                     f"{_yes(r.ratio(r.plain_fts) <= TARGETS['write_ratio'])} (+FTS)")
        res.add(r)
        res.add(Row(label + " (p95)", "ms/op", p95(ops[(op, "store")]), p95(ops[(op, "plain")]),
                    p95(ops[(op, "plain_fts")])))


_RECORDS = ("agency", "contact", "contact_method")
_CHANGE_LOG = ("change", "stream")
_SEARCH = ("search_doc",)
_FTS_PREFIXES = ("search_fts", "contact_fts")
GROUPS = ("records", "change log", "search index", "other", "free pages")


def _group(tbl: str) -> str:
    """The part of the database a table or index (named by its table) belongs to."""
    if tbl in _RECORDS:
        return "records"
    if tbl in _CHANGE_LOG:
        return "change log"
    if tbl in _SEARCH or tbl.startswith(_FTS_PREFIXES):
        return "search index"
    return "other"


def breakdown(path: Path) -> dict:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tbl_of = {name: tbl for name, tbl in conn.execute(
            "SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')")}
        out: dict = {}
        for name, size in conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            g = _group(tbl_of.get(name, name))
            out[g] = out.get(g, 0) + size
        free = conn.execute("PRAGMA freelist_count").fetchone()[0] * \
            conn.execute("PRAGMA page_size").fetchone()[0]
        out["free pages"] = free
        return out
    finally:
        conn.close()


def bench_size(cfg: Config, res: Results) -> None:
    meta = ensure_cache(cfg)
    n = meta["contacts"]
    size = {name: db_bytes(cfg.db(name)) / n for name in DBS}
    res.add(Row(f"database bytes per contact ({n:,} contacts)", "B/contact", size["store"],
                size["plain"], size["plain_fts"]))
    parts = {name: breakdown(cfg.db(name)) for name in DBS}
    res.tables.append((
        "Where the bytes go (bytes per contact, from dbstat; each part with its indexes)",
        ["Part", "Store", "Plain", "Plain+FTS"],
        [[g, *(f"{parts[name].get(g, 0) / n:,.0f}" for name in DBS)] for g in GROUPS]
        + [["total file", *(f"{size[name]:,.0f}" for name in DBS)]]))
