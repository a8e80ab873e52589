# SPDX-License-Identifier: GPL-3.0-or-later
"""The store's SQL on PostgreSQL: every statement a hub runs while laptops and a partner sync
through it (identities, key exchange, pulls, pushes with conflicts, deletions and a resource
request's steps) is run again, in order, on a copy of the hub's SQLite database and on
PostgreSQL through the dialect layer; each answer and, at the end, every table must be the same
on both."""
import shutil
import sqlite3

from region import Region

from fieldcoord.store import Store, byref, dialect
from fieldcoord.store import db as store_db
from fieldcoord.store.postgres import PgConnection, copy_rows, create_schema
from fieldcoord.sync.engine import StorePeer, sync


class Recorder:
    """Statements run on the connections it made: [(sql, params, many)]."""

    def __init__(self):
        self.statements = []
        recorder = self

        class Cursor(sqlite3.Cursor):
            def execute(self, sql, params=()):
                recorder.statements.append((sql, tuple(params), False))
                return super().execute(sql, params)

            def executemany(self, sql, seq):
                seq = [tuple(p) for p in seq]
                recorder.statements.append((sql, seq, True))
                return super().executemany(sql, seq)

        class Connection(sqlite3.Connection):
            def cursor(self, factory=Cursor):
                return super().cursor(factory)

            def execute(self, sql, params=()):
                return self.cursor().execute(sql, params)

            def executemany(self, sql, seq):
                return self.cursor().executemany(sql, seq)

        self.factory = Connection


def _searching(sql: str) -> bool:
    # (search also reads records by their rows, as search_row: a hub there keeps no search)
    return any(t in sql for t in (*dialect.SEARCH_TABLES, "search_row")) \
        or "sqlite_master" in sql


def _rows(cur):
    return sorted((tuple(r) for r in cur.fetchall()), key=repr) if cur.description else None


def _norm(rows):
    if rows is None:
        return None
    return sorted((tuple(int(v) if isinstance(v, bool) else v for v in r) for r in rows),
                  key=repr)


def test_a_hubs_statements_give_the_same_answers_on_postgresql(tmp_path, postgres,
                                                                monkeypatch):
    region = Region()
    hub = region.make(tmp_path / "hub.db", "CCF", device="ccf-hub")
    a = region.make(tmp_path / "a.db", "CCF", device="laptop-a")
    b = region.make(tmp_path / "b.db", "CCF", device="laptop-b")
    mpd = region.make(tmp_path / "mpd.db", "MPD", device="mpd-hub")
    hub.add("agency", {"name": "Metro Police Department", "code": "MPD"})
    mpd.add("agency", {"name": "Clark County Fire", "code": "CCF"})
    for s in (a, b, mpd):
        sync(s, StorePeer(hub))
    hub.close()
    before = tmp_path / "hub-before.db"
    shutil.copy(tmp_path / "hub.db", before)
    for suffix in ("-wal", "-shm"):
        if (tmp_path / f"hub.db{suffix}").exists():
            shutil.copy(tmp_path / f"hub.db{suffix}", tmp_path / f"hub-before.db{suffix}")

    # the hub at work, every statement on its connection recorded
    recorder = Recorder()
    real_connect = sqlite3.connect

    def connect(path, *args, **kw):
        if str(path).endswith("hub.db"):
            kw["factory"] = recorder.factory
        return real_connect(path, *args, **kw)
    monkeypatch.setattr(store_db.sqlite3, "connect", connect)
    hub = Store.open(tmp_path / "hub.db")
    peer = StorePeer(hub)
    dana = a.add("contact", {"name": "Dana Whitfield", "agency": "CCF", "title": "Captain",
                             "phone": "360 555 0100", "scope": "all"})
    a.add("contact", {"name": "Private Person", "agency": "CCF", "scope": "private"})
    m = mpd.add("contact", {"name": "José Núñez", "agency": "MPD", "scope": "CCF,MPD"})
    req = a.add("request", {"requesting_agency": "CCF", "description": "Type 1 engines",
                            "kind": "Engine", "quantity": 2,
                            "needed_by": "2026-12-05", "status": "requested", "scope": "all"})
    for s in (a, mpd, b):
        sync(s, peer)
    a.edit(dana, {"title": "Battalion Chief"})
    b.edit(dana, {"title": "Division Chief"})          # concurrent: a conflict
    mpd.edit(m, {"title": "Watch Commander"})
    a.edit(req, {"status": "acknowledged"})
    for s in (a, b, mpd, a, b):
        sync(s, peer)
    b.delete(dana)
    sync(b, peer)
    sync(a, peer)
    hub.close()
    monkeypatch.setattr(store_db.sqlite3, "connect", real_connect)
    assert len(recorder.statements) > 300

    # the same statements again, on a copy of the SQLite database and on PostgreSQL
    dsn = postgres.create_database("dialect")
    lite = sqlite3.connect(before, isolation_level=None)
    byref.register(lite)
    byref.write_out(lite)               # as import_sqlite does: a hub on PostgreSQL has none
    create_schema(lite, dsn)
    copied = copy_rows(lite, dsn)
    pg = PgConnection(dsn)
    differ = []
    run = 0
    for sql, params, many in recorder.statements:
        if _searching(sql):
            continue
        run += 1
        if many:
            lite.executemany(sql, params)
            pg.executemany(sql, params)
            continue
        cur = lite.execute(sql, params)
        got_lite, count = _rows(cur), cur.rowcount
        if sql.lstrip().upper().startswith("PRAGMA"):
            pg.execute(sql, params)
            continue
        pg_cur = pg.execute(sql, params)
        if got_lite is None:
            if count != pg_cur.rowcount and count >= 0:
                differ.append((sql, params, f"{count} rows", f"{pg_cur.rowcount} rows"))
        elif _norm(got_lite) != _norm(pg_cur.fetchall()):
            differ.append((sql, params, got_lite[:3], "differs"))
    assert differ == [], f"{len(differ)} of {run} statements answered differently: {differ[:3]}"
    # every table holds the same rows (the hub took in what the laptops wrote)
    assert pg.execute("SELECT count(*) FROM change").fetchone()[0] > copied["change"] + 10
    assert pg.execute("SELECT count(*) FROM conflict").fetchone()[0] >= 1
    for (table,) in pg.raw.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE'").fetchall():
        # (when the hub noted a sync event is each database's own clock reading)
        columns = "id, peer, kind, message, detail" if table == "sync_event" else "*"
        want = _norm(lite.execute(f'SELECT {columns} FROM "{table}"').fetchall())
        got = _norm(pg.execute(f'SELECT {columns} FROM "{table}"').fetchall())
        assert want == got, table
    pg.close()
    lite.close()
