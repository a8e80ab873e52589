# SPDX-License-Identifier: GPL-3.0-or-later
"""What the hub's HTTP service asks of the database behind it (hub layer).

`Hub` (hub/app.py) speaks the protocol: it parses and checks messages, encodes answers and
decides nothing about records. Everything that reads or writes the hub's records goes through a
`HubStore`: its identity, device tokens, the vector an agency may see, the next batch to send,
applying a pushed batch (the same merge and permission checks as a laptop's), and a snapshot
for a new laptop. `SqliteHubStore` keeps them in one SQLite file, as a laptop does.
"""
from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Protocol

from ..core.validate import may_see
from ..store import Store
from ..store.exchange import (
    BATCH_BYTES,
    Batch,
    apply_batch,
    more_after,
    outgoing,
    sites_of,
    visible_vector,
)
from ..store.incoming import Entry, Report
from ..sync import keyexchange
from ..sync import snapshot as snapshots
from ..sync.synclog import log_event
from . import tokens

Vector = dict[tuple[str, str], int]
log = logging.getLogger("fieldcoord.hub")


@dataclass(frozen=True)
class Greeting:
    """What hello answers about the hub: its epoch, the vector the caller's agency may see,
    and the answer to the caller's keys (certificate, endorsements, enrolment)."""
    epoch: str
    vector: Vector
    keys: dict[str, Any]


class HubStore(Protocol):
    """The hub's database, seen from its HTTP service. Every method may be called from several
    threads at once."""
    site: str           # the hub's site UUID
    agency: str         # the agency whose hub it is

    def check_token(self, presented: str | None) -> tokens.Token | None:
        """The device token presented, when it is valid and not revoked."""
        ...

    def greet(self, caller: str, token: tokens.Token, message: dict[str, Any]) -> Greeting:
        ...

    def pull(self, agency: str, since: Vector, batch_bytes: int
             ) -> tuple[Batch, dict[str, Any], bool]:
        """The next batch of what `agency` may see and lacks after `since`, its sites, and
        whether more follows."""
        ...

    def push(self, token: tokens.Token, entries: list[Entry], sites: dict[str, Any]) -> Report:
        """Apply a batch (verified and judged as on every replica), noting what was refused."""
        ...

    def snapshot(self, agency: str) -> snapshots.Built:
        """A file of what a new replica of `agency` would receive (the caller deletes it)."""
        ...

    def close(self) -> None:
        ...


class _StoreBacked(ABC):
    """A HubStore over fieldcoord's Store, one per thread: the merge, the permission checks and
    the key exchange are the laptops' own. Subclasses say how a thread's store is opened."""
    db: Path

    def __init__(self) -> None:
        self._local = threading.local()
        self._write = threading.Lock()
        self._snapshot = threading.Lock()
        s = self.store()
        self.site, self.agency = s.site_uuid, s.home
        snapshots.remove_stale(self.db)

    @abstractmethod
    def _open(self) -> Store:
        """A new store (connection) for the calling thread."""

    def store(self) -> Store:
        s: Store | None = getattr(self._local, "store", None)
        if s is None:
            s = self._local.store = self._open()
        return s

    def check_token(self, presented: str | None) -> tokens.Token | None:
        return tokens.check(self.store().conn, presented)

    def greet(self, caller: str, token: tokens.Token, message: dict[str, Any]) -> Greeting:
        s = self.store()
        vector = visible_vector(s.conn, token.agency)
        with self._write:
            keys = keyexchange.answer(s, caller, token.agency, message, token)
        return Greeting(s.epoch, vector, keys)

    def pull(self, agency: str, since: Vector, batch_bytes: int = BATCH_BYTES
             ) -> tuple[Batch, dict[str, Any], bool]:
        s = self.store()
        allowed = {k: v for k, v in since.items() if may_see(agency, k[1])}
        if s.log.due():         # the hub's own newest entries, settled and signed once
            with self._write:
                s.sign_heads()
        with self._reading(s):
            batch = next(outgoing(s.conn, allowed, batch_bytes, agency=agency), [])
            return batch, sites_of(s.conn, batch), more_after(s.conn, allowed, batch)

    def _reading(self, s: Store) -> AbstractContextManager[object]:
        """Where a pull's reads happen (one SQLite connection's statements need nothing
        more)."""
        return nullcontext()

    def push(self, token: tokens.Token, entries: list[Entry], sites: dict[str, Any]) -> Report:
        s = self.store()
        with self._write:
            report = apply_batch(s, entries, sites)
            for e, reason in report.refused:
                log_event(s, token.device, "refused", reason, [e.tbl, e.rid])
            for origin, _aud, _seq, what in report.tampered:
                log_event(s, token.device, "tampered", what, origin)
        return report

    def snapshot(self, agency: str) -> snapshots.Built:
        if not self._snapshot.acquire(timeout=60):
            raise Busy("the hub is busy making another snapshot; sync again later")
        try:
            store = self.store()
            # the hub's own streams at their newest entries, signed, as a pull sends them
            store.sign_heads()
            return snapshots.build(store.conn, agency, self.db, self.site)
        finally:
            self._snapshot.release()

    def close(self) -> None:
        """Close this thread's connection (each worker thread's ends with its thread)."""
        s: Store | None = getattr(self._local, "store", None)
        if s is not None:
            s.close()
            self._local.store = None


