# SPDX-License-Identifier: GPL-3.0-or-later
"""A replica's database as the store holds it open: its identity and keys, transactions, what a
transaction changed, and the search documents and indexes kept current (store layer; the first
layer of Store, see store.py)."""
from __future__ import annotations

import enum
import logging
import sqlite3
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Final, Generic, Self, TypeVar

from ..core import gcpause
from ..core import kinds as K
from ..core.errors import FieldcoordError, NotInitialised
from ..core.failures import DiskFull, is_disk_full
from . import ddl, keys
from . import search as fts
from .changelog import OWN_POSITION, ChangeLog
from .checks import RowChecker
from .db import BUSY_MS, CHECKPOINT_PAGES
from .migrations import index_definitions
from .records import Changes, RowDict

log = logging.getLogger(__name__)

# Pages of write-ahead log after which a commit copies it into the database: as connections are
# opened (db.CHECKPOINT_PAGES), and during a large sync (about 40 MB).
BULK_CHECKPOINT_PAGES = 10000
# Indexes nothing in applying a sync reads (see ddl.deferrable_indexes); each batch of a large
# pull lands in pages all over them, so a pull that brings at least as much as the replica
# holds sets them aside and builds them once, in order, at the end.
DEFERRABLE_INDEXES = (*ddl.deferrable_indexes(), "search_doc_by_title")
# Records a transaction writes before it pauses the garbage collector's automatic passes until
# it ends (core.gcpause): an import or a sync, never a user's single write.
GC_PAUSE_RECORDS = 1000


class _Tx:
    """What a transaction changed beyond the change log: search documents gone stale, records
    created, and the changes reported to the caller."""
    __slots__ = ("dirty", "inserted", "with_lines", "changes", "foreign", "gc_paused")

    def __init__(self) -> None:
        # (kind, id) -> row, or None: stale search doc
        self.dirty: dict[tuple[str, str], RowDict | None] = {}
        self.inserted: set[str] = set()         # ids of records created in this tx
        self.with_lines: set[str] = set()       # ids whose contact methods were written
        self.changes = Changes()
        # records were written from other replicas' entries (a sync): the search documents it
        # leaves for later are noted in search_pending, not found from this replica's own
        # entries
        self.foreign = False
        self.gc_paused = False                  # it paused the garbage collector (touch)


T = TypeVar("T")
R = TypeVar("R", bound="Replica")


class _Within(Generic[R]):
    """A write inside the transaction already open, without a savepoint of its own."""
    __slots__ = ("store",)

    def __init__(self, store: R) -> None:
        self.store: R = store

    def __enter__(self) -> R:
        self.store._depth += 1
        return self.store

    def __exit__(self, *exc: object) -> None:
        self.store._depth -= 1


class _Outermost(Generic[R]):
    """The outermost transaction of a replica (Replica.transaction): a class rather than a
    generator, since every single write pays for entering and leaving it."""
    __slots__ = ("store", "small")

    def __init__(self, store: R, small: bool = False) -> None:
        self.store: R = store
        self.small = small

    def __enter__(self) -> R:
        self.store._begin(self.small)
        return self.store

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> None:
        self.store._end(exc if kind is not None else None)


class _Savepoint(Generic[R]):
    """A transaction nested in another: a savepoint, rolled back alone when its block raises."""
    __slots__ = ("store", "name", "saved")

    def __init__(self, store: R) -> None:
        self.store: R = store

    def __enter__(self) -> R:
        store = self.store
        pending = store.log.pending
        assert pending is not None and store._tx is not None
        self.name = f"sp{store._depth}"
        self.saved = pending.mark()
        store.conn.execute(f"SAVEPOINT {self.name}")
        store._depth += 1
        return store

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> None:
        store = self.store
        try:
            if kind is not None:
                store.conn.execute(f"ROLLBACK TO {self.name}")
                store.conn.execute(f"RELEASE {self.name}")
                pending, tx = store.log.pending, store._tx
                assert pending is not None and tx is not None
                pending.back_to(self.saved)
                # rows read or written inside the savepoint may be gone: read them afresh
                store.checker.forget()
                store._agency_words.clear()
                tx.dirty = dict.fromkeys(tx.dirty)
            else:
                store.conn.execute(f"RELEASE {self.name}")
        finally:
            store._depth -= 1


