# SPDX-License-Identifier: GPL-3.0-or-later
"""A PostgreSQL connection the store's code uses as it uses sqlite3's (store layer).

The store and its merge are written once, for SQLite; a regional hub runs them on PostgreSQL
through this: each statement is said for PostgreSQL by `dialect.to_postgres`, values come back
as sqlite3 gives them (integers, not Decimals or booleans; bytes, not memoryviews), rows read
by name where the code asks for sqlite3.Row, and SQLite's pragmas are answered or ignored.
psycopg (3) is needed only here: `pip install fieldcoord[postgres]`.
"""
from __future__ import annotations

import decimal
import hashlib
import itertools
import re
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from . import byref, dialect

if TYPE_CHECKING:
    from .store import Store

_PRAGMA = re.compile(r"^\s*PRAGMA\s+(\w+)\s*(?:=\s*(.+?)|\((\w+)\))?\s*;?\s*$", re.IGNORECASE)
_INSERT = re.compile(r'^\s*INSERT\s+(?:OR\s+\w+\s+)?INTO\s+"?(\w+)"?\s*\(([^)]*)\)',
                     re.IGNORECASE)
_version = itertools.count(1)
_TABLES = re.compile(r'\b(?:FROM|JOIN)\s+"?(\w+)"?', re.IGNORECASE)

# The rows that change seldom (keys, certificates, revocations, device tokens) carry a counter
# (row 1) that triggers move in every transaction that changes them, and the streams another
# (row 2), moved as the transaction that changes them commits: a hub process keeps what it read
# of them while the counters stand still. They live in a schema of its own, beside the store's
# tables, which copies and schema checks read from the current schema only.
GENERATION = "fieldcoord_hub.generation"
SLOW_TABLES = ("site", "agency_key", "revocation", "device_token")
_TRIGGERS = 2 * len(SLOW_TABLES) + 3


def _generation_ddl() -> list[str]:
    def moved(name: str, row: int) -> str:
        return (f"CREATE OR REPLACE FUNCTION fieldcoord_hub.{name}() RETURNS trigger LANGUAGE "
                f"plpgsql AS $$ BEGIN UPDATE {GENERATION} SET n = n + 1 WHERE id = {row}; "
                "RETURN NULL; END $$")
    return [
        "CREATE SCHEMA IF NOT EXISTS fieldcoord_hub",
        f"CREATE TABLE IF NOT EXISTS {GENERATION} (id integer PRIMARY KEY, n bigint NOT NULL)",
        f"INSERT INTO {GENERATION} (id, n) VALUES (1, 1), (2, 1) ON CONFLICT (id) DO NOTHING",
        moved("moved", 1), moved("streams_moved", 2),
        *(f'CREATE OR REPLACE TRIGGER fieldcoord_moved AFTER INSERT OR UPDATE OR DELETE ON '
          f'"{t}" FOR EACH ROW EXECUTE FUNCTION fieldcoord_hub.moved()' for t in SLOW_TABLES),
        *(f'CREATE OR REPLACE TRIGGER fieldcoord_truncated AFTER TRUNCATE ON "{t}" '
          "FOR EACH STATEMENT EXECUTE FUNCTION fieldcoord_hub.moved()" for t in SLOW_TABLES),
        # (at COMMIT: pushes side by side hold the row no longer than their commits; a
        # stream's chain hash is not in the vector)
        'DROP TRIGGER IF EXISTS fieldcoord_moved ON "stream"',
        "CREATE CONSTRAINT TRIGGER fieldcoord_moved AFTER UPDATE ON \"stream\" DEFERRABLE "
        "INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.seq IS DISTINCT FROM NEW.seq OR OLD.origin "
        "IS DISTINCT FROM NEW.origin OR OLD.audience IS DISTINCT FROM NEW.audience) EXECUTE "
        "FUNCTION fieldcoord_hub.streams_moved()",
        'DROP TRIGGER IF EXISTS fieldcoord_made ON "stream"',
        "CREATE CONSTRAINT TRIGGER fieldcoord_made AFTER INSERT OR DELETE ON \"stream\" "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "
        "fieldcoord_hub.streams_moved()",
        'CREATE OR REPLACE TRIGGER fieldcoord_truncated AFTER TRUNCATE ON "stream" FOR EACH '
        "STATEMENT EXECUTE FUNCTION fieldcoord_hub.streams_moved()"]