class SqliteHubStore(_StoreBacked):
    """The hub's records in one SQLite file: a store (connection) per thread, one writer at a
    time, one snapshot at a time (each needs disk space of about the database's size)."""

    def __init__(self, db: Path):
        self.db = Path(db)
        super().__init__()

    def _open(self) -> Store:
        return Store.open(self.db)


@dataclass
class _Checked(tokens.Token):
    """A token as a PostgreSQL hub checked it, with the counters of slow-changing rows and of
    streams (postgres.GENERATION) read in the same statement: what the request then reads of
    keys, certificates, revocations, tokens and the vector may come from the process's
    ReadCache."""
    generation: tuple[int, int] | None = None


class PostgresHubStore(_StoreBacked):
    """The hub's records in PostgreSQL (a regional hub): a connection per thread, through the
    dialect layer, so the merge and its checks are those of every replica. Pushes of all the
    hub's processes that name no stream, record or site in common commit side by side; every
    other writer has the database to itself (postgres.PgConnection.begin); reads never wait.

    What the process reads of slow-changing rows (the hub's and its devices' keys and
    certificates, revocations, token bindings) and of the streams (the vector) outside
    transactions is kept in one ReadCache: every request reads the counters those tables'
    triggers move in the statement that checks its token, and takes from the cache only what
    was read at those counters. A token itself is always checked against the database, so one
    revoked is refused at once by every process.

    `db` is where the hub's SQLite file was: its key file (`<db>.keys`) and the temporary files
    of snapshots are kept there."""

    def __init__(self, url: str, db: Path):
        from ..store.postgres import ReadCache
        self.url, self.db = url, Path(db)
        self.cache = ReadCache()
        self.alone = 0          # pushes begun beside others and applied again alone
        super().__init__()
        from ..store.postgres import ensure_generation
        ensure_generation(url)

    def _open(self) -> Store:
        from ..store.postgres import open_store
        s = open_store(self.url, self.db)
        s.conn.cache = self.cache  # type: ignore[attr-defined]
        return s

    def check_token(self, presented: str | None) -> tokens.Token | None:
        from ..store.postgres import GENERATION
        digest = tokens.digest(presented)
        if digest is None:
            return None
        row = self.store().conn.raw.execute(  # type: ignore[attr-defined]
            f"SELECT g.n, v.n, t.id, t.agency, t.device, t.created_at, t.revoked_at, t.hash "
            f"FROM {GENERATION} g JOIN {GENERATION} v ON v.id = 2 LEFT JOIN device_token t ON "
            "t.hash = %s WHERE g.id = 1", (digest,)).fetchone()
        token = tokens.live(row[2:], digest) if row else None
        if token is None:
            return None
        return _Checked(*(getattr(token, f.name) for f in fields(tokens.Token)),
                        generation=(row[0], row[1]))

    @contextmanager
    def _cached(self, s: Store, token: tokens.Token) -> Iterator[None]:
        """Reads of slow-changing rows within may come from the cache (see the class)."""
        s.conn.generation = getattr(token, "generation", None)  # type: ignore[attr-defined]
        try:
            yield
        finally:
            s.conn.generation = None  # type: ignore[attr-defined]

    def push(self, token: tokens.Token, entries: list[Entry], sites: dict[str, Any]) -> Report:
        """Apply a batch beside the pushes of other threads and processes that name none of
        its streams, records and sites (postgres.PgConnection.begin); a batch naming too many,
        or one that turns out to write the hub's own streams or runs into another push, is
        applied again alone (the transaction it began is rolled back whole)."""
        from ..store import postgres
        s = self.store()
        conn: postgres.PgConnection = s.conn  # type: ignore[assignment]
        locks = push_locks(entries, sites)
        conn.push_locks = locks if len(locks) <= postgres.MAX_PUSH_LOCKS else None
        try:
            try:
                report = apply_batch(s, entries, sites)
            except Exception as e:
                if conn.push_locks is None or not _alone_again(e):
                    raise
                log.debug("a push is applied again alone: %s", e)
                self.alone += 1
                conn.push_locks = None
                report = apply_batch(s, entries, sites)
        finally:
            conn.push_locks = None
        for e, reason in report.refused:
            log_event(s, token.device, "refused", reason, [e.tbl, e.rid])
        for origin, _aud, _seq, what in report.tampered:
            log_event(s, token.device, "tampered", what, origin)
        return report

    def greet(self, caller: str, token: tokens.Token, message: dict[str, Any]) -> Greeting:
        s = self.store()
        with self._cached(s, token):
            vector = visible_vector(s.conn, token.agency)
            # (a write here takes the database's write lock, not the process's)
            keys = keyexchange.answer(s, caller, token.agency, message, token)
        return Greeting(s.epoch, vector, keys)

    @contextmanager
    def _reading(self, s: Store) -> Iterator[None]:
        """A pull's batch, its sites and whether more follows read in one consistent snapshot
        (repeatable read, read only) while other processes write."""
        raw = s.conn.raw  # type: ignore[attr-defined]
        raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try:
            yield
        finally:
            raw.execute("COMMIT")