class _Unread(enum.Enum):
    UNREAD = 0


_UNREAD: Final = _Unread.UNREAD         # the agency key, not read yet




class Replica:
    """The open database of one replica; Store (store.py) adds reading and writing records."""

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self.conn = conn
        # one cursor kept for BEGIN, COMMIT and PRAGMA data_version: a statement through
        # Connection.execute makes a cursor each time, a fifth of a microsecond
        self._tx_cursor = conn.cursor() if isinstance(conn, sqlite3.Connection) else conn
        self.path = path
        self._depth = 0
        self._tx: _Tx | None = None
        # Caches valid while no other connection writes (PRAGMA data_version unchanged).
        self._data_version: int | None = None
        self.log = ChangeLog(self)
        self._agency_words: fts.AgencyWords = {}
        self._kind_of_id: dict[str, K.Kind] = {}
        # a table's columns, as `SELECT *` gives them (RecordReader._row)
        self._row_names: dict[str, tuple[str, ...]] = {}
        self._read_meta()

    def _read_meta(self) -> None:
        meta = dict(self.conn.execute("SELECT key, value FROM meta"))
        if "home" not in meta:
            raise NotInitialised(f"{self.path} is not initialised: run fieldcoord init --agency "
                                 "NAME --code CODE first")
        self.home: str = meta["home"]
        self.site_uuid: str = meta["site"]
        self.epoch: str = meta.get("epoch") or ""
        self.device: str = meta.get("device") or ""
        self.region: str = meta.get("region") or "US"
        # this replica's row in the site table: 1 unless the database began as a snapshot
        # of another replica's (see sync.snapshot)
        self.self_ord: int = int(meta.get("self_ord") or 1)
        # full-text indexes left for later by a large sync (see defer_search)
        self.search_deferred: bool = meta.get("search_deferred") == "1"
        # a regional hub's database (PostgreSQL) keeps no search documents or indexes: it is
        # never searched, and laptops build theirs from the records they receive
        self.searchless: bool = bool(getattr(self.conn, "searchless", False))
        # small local writes leave their stream's row behind (ChangeLog.flush); a regional
        # hub's database settles at every write instead
        self.lazy_streams: bool = not getattr(self.conn, "settled_streams", False)
        # records this replica creates have their creation logged by reference to their row
        # (store.byref); a regional hub's database (PostgreSQL) logs every value
        self.log_by_reference: bool = isinstance(self.conn, sqlite3.Connection)
        # documents whose full-text entries wait for index_pending (search reads them anyway)
        self._pending_docs = 0 if self.searchless else fts.pending_count(self.conn,
                                                                         self.self_ord)
        # where the private keys are (see store.keys); None before keys existed
        self.keystore: str | None = meta.get("keystore")
        # the built-in demo region (fictional Harbor County) was loaded here: never shared
        # with a peer unless the user confirms (see demo.check_may_share)
        self.demo: bool = meta.get("demo") == "1"
        self._device_seed: bytes | None = None
        self._agency_seed: bytes | None | _Unread = _UNREAD
        self.checker = RowChecker(self)
    # ----------------------------------------------------------------- keys
    # ----------------------------------------------------------------- keys
    def device_seed(self) -> bytes:
        """This replica's private device key (it signs what this replica writes)."""
        if self._device_seed is None:
            seed = keys.load(self.conn, self.path, self.site_uuid, "device", self.keystore)
            if seed is None:
                raise keys.KeysUnavailable(f"the private key of this replica is missing from "
                                           f"its {self.keystore}: it cannot sign changes")
            self._device_seed = seed
        return self._device_seed

    def agency_seed(self) -> bytes | None:
        """The agency's private key when this replica holds it (its agency's key holder)."""
        if self._agency_seed is _UNREAD:
            self._agency_seed = keys.load(self.conn, self.path, self.site_uuid, "agency",
                                          self.keystore)
        return self._agency_seed

    def give_up_agency_key(self) -> None:
        """Forget the agency's private key (a provisional one, given up for the hub's)."""
        if self.agency_seed() is not None:
            keys.forget(self.conn, self.path, self.site_uuid, "agency", self.keystore)
        self._agency_seed = None

    def key_warning(self) -> str | None:
        """What the user should know about where this replica's private keys are kept."""
        return keys.warning(self.keystore)
    def close(self) -> None:
        try:
            self.take_recent()
        except (sqlite3.Error, FieldcoordError) as e:
            # (they join the log at the next transaction that is not a small write)
            log.warning("small writes' entries left in change_recent: %s", e)
        if self._pending_docs and not self._depth:
            try:
                self.index_pending()
            except (sqlite3.Error, FieldcoordError) as e:
                # indexed when next opened or written: search reads them until then
                log.warning("search entries left for later: %s", e)
        self.conn.close()

    def reload(self) -> None:
        """Read everything afresh after the database's contents were replaced in place (a first
        sync adopting a snapshot): identity, caches, search state."""
        if self._depth:
            raise RuntimeError("reload inside a transaction")
        self._forget_caches()
        self._data_version = None
        self._kind_of_id.clear()
        self._read_meta()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ transactions
    def write(self, fn: Callable[[], T]) -> tuple[T, Changes]:
        """Run `fn`, made of this store's writes, as one transaction; returns its result and
        what it changed (kinds and record ids), for a view to refresh exactly those records.

        Nothing is written when `fn` raises. Not for use inside another transaction, whose
        changes would not be known yet.
        """
        if self._tx is not None:
            raise RuntimeError("Store.write inside a transaction")
        with self.transaction():
            tx = self._tx
            assert tx is not None
            value = fn()
        return value, tx.changes

    def transaction(self, savepoint: bool = True, small: bool = False
                    ) -> AbstractContextManager[Self]:
        """One SQLite transaction (BEGIN IMMEDIATE); nested calls are savepoints.

        Search documents, the clock and the stream counters are written just before COMMIT.
        A nested write that checks everything before writing may pass savepoint=False. A
        `small` transaction, one record's write of this replica's own, appends its change-log
        entries to change_recent (ChangeLog.begin); it reads no entries of the log.
        """
        if self._depth:
            return _Savepoint(self) if savepoint else _Within(self)
        return _Outermost(self, small)

    def take_recent(self) -> None:
        """Move the entries of small writes waiting in change_recent into the change log, in a
        transaction of its own: before reading the log outside a transaction (a request's
        history), at idle and on closing. Gives up without waiting when another connection
        writes (a sync, whose transaction moves them itself), the database is read-only or the
        disk is full: they wait for the next transaction that is not a small write."""
        if self._depth or not isinstance(self.conn, sqlite3.Connection) or not \
                self.conn.execute("SELECT EXISTS (SELECT 1 FROM change_recent)").fetchone()[0]:
            return              # (a regional hub's writes are never small: it keeps none)
        self.conn.execute("PRAGMA busy_timeout = 0")
        try:
            with self.transaction():
                pass                            # (ChangeLog.begin moves them)
        except (sqlite3.OperationalError, DiskFull) as e:
            log.info("small writes' entries left in change_recent: %s", e)
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")

    def _begin(self, small: bool = False) -> None:
        """BEGIN IMMEDIATE, and what another connection's writes since the last one make stale
        (the transaction's first statement; _Outermost calls it)."""
        cursor = self._tx_cursor
        cursor.execute("BEGIN IMMEDIATE")
        try:
            # (read to its end: the statement is done, and holds nothing)
            version = cursor.execute("PRAGMA data_version").fetchall()[0][0]
            if version != self._data_version:
                self._forget_caches()
                if not self.searchless:
                    # another connection may have put a snapshot in place (sync.snapshot),
                    # which gives this replica another site number (a regional hub's database
                    # is never replaced so, and its data_version moves at every transaction)
                    got = self.conn.execute("SELECT value FROM meta WHERE key = 'self_ord'"
                                            ).fetchone()
                    self.self_ord = int(got[0]) if got else 1
                self._data_version = version
            self._depth = 1
            self.log.begin(small)           # (which may move change_recent's entries)
            self._tx = _Tx()
        except BaseException as exc:
            self._depth = 0
            self._rollback(exc)
            raise

    def _end(self, failed: BaseException | None) -> None:
        """COMMIT what the transaction wrote (its search notes and streams first), or roll it
        back when `failed` or when that fails; a disk that filled up is said in plain words."""
        try:
            if failed is None:
                try:
                    self._flush()
                    self._tx_cursor.execute("COMMIT")
                    self.log.committed()
                    return
                except BaseException as exc:
                    failed = exc
                    self._rollback(exc)
                    raise
            self._rollback(failed)
        finally:
            self._depth = 0
            if self._tx is not None and self._tx.gc_paused:
                gcpause.resume()
            self._tx = None

    def _rollback(self, exc: BaseException) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self._forget_caches()
        if not isinstance(exc, DiskFull) and is_disk_full(exc):
            raise DiskFull() from exc       # rolled back: say it in plain words

    def sign_heads(self) -> None:
        """Sign the newest entries of this replica's own streams, before they are sent: a
        receiver takes entries up to a signed head only. Writes nothing when all are signed."""
        if self.log.due():
            with self.transaction():
                self.log.sign_newest()

    # ------------------------------------------------------------ search indexing
    def defer_search(self, indexes: bool = False) -> None:
        """Keep search documents up to date but leave the full-text indexes for later.

        For a large sync: one rebuild at the end costs a fraction of indexing document by
        document. With `indexes` the DEFERRABLE_INDEXES are dropped too, to be built again at
        the end. The flag is stored, and missing indexes are noticed, so a replica stopped half
        way rebuilds both when next opened. Searches meanwhile may miss the records received
        since, and lists sort without their indexes.
        """
        if self.searchless or self.search_deferred and not indexes:
            return
        with self.transaction():
            self.conn.execute("INSERT OR REPLACE INTO meta (key, value) "
                              "VALUES ('search_deferred', '1')")
            if indexes:
                for name in DEFERRABLE_INDEXES:
                    self.conn.execute(f'DROP INDEX IF EXISTS "{name}"')
        # Copy the write-ahead log into the database every few batches rather than after each:
        # pages that every batch touches are then written once per checkpoint.
        self.conn.execute(f"PRAGMA wal_autocheckpoint = {BULK_CHECKPOINT_PAGES}")
        self.search_deferred = True

    def catch_up_search(self) -> None:
        """Rebuild the full-text indexes and the other indexes left for later by defer_search."""
        if self.searchless:
            return
        missing = self._missing_indexes()
        if not self.search_deferred and not missing:
            return
        # back to SQLite's default before this last commit, which then copies the log over
        self.conn.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
        with self.transaction():
            if self.search_deferred:
                fts.rebuild_indexes(self.conn)
                self.conn.execute("DELETE FROM meta WHERE key = 'search_deferred'")
            definitions = index_definitions()
            for name in missing:
                self.conn.execute(definitions[name])
        self.search_deferred = False

    def held_changes(self) -> int:
        """How many change-log entries this replica holds, of every stream."""
        n: int = self.conn.execute(f"SELECT coalesce(sum({OWN_POSITION}), 0) FROM stream t",
                                   (self.self_ord,)).fetchone()[0]
        return n

    def _missing_indexes(self) -> list[str]:
        """The DEFERRABLE_INDEXES this database lacks (set aside by a sync that stopped)."""
        marks = ",".join("?" * len(DEFERRABLE_INDEXES))
        held = {r[0] for r in self.conn.execute(
            f"SELECT name FROM sqlite_master WHERE type = 'index' AND name IN ({marks})",
            DEFERRABLE_INDEXES)}
        return [n for n in DEFERRABLE_INDEXES if n not in held]

    def _forget_caches(self) -> None:
        self.checker.forget()
        self.log.forget()
        self._agency_words.clear()
        self._row_names.clear()

    def _flush(self) -> None:
        tx = self._tx
        assert tx is not None
        direct = False
        if tx.dirty and not self.searchless:
            # (a few documents of this replica's own are counted without being sorted)
            few = not tx.foreign and not self.search_deferred and len(tx.dirty) <= fts.PENDING_TX
            targets = [] if few else sorted(
                (t for t in tx.dirty.items() if t[0][0] in K.SEARCHABLE), key=lambda t: t[0])
            later = few or fts.stays_pending(len(targets), self.search_deferred)
            if later and not tx.foreign:
                # a small write of this replica's own: nothing is written for search now, its
                # entries in the change log say which documents wait (fts.stale_local)
                self._pending_docs += sum(1 for key in tx.dirty if key[0] in K.SEARCHABLE) \
                    if few else len(targets)
            else:
                self._pending_docs += fts.refresh(
                    self.conn, targets, self._agency_words, tx.inserted, tx.with_lines,
                    deferred=self.search_deferred, self_ord=self.self_ord,
                    own_from=self.log.before())
                direct = not later
        # a small local write leaves its stream's row behind (see ChangeLog.flush)
        self.log.flush(settle=tx.foreign or not self.lazy_streams)
        if direct:
            # the documents are current up to this transaction's entries (and the older ones
            # left pending were written first)
            fts.set_marks(self.conn, self.log.written())
        elif self._pending_docs >= fts.PENDING_MAX and not self.searchless:
            # (counted again: a document noted twice is pending once)
            self.log.take_recent()
            self._pending_docs = fts.pending_count(self.conn, self.self_ord)
            if self._pending_docs >= fts.PENDING_MAX:
                fts.index_pending(self.conn, self.self_ord)
                self._pending_docs = 0

    def idle(self) -> int:
        """Do what small writes leave for an idle moment: move their change-log entries into
        the log and write their full-text entries (index_pending), then copy the write-ahead
        log into the database file without waiting for anyone (a checkpoint a commit would
        otherwise make at CHECKPOINT_PAGES). Returns how many documents were indexed."""
        n = self.index_pending()        # (its transaction takes change_recent's entries first)
        self.take_recent()              # (when no document waited)
        if isinstance(self.conn, sqlite3.Connection) and not self._depth:
            # (on this connection: one of its own cost about 0.3 ms more, to open and close)
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        return n

    def index_pending(self, wait: bool = True) -> int:
        """Write the full-text index entries left for later by small writes (at idle, before
        closing, before a search); returns how many documents were indexed. With `wait`
        False it gives up at once when another connection is writing (a sync): a search then
        reads the pending documents from a temporary index instead."""
        if self.searchless or not fts.pending_count(self.conn, self.self_ord):
            self._pending_docs = 0
            return 0
        if not wait and not self._depth:
            self.conn.execute("PRAGMA busy_timeout = 0")
        try:
            with self.transaction():
                n = fts.index_pending(self.conn, self.self_ord)
        except sqlite3.OperationalError:
            if wait:
                raise
            return 0            # busy, or a database that cannot be written (read-only media)
        finally:
            if not wait and not self._depth:
                self.conn.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
        self._pending_docs = 0
        return n

    def touch(self, kind: K.Kind, rid: str, row: RowDict, old: RowDict | None = None,
              live_row: bool = True, created: bool = False, lines_first: bool = False,
              foreign: bool = False) -> None:
        """Note, inside a transaction, what a write changed and which search documents go stale
        (every writer calls it: Store's own writes, Merger, conflict resolution).

        `row` is the record's whole new row when `live_row`; the search document is then built
        from it without reading the record back. `created`: the record is new here (it has no
        search document yet); `lines_first`: its contact methods may have arrived before it;
        `foreign`: the write applies another replica's entry.
        """
        tx = self._tx
        assert tx is not None
        if created:
            tx.inserted.add(rid)
        if lines_first:
            tx.with_lines.add(rid)
        if foreign:
            tx.foreign = True
        tx.changes.note(kind.name, rid)
        if len(tx.changes.ids) == GC_PAUSE_RECORDS and not tx.gc_paused:
            tx.gc_paused = True
            gcpause.pause()
        self.checker.forget(rid)
        name = kind.name
        dirty = tx.dirty
        search = kind.search
        if search is not None and search.within:
            for key, holder in fts.line_documents(kind, rid, (row, old) if old else (row,)):
                dirty.setdefault(key, None)
                if holder:
                    tx.with_lines.add(key[1])
        elif search is not None:
            dirty[(name, rid)] = row if live_row else None
        if name == "agency":
            self._agency_words.pop(rid, None)
        if name == "agency" and old is not None and not self.searchless and (
                old.get("name") != row.get("name") or old.get("code") != row.get("code")):
            # (a database without search documents, a regional hub's, has nothing to refresh)
            for key in fts.renamed_agency(self.conn, rid):
                dirty.setdefault(key, None)