def ensure_generation(dsn: str) -> None:
    """Give the PostgreSQL hub at `dsn` its counters of slow-changing rows and streams and the
    triggers that move them (once; a hub moved in has them already)."""
    import psycopg
    with psycopg.connect(dsn, autocommit=False) as c:
        c.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
        held = c.execute("SELECT to_regclass(%s) IS NOT NULL AND (SELECT count(*) FROM "
                         "pg_trigger t JOIN pg_class r ON r.oid = t.tgrelid WHERE t.tgname IN "
                         "('fieldcoord_moved', 'fieldcoord_made', 'fieldcoord_truncated') "
                         "AND r.relnamespace = "
                         "current_schema()::regnamespace) = %s",
                         (GENERATION, _TRIGGERS)).fetchone()
        if held and held[0]:
            return
        for stmt in _generation_ddl():
            c.execute(stmt)


class ReadCache:
    """What a hub process read of the slow-changing tables (SLOW_TABLES) and the streams outside
    transactions, by statement and parameters, each answer kept with the counters (GENERATION)
    it is valid for. Shared by the process's connections (thread-safe); the oldest answers go
    first."""

    def __init__(self, size: int = 20_000):
        self.size = size
        self._rows: OrderedDict[tuple[str, tuple[Any, ...]],
                                tuple[Any, list[tuple[Any, ...]], tuple[str, ...] | None]] = \
            OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, tuple[Any, ...]], generation: Any
            ) -> tuple[list[tuple[Any, ...]], tuple[str, ...] | None] | None:
        with self._lock:
            got = self._rows.get(key)
            if got is None or got[0] != generation:
                return None
            self._rows.move_to_end(key)
            return list(got[1]), got[2]

    def put(self, key: tuple[str, tuple[Any, ...]], generation: Any,
            rows: list[tuple[Any, ...]], names: tuple[str, ...] | None) -> None:
        with self._lock:
            self._rows[key] = (generation, list(rows), names)
            self._rows.move_to_end(key)
            while len(self._rows) > self.size:
                self._rows.popitem(last=False)

    def __len__(self) -> int:
        return len(self._rows)


class Row(tuple):  # type: ignore[type-arg]
    """A row read by position or by column name, as sqlite3.Row."""
    _names: tuple[str, ...] = ()

    def __getitem__(self, key):  # type: ignore[no-untyped-def]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names.index(key))
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        return list(self._names)


def _value(v: Any) -> Any:
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, decimal.Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, memoryview):
        return bytes(v)
    return v


class Cursor:
    """What the store uses of sqlite3.Cursor."""

    def __init__(self, rows: list[tuple[Any, ...]], names: tuple[str, ...] | None,
                 rowcount: int, lastrowid: int | None):
        self._rows = rows
        self._names = names
        self.rowcount = rowcount
        self.lastrowid = lastrowid
        self.row_factory: Any = None
        self.description = tuple((n, None, None, None, None, None, None) for n in names) \
            if names is not None else None

    def _shape(self, row: tuple[Any, ...]) -> Any:
        values = tuple(_value(v) for v in row)
        if self.row_factory is sqlite3.Row and self._names is not None:
            r = Row(values)
            r._names = self._names
            return r
        return values

    def fetchone(self) -> Any:
        return self._shape(self._rows.pop(0)) if self._rows else None

    def fetchmany(self, size: int = 1) -> list[Any]:
        taken, self._rows = self._rows[:size], self._rows[size:]
        return [self._shape(r) for r in taken]

    def fetchall(self) -> list[Any]:
        taken, self._rows = self._rows, []
        return [self._shape(r) for r in taken]

    def __iter__(self) -> Iterator[Any]:
        while self._rows:
            yield self._shape(self._rows.pop(0))


class _CursorProxy:
    """conn.cursor(): a cursor that runs statements through its connection."""

    def __init__(self, conn: PgConnection):
        self._conn = conn
        self._cur: Cursor | None = None
        self.row_factory: Any = None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _CursorProxy:
        self._cur = self._conn.execute(sql, params)
        self._cur.row_factory = self.row_factory
        return self

    def fetchone(self) -> Any:
        return self._cur.fetchone() if self._cur else None

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall() if self._cur else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cur) if self._cur else iter(())