def push_locks(entries: list[Entry], sites: dict[str, Any]) -> list[int]:
    """The advisory locks a push takes beside others (postgres.lock_key): one for each stream
    of the batch, each record its entries change, and each site they or `sites` name."""
    from ..store.exchange import _named_in
    from ..store.postgres import lock_key
    streams: set[tuple[str, str]] = set()
    records: set[tuple[str, str]] = set()
    named: set[str] = set(sites)
    for e in entries:
        streams.add((e.origin, e.audience))
        records.add((e.tbl, e.rid))
        named.update((e.origin, e.site))
        try:
            named.update(u for u in _named_in(e.cells) if isinstance(u, str))
        except (TypeError, ValueError, AttributeError, IndexError, KeyError):
            # a misshapen entry: judged (and refused) by the merge; a site it would make
            # anyway and another push too ends in a unique violation, and the push alone
            pass
    return sorted({lock_key("stream", o, a) for o, a in streams}
                  | {lock_key("record", t, r) for t, r in records}
                  | {lock_key("site", u) for u in named})


def _alone_again(e: Exception) -> bool:
    """Whether a push begun beside others failed in a way applying it alone does not: it
    reached the hub's own streams, or ran into another push (a row both inserted, a
    deadlock)."""
    from ..store.postgres import WholeHub
    if isinstance(e, WholeHub):
        return True
    return getattr(e, "sqlstate", None) in ("23505", "40P01", "40001")


def open_hub_store(db: Path, database_url: str | None) -> HubStore:
    """The hub's store: PostgreSQL at `database_url`, else the SQLite file `db`."""
    if database_url:
        return PostgresHubStore(database_url, db)
    return SqliteHubStore(db)


class Busy(Exception):
    """The hub cannot take this request now; the caller tries again later (503)."""