# BEGIN IMMEDIATE (SQLite: this connection is the one writer) takes this transaction-scoped
# advisory lock: writers of every hub process on the database take turns, as on SQLite, while
# readers never wait. A hub's push takes it shared instead, with a lock of its own for each
# stream, record and site its batch names (PgConnection.begin): pushes that name none in
# common commit side by side.
WRITE_LOCK = 0x6663_6864   # "fchd"
# a batch naming more streams, records and sites than this is applied alone
MAX_PUSH_LOCKS = 512


def lock_key(*parts: str) -> int:
    """The advisory lock (a signed 64-bit number) of a stream, record or site of a push."""
    digest = hashlib.blake2b("\0".join(parts).encode("utf-8", "surrogatepass"),
                             digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class WholeHub(Exception):
    """A push running beside others reached what only a writer alone may write (the hub's own
    streams, a statement of the log this module does not know): it is tried again alone."""


# Statements of the change log a push running beside others may run: the streams, heads and
# clock row it writes are those of the batch's streams (locked) or the clock row, which is
# only ever raised (PgConnection._commit). Every other statement on these tables, the hub's
# own streams among them, makes the push start again alone (WholeHub).
_LOG_TABLES = frozenset(("stream", "head", "clock"))
_BESIDE = frozenset((
    "DELETE FROM head WHERE stream = ? AND seq >= ? AND seq < ?",
    "INSERT OR REPLACE INTO head (stream, seq, hash, sig) VALUES (?, ?, ?, ?)",
    "UPDATE stream SET hash = ? WHERE id = ?",
    "UPDATE stream SET seq = ? WHERE id = ?",
    "SELECT id, seq FROM stream WHERE origin = ? AND audience = ?",
    "INSERT INTO stream (origin, audience) VALUES (?, ?)",
    "SELECT t.id, t.seq, t.hash FROM stream t JOIN site s ON s.ord = t.origin "
    "WHERE s.uuid = ? AND t.audience = ?",
))
_BESIDE_READS = re.compile(r"^SELECT max\(\(SELECT hlc FROM clock\)|^SELECT .* FROM change c "
                           r"JOIN stream t ON t\.id = c\.stream ", re.IGNORECASE)
_CLOCK = "UPDATE clock SET hlc = ? WHERE id = 1"
_WRITTEN = re.compile(r'\b(?:FROM|JOIN|INTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)
_NO_ROWS = re.compile(r'^\s*SELECT \* FROM "?(\w+)"? LIMIT 0\s*$', re.IGNORECASE)


def _identity_columns(raw: Any) -> dict[str, str]:
    """{table: its identity column} (SQLite's row ids) of a psycopg connection's schema."""
    return dict(raw.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_identity = 'YES'").fetchall())


def _catch_up(raw: Any, table: str, pk: str) -> None:
    """After rows were given their ids explicitly, the identity goes on after the largest
    (as SQLite's row ids do)."""
    raw.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{pk}'), "
                f'greatest((SELECT max("{pk}") FROM "{table}"), 1))')


class _Plan(NamedTuple):
    """How a statement of the store's runs here, worked out once per statement text."""
    what: str                   # pragma, begin, commit, rollback, clock, columns or sql
    text: str                   # the statement for PostgreSQL
    returning: str | None       # the identity column an INSERT returns for lastrowid
    catch_up: str | None        # the identity table an INSERT gives ids to
    cacheable: int              # a SELECT of slow-changing tables only: 1, and streams: 2
    beside: bool                # may run in a push beside others (_BESIDE)


class PgConnection:
    """The part of sqlite3.Connection the store uses, over one psycopg connection in
    autocommit mode (transactions are the store's own BEGIN and COMMIT, as with SQLite)."""

    # a regional hub keeps no search documents or indexes (Replica.searchless)
    searchless = True
    # every write brings the hub's own streams' rows up to date (Replica.lazy_streams): the
    # rows are the vector as they are, and a push beside others never reads them
    settled_streams = True

    def __init__(self, dsn: str):
        import psycopg
        self.raw = psycopg.connect(dsn, autocommit=True)
        self.keys = self._primary_keys()
        self.identity = _identity_columns(self.raw)
        self._data_version = next(_version)
        self._plans: dict[str, _Plan] = {}
        self._columns: dict[str, tuple[str, ...]] = {}
        # a hub process's answers of slow-changing rows and streams (ReadCache), used while
        # `generation` (the counters read by the request being served) is set and no
        # transaction is open
        self.cache: ReadCache | None = None
        self.generation: tuple[int, int] | None = None
        # set by a hub's push for its transaction: the locks of the streams, records and
        # sites its batch names (begin)
        self.push_locks: list[int] | None = None
        self._beside = False                # this transaction runs beside other pushes
        self._clock_to: int | None = None   # the clock row is raised to this at COMMIT

    def cursor(self) -> _CursorProxy:
        return _CursorProxy(self)

    # ------------------------------------------------------------ what the schema holds
    def _primary_keys(self) -> dict[str, tuple[str, ...]]:
        rows = self.raw.execute(
            "SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc "
            "JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = "
            "tc.constraint_name AND kcu.table_schema = tc.table_schema "
            "WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = current_schema() "
            "ORDER BY tc.table_name, kcu.ordinal_position").fetchall()
        out: dict[str, tuple[str, ...]] = {}
        for table, column in rows:
            out[table] = out.get(table, ()) + (column,)
        return out

    # ------------------------------------------------------------ sqlite3's API
    @property
    def in_transaction(self) -> bool:
        import psycopg
        return self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE

    def _plan(self, sql: str) -> _Plan:
        plan = self._plans.get(sql)
        if plan is not None:
            return plan
        word = sql.strip().rstrip(";").strip().upper()
        if _PRAGMA.match(sql):
            plan = _Plan("pragma", sql, None, None, 0, True)
        elif re.match(r"\s*BEGIN\s+IMMEDIATE\b", sql, re.IGNORECASE):
            plan = _Plan("begin", sql, None, None, 0, True)
        elif word in ("COMMIT", "ROLLBACK"):
            plan = _Plan(word.lower(), sql, None, None, 0, True)
        elif " ".join(sql.split()) == _CLOCK:
            plan = _Plan("clock", sql, None, None, 0, True)
        elif _NO_ROWS.match(sql):
            plan = _Plan("columns", dialect.to_postgres(sql, self.keys), None, None, 0, True)
        else:
            text = dialect.to_postgres(sql, self.keys)
            returning = catch_up = None
            insert = _INSERT.match(sql)
            if insert and " RETURNING " not in text.upper():
                pk = self.identity.get(insert.group(1))
                columns = [c.strip().strip('"') for c in insert.group(2).split(",")]
                if pk and pk not in columns:
                    returning = pk
                    text += f' RETURNING "{pk}"'
                elif pk:
                    catch_up = insert.group(1)
            tables = _TABLES.findall(sql)
            cacheable = 0
            if re.match(r"\s*SELECT\b", sql, re.IGNORECASE) and tables \
                    and " FOR " not in sql.upper():
                if all(t in SLOW_TABLES for t in tables):
                    cacheable = 1
                elif all(t in SLOW_TABLES or t == "stream" for t in tables):
                    cacheable = 2
            flat = " ".join(sql.split())
            beside = not (_LOG_TABLES & set(_WRITTEN.findall(sql))) or flat in _BESIDE \
                or bool(_BESIDE_READS.match(flat))
            plan = _Plan("sql", text, returning, catch_up, cacheable, beside)
        self._plans[sql] = plan
        return plan

    def execute(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Cursor:
        plan = self._plan(sql)
        what = plan.what
        if what != "sql":
            return self._special(plan, params)
        if self._beside and not plan.beside:
            raise WholeHub(f"a push beside others reached: {' '.join(sql.split())[:80]}")
        args = tuple(params) if not isinstance(params, dict) else params
        key = None
        tag: Any = None
        if plan.cacheable and self.generation is not None and self.cache is not None \
                and not isinstance(args, dict) and not self.in_transaction:
            key = (sql, args)
            try:
                hash(key)
            except TypeError:           # (a parameter that is not a plain value)
                key = None
            if key is not None:
                tag = self.generation[0] if plan.cacheable == 1 else self.generation
                got = self.cache.get(key, tag)
                if got is not None:
                    return Cursor(got[0], got[1], len(got[0]), None)
        cur = self.raw.execute(plan.text, args)
        names = tuple(d.name for d in cur.description) if cur.description else None
        rows = cur.fetchall() if cur.description else []
        if key is not None and self.cache is not None:
            self.cache.put(key, tag, rows, names)
        lastrowid = None
        if plan.returning is not None:
            lastrowid = rows[0][0] if rows else None
            rows, names = [], None
        if plan.catch_up is not None:
            self._catch_up(plan.catch_up)
        return Cursor(rows, names, cur.rowcount, lastrowid)

    def _special(self, plan: _Plan, params: Sequence[Any] | dict[str, Any]) -> Cursor:
        """The statements answered here or said otherwise than as they are written."""
        what = plan.what
        if what == "pragma":
            pragma = _PRAGMA.match(plan.text)
            assert pragma is not None
            return self._pragma(pragma.group(1).lower(), pragma.group(2) or pragma.group(3))
        if what == "begin":
            self.begin()
        elif what == "commit":
            self.commit()
        elif what == "rollback":
            self.rollback()
        elif what == "clock":
            # the clock only moves forward: raised at COMMIT, in the same round trip, so
            # pushes side by side hold its row for no longer than their commits
            (value,) = tuple(params.values()) if isinstance(params, dict) else tuple(params)
            self._clock_to = max(self._clock_to or 0, int(value))
            return Cursor([], None, 1, None)
        elif what == "columns":
            table = _NO_ROWS.match(plan.text)
            assert table is not None
            names = self._columns.get(table.group(1))
            if names is None:
                # (a table's columns change only when every hub process is stopped: migrate)
                cur = self.raw.execute(plan.text)
                names = self._columns[table.group(1)] = tuple(
                    d.name for d in cur.description or ())
            return Cursor([], names, 0, None)
        return Cursor([], None, -1, None)

    def begin(self) -> None:
        """SQLite's BEGIN IMMEDIATE, in one round trip. Alone: the advisory lock WRITE_LOCK,
        which writers of every process take in turn. A push's (push_locks set): WRITE_LOCK
        shared, then the lock of each stream, record and site its batch names, in one order
        for all: pushes naming none in common run side by side, and any other writer waits
        for them all. What the request read of slow-changing rows no longer comes from the
        ReadCache: the transaction may change them."""
        self.generation = None
        self._clock_to = None
        locks = self.push_locks
        if locks is None:
            self._beside = False
            self.raw.execute(f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})")
            return
        self._beside = True
        keys = ",".join(str(k) for k in sorted(set(locks)))
        self.raw.execute(f"BEGIN; SELECT pg_advisory_xact_lock_shared({WRITE_LOCK}); "
                         "SELECT count(pg_advisory_xact_lock(k)) FROM "
                         f"unnest('{{{keys}}}'::bigint[]) AS k")

    def executemany(self, sql: str, seq: Iterable[Sequence[Any]]) -> Cursor:
        pragma = _PRAGMA.match(sql)
        if pragma:
            return self._pragma(pragma.group(1).lower(), None)
        items = [tuple(p) for p in seq]
        if items and self._beside and not self._plan(sql).beside:
            raise WholeHub(f"a push beside others reached: {' '.join(sql.split())[:80]}")
        text = dialect.to_postgres(sql, self.keys)
        n = 0
        if items:
            with self.raw.cursor() as cur:
                cur.executemany(text, items)
                n = cur.rowcount
        insert = _INSERT.match(sql)
        if insert and insert.group(1) in self.identity:
            self._catch_up(insert.group(1))
        return Cursor([], None, n, None)

    def _catch_up(self, table: str) -> None:
        _catch_up(self.raw, table, self.identity[table])

    def _pragma(self, name: str, arg: str | None) -> Cursor:
        if name == "data_version":
            # other processes write too, and nothing tells: caches are read afresh
            # in every transaction
            self._data_version = next(_version)
            return Cursor([(self._data_version,)], ("data_version",), -1, None)
        if name == "table_info" and arg:
            rows = self.raw.execute(
                "SELECT ordinal_position - 1, column_name, data_type, "
                "(is_nullable = 'NO')::int, column_default, 0 FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = %s "
                "ORDER BY ordinal_position", (arg.strip("'\""),)).fetchall()
            pk = self.keys.get(arg.strip("'\""), ())
            rows = [r[:5] + ((pk.index(r[1]) + 1) if r[1] in pk else 0,) for r in rows]
            return Cursor(rows, ("cid", "name", "type", "notnull", "dflt_value", "pk"), -1, None)
        # journal mode, synchronous, busy timeout, cache size, foreign keys: PostgreSQL's own
        return Cursor([], None, -1, None)

    def commit(self) -> None:
        if self.in_transaction:
            if self._clock_to is not None:
                self.raw.execute(f"UPDATE clock SET hlc = greatest(hlc, {int(self._clock_to)}) "
                                 "WHERE id = 1; COMMIT")
            else:
                self.raw.execute("COMMIT")
        self._clock_to, self._beside = None, False

    def rollback(self) -> None:
        if self.in_transaction:
            self.raw.execute("ROLLBACK")
        self._clock_to, self._beside = None, False

    def close(self) -> None:
        self.raw.close()


def copy_to_sqlite(pg: PgConnection, target: sqlite3.Connection) -> dict[str, int]:
    """Copy every row of the PostgreSQL store into `target`, an empty SQLite store of the same
    schema (made by its migrations), reading one snapshot of PostgreSQL (repeatable read);
    returns rows per table."""
    counts: dict[str, int] = {}
    tables = [r[0] for r in pg.raw.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = "
        "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()]
    pg.raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        target.execute("BEGIN")
        for table in tables:
            target.execute(f'DELETE FROM "{table}"')
            with pg.raw.cursor(name=f"copy_{table}") as cur:
                cur.execute(f'SELECT * FROM "{table}"')
                names = [d.name for d in cur.description or []]
                marks = ", ".join("?" * len(names))
                cols = ", ".join(f'"{n}"' for n in names)
                n = 0
                while rows := cur.fetchmany(5000):
                    target.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})',
                                       [tuple(_value(v) for v in r) for r in rows])
                    n += len(rows)
            counts[table] = n
        target.execute("COMMIT")
    finally:
        pg.raw.execute("ROLLBACK")
    return counts


def create_schema(sqlite_conn: sqlite3.Connection, dsn: str) -> None:
    """Make the tables and indexes of the SQLite store behind `sqlite_conn` in the PostgreSQL
    database `dsn` (which must be empty)."""
    import psycopg
    with psycopg.connect(dsn, autocommit=False) as c:
        for stmt in dialect.schema(sqlite_conn):
            c.execute(stmt)


def copy_rows(sqlite_conn: sqlite3.Connection, dsn: str) -> dict[str, int]:
    """Copy every row of the SQLite store's tables (its search tables left out) into the
    PostgreSQL database `dsn` made by create_schema, in one transaction; returns rows per
    table."""
    import psycopg
    counts: dict[str, int] = {}
    with psycopg.connect(dsn, autocommit=False) as c:
        tables = [r[0] for r in c.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()]
        for table in tables:
            cur = sqlite_conn.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cur.description]
            cols = ", ".join(f'"{n}"' for n in names)
            n = 0
            with c.cursor() as pg, pg.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                for row in cur:
                    copy.write_row(row)
                    n += 1
            counts[table] = n
        for table, pk in _identity_columns(c).items():
            _catch_up(c, table, pk)
    return counts


def open_store(url: str, db: Path) -> Store:
    """The store of a regional hub whose records are in PostgreSQL at `url`; `db` names where
    its key file is (`<db>.keys`) and where snapshots are made."""
    from ..core.errors import NotInitialised
    from .store import Store
    try:
        conn = PgConnection(url)
    except Exception as e:          # psycopg's errors: the server, the URL, the credentials
        raise NotInitialised(f"cannot reach the hub's PostgreSQL database: {e}") from None
    if "meta" not in conn.keys:
        conn.close()
        raise NotInitialised("the PostgreSQL database holds no fieldcoord hub: move one in "
                             "with fieldcoord hub import-sqlite")
    try:
        behind = pending(url)
    except BaseException:
        conn.close()
        raise
    if behind:
        conn.close()
        raise NotInitialised(f"the hub's PostgreSQL database lacks schema {behind[-1]}: run "
                             "fieldcoord hub --database-url URL migrate (with every hub "
                             "process stopped)")
    try:
        return Store(conn, Path(db))  # type: ignore[arg-type]
    except BaseException:
        conn.close()
        raise


def import_sqlite(db: Path, url: str) -> dict[str, int]:
    """Move the SQLite hub `db` (migrated to the latest schema first) into the empty PostgreSQL
    database `url`: its tables, indexes and every row but search documents, in one
    transaction each; returns rows per table."""
    import psycopg

    from ..core.errors import ValidationError
    from .store import Store
    with Store.open(db) as store:       # checks it, and brings its schema up to date
        with store.transaction():
            # (its own records' creations written out in full: byref)
            byref.write_out(store.conn)
    lite = sqlite3.connect(str(db))
    try:
        with psycopg.connect(url, autocommit=True) as c:
            held = c.execute("SELECT count(*) FROM information_schema.tables WHERE "
                             "table_schema = current_schema()").fetchone()
            if held and held[0]:
                raise ValidationError("the PostgreSQL database is not empty: give an empty "
                                      "one (createdb) to move the hub into")
        create_schema(lite, url)
        counts = copy_rows(lite, url)
        ensure_generation(url)
        return counts
    finally:
        lite.close()


def _latest_sqlite() -> sqlite3.Connection:
    """An empty SQLite store in memory at the latest schema: what a PostgreSQL hub's tables
    must be."""
    from .migrations import migrate as migrate_sqlite
    lite = sqlite3.connect(":memory:", isolation_level=None)
    migrate_sqlite(lite)
    return lite


def pending(url: str) -> list[str]:
    """The schema versions this fieldcoord has and the PostgreSQL hub at `url` lacks."""
    import psycopg

    from .migrations import NAMES
    with psycopg.connect(url) as c:
        have = {r[0] for r in c.execute("SELECT name FROM _sqlite_migrations")}
    unknown = have - set(NAMES)
    if unknown:
        raise RuntimeError("this hub's database was written by a newer fieldcoord "
                           f"(schema {', '.join(sorted(unknown))}); update fieldcoord")
    return [n for n in NAMES if n not in have]


def migrate(url: str) -> list[str]:
    """Bring the PostgreSQL hub at `url` to this fieldcoord's schema, in one transaction: the
    tables, columns and indexes the latest SQLite schema has and it lacks (columns are only
    ever added, as on SQLite; search tables stay out), then the versions are noted as applied.
    Returns the versions applied."""
    import psycopg
    todo = pending(url)
    if not todo:
        return []
    lite = _latest_sqlite()
    try:
        statements = dialect.schema(lite)
        with psycopg.connect(url, autocommit=False) as c:
            tables = {r[0] for r in c.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                "current_schema()")}
            indexes = {r[0] for r in c.execute(
                "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")}
            for stmt in statements:
                table = re.match(r'CREATE TABLE "(\w+)"', stmt)
                index = re.match(r'CREATE (?:UNIQUE )?INDEX "?(\w+)"?', stmt)
                if table and table.group(1) not in tables:
                    c.execute(stmt)
                elif table:
                    _add_columns(c, lite, table.group(1))
                elif index and index.group(1) not in indexes:
                    c.execute(stmt)
            now = c.execute("SELECT to_char(now() at time zone 'utc', "
                            "'YYYY-MM-DD HH24:MI:SS.US')").fetchone()
            for name in todo:
                c.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                          "VALUES ('fieldcoord', %s, %s)", (name, now[0] if now else ""))
    finally:
        lite.close()
    return todo


def _add_columns(c: Any, lite: sqlite3.Connection, table: str) -> None:
    have = {r[0] for r in c.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = %s", (table,))}
    for _cid, name, kind, notnull, default, _pk in lite.execute(f'PRAGMA table_info("{table}")'):
        if name in have:
            continue
        if notnull and default is None:
            raise RuntimeError(f"cannot add required column {name} to {table} without a "
                               "default")
        column = dialect.column_for_postgres(f'"{name}" {kind or ""}'
                                             + (" NOT NULL" if notnull else "")
                                             + (f" DEFAULT {default}" if default is not None
                                                else ""))
        c.execute(f'ALTER TABLE "{table}" ADD COLUMN {column}')


def new_epoch(url: str) -> str:
    """Give the PostgreSQL hub at `url` a new epoch (after it was restored from a dump): its
    laptops and partners then re-send what it may lack. Returns the epoch."""
    import uuid

    import psycopg
    epoch = str(uuid.uuid4())
    with psycopg.connect(url) as c:
        c.execute("UPDATE meta SET value = %s WHERE key = 'epoch'", (epoch,))
    return epoch
