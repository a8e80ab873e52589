# SPDX-License-Identifier: GPL-3.0-or-later
"""The store: one write path that validates, versions every changed field and logs it (store layer).

Every add, edit, delete and restore goes through `Store`. In the same transaction as the data it
gives each changed field a version (hybrid logical clock, site) with its predecessor, and appends
one entry per written record to the change log stream of (this replica, the record's audience).
Not thread-safe: one Store (one connection) per thread.
"""
from __future__ import annotations

import builtins
import enum
import json
import socket
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, TypeVar, cast

from ..core import compact, ids
from ..core import hlc as clock
from ..core import kinds as K
from ..core.errors import NotFound, NotInitialised, PermissionDenied, ValidationError
from ..core.failures import DiskFull, is_disk_full
from . import conflicts, ddl, identity, keys
from . import search as fts
from .changelog import ChangeLog
from .checks import RowChecker
from .db import connect
from .migrations import index_definitions, migrate
from .records import SYSTEM, Cells, Changes, Record, RowDict, StoredRow, Versions, dump
from .records import field_value as _field_value

# Shortcut keys that add contact methods along with a contact or an agency.
METHOD_SHORTCUTS = ("phone", "mobile", "satellite_phone", "email", "call_sign", "pager", "fax")
# Pages of write-ahead log after which a commit copies it into the database: SQLite's default,
# and during a large sync (about 40 MB).
CHECKPOINT_PAGES = 1000
BULK_CHECKPOINT_PAGES = 10000
# Indexes nothing in applying a sync reads (see ddl.deferrable_indexes); each batch of a large
# pull lands in pages all over them, so a pull that brings at least as much as the replica
# holds sets them aside and builds them once, in order, at the end.
DEFERRABLE_INDEXES = (*ddl.deferrable_indexes(), "search_doc_by_title")


@dataclass
class _Tx:
    """What a transaction changed beyond the change log: search documents gone stale, records
    created, and the changes reported to the caller."""
    # (kind, id) -> row, or None: stale search doc
    dirty: dict[tuple[str, str], RowDict | None] = field(default_factory=dict)
    inserted: set[str] = field(default_factory=set)     # ids of records created in this tx
    with_lines: set[str] = field(default_factory=set)   # ids whose contact methods were written
    changes: Changes = field(default_factory=Changes)


_json = compact.dumps
T = TypeVar("T")
# The search documents that show an agency's name and code: (kind, reference field).
_RENAME_REFRESHES = K.searched_with("agency")
# For a kind searched within another (contact methods): the references to the kinds whose search
# documents hold their lines, other than the one it is searched within.
def _holds_lines(kind: str | None) -> bool:
    search = K.KINDS[kind].search if kind else None
    return search is not None and search.lines


_LINE_HOLDERS = {k.name: tuple((f.ref, f.name) for f in k.fields if f.type == K.REF
                               and f.name != k.search.within and f.ref and _holds_lines(f.ref))
                 for k in K.KINDS.values() if k.search is not None and k.search.within}


class _Unread(enum.Enum):
    UNREAD = 0


_UNREAD: Final = _Unread.UNREAD         # the agency key, not read yet


@lru_cache(maxsize=256)
def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    cols = ["id", *columns, "created_at", "updated_at", "device", "_cl", "_ver"]
    names = ", ".join(f'"{c}"' for c in cols)
    return f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(cols))})'


# Columns holding lists of ids, stored as JSON text.
_REFS_COLUMNS = {k.name: frozenset(f.name for f in k.fields if f.type == K.REFS)
                 for k in K.KINDS.values()}




class Store:
    """A replica's database. Open with `Store.open(path)`, create with `Store.create(...)`."""

    def __init__(self, conn: sqlite3.Connection, path: Path):
        self.conn = conn
        self.path = path
        self._depth = 0
        self._tx: _Tx | None = None
        # Caches valid while no other connection writes (PRAGMA data_version unchanged).
        self._data_version: int | None = None
        self.log = ChangeLog(self)
        self._agency_words: fts.AgencyWords = {}
        self._kind_of_id: dict[str, K.Kind] = {}
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
        # where the private keys are (see store.keys); None before keys existed
        self.keystore: str | None = meta.get("keystore")
        # the built-in demo region (fictional Harbor County) was loaded here: never shared
        # with a peer unless the user confirms (see demo.check_may_share)
        self.demo: bool = meta.get("demo") == "1"
        self._device_seed: bytes | None = None
        self._agency_seed: bytes | None | _Unread = _UNREAD
        self.checker = RowChecker(self)

    # ----------------------------------------------------------------- opening
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

    @classmethod
    def create(cls, path: str | Path, agency_name: str, agency_code: str,
               device: str | None = None, region: str = "US",
               founder: bool | None = None) -> Store:
        """Create a new database whose home agency is `agency_code` (its agency record included).

        `founder` True: this replica makes its agency's key and keeps it (the agency's first
        replica, usually its hub: `fieldcoord init`). False: it has no agency key until it first
        syncs with its agency's hub, which certifies it (`init --join`). None: it makes a key of
        its own for working alone, which it gives up for its hub's when it first enrols (as long
        as it never certified another device with it)."""
        path = Path(path)
        agency = K.KINDS["agency"]
        from ..core.validate import normalise_field
        # (normalise_field, typed object, gives text for text fields)
        name = cast(str, normalise_field(agency, agency.field_map["name"], agency_name))
        code = cast(str, normalise_field(agency, agency.field_map["code"], agency_code))
        if path.exists() and path.stat().st_size > 0:
            conn = connect(path)
            try:
                has_meta = conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone()
                home = conn.execute("SELECT value FROM meta WHERE key = 'home'").fetchone() \
                    if has_meta else None
            except sqlite3.DatabaseError:
                raise ValidationError(f"{path} exists and is not a fieldcoord database") from None
            finally:
                conn.close()
            if home:
                raise ValidationError(f"{path} is already initialised for agency {home[0]}")
            raise ValidationError(f"{path} exists and is not a fieldcoord database")
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = connect(path)
        try:
            migrate(conn)
            conn.execute("BEGIN IMMEDIATE")
            rows = {"home": code, "site": str(uuid.uuid4()), "epoch": str(uuid.uuid4()),
                    "device": device or socket.gethostname(), "region": region.upper()}
            conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", rows.items())
            conn.execute("INSERT INTO site (ord, uuid, agency, device) VALUES (?, ?, ?, ?)",
                         (1, rows["site"], code, rows["device"]))
            conn.execute("INSERT INTO clock (id, hlc) VALUES (1, 0)")
            identity.create(conn, path, rows["site"], code, rows["device"], founder is not False)
            if founder is None:
                conn.execute("INSERT INTO meta (key, value) VALUES ('provisional_key', '1')")
            conn.execute("COMMIT")
        except BaseException:
            conn.close()
            path.unlink(missing_ok=True)
            Path(str(path) + ".keys").unlink(missing_ok=True)
            raise
        store = cls(conn, path)
        store.add("agency", {"name": name, "code": code, "owner": code})
        return store

    @classmethod
    def open(cls, path: str | Path) -> Store:
        """Open an initialised database, applying pending migrations."""
        path = Path(path)
        hint = "run fieldcoord init --agency NAME --code CODE first"
        if not path.exists() or path.stat().st_size == 0:
            raise NotInitialised(f"no database at {path}: {hint}")
        try:
            probe = connect(path, readonly=True)
            try:
                tables = {r[0] for r in probe.execute("SELECT name FROM sqlite_master")}
            finally:
                probe.close()
        except sqlite3.DatabaseError:
            raise NotInitialised(f"{path} is not a fieldcoord database") from None
        if "_sqlite_migrations" not in tables or "meta" not in tables:
            raise NotInitialised(f"{path} is not a fieldcoord database")
        conn = connect(path)
        try:
            migrate(conn)
            store = cls(conn, path)
            if store.keystore is None:
                identity.upgrade(store)     # a database from before keys: its keys, now
        except BaseException:
            conn.close()
            raise
        if store.search_deferred or store._missing_indexes():
            store.catch_up_search()          # a large sync stopped before it indexed
        return store

    def close(self) -> None:
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

    def __enter__(self) -> Store:
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

    @contextmanager
    def transaction(self, savepoint: bool = True) -> Iterator[Store]:
        """One SQLite transaction (BEGIN IMMEDIATE); nested calls are savepoints.

        Search documents, the clock and the stream counters are written just before COMMIT.
        A nested write that checks everything before writing may pass savepoint=False.
        """
        if self._depth and not savepoint:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        if self._depth:
            name = f"sp{self._depth}"
            pending, tx = self.log.pending, self._tx
            assert pending is not None and tx is not None
            saved = pending.mark()
            self.conn.execute(f"SAVEPOINT {name}")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
                pending.back_to(saved)
                # rows read or written inside the savepoint may be gone: read them afresh
                self.checker.forget()
                self._agency_words.clear()
                tx.dirty = dict.fromkeys(tx.dirty)
                raise
            else:
                self.conn.execute(f"RELEASE {name}")
            finally:
                self._depth -= 1
            return
        self.conn.execute("BEGIN IMMEDIATE")
        version = self.conn.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._forget_caches()
            # another connection may have put a snapshot in place (sync.snapshot), which
            # gives this replica another site number
            got = self.conn.execute("SELECT value FROM meta WHERE key = 'self_ord'").fetchone()
            self.self_ord = int(got[0]) if got else 1
            self._data_version = version
        self._depth = 1
        self.log.begin()
        self._tx = tx = _Tx()
        try:
            yield self
            self._flush()
            self.conn.execute("COMMIT")
            self.log.committed()
        except BaseException as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            self._forget_caches()
            if not isinstance(exc, DiskFull) and is_disk_full(exc):
                raise DiskFull() from exc       # rolled back: say it in plain words
            raise
        finally:
            self._depth = 0
            self._tx = None

    # ------------------------------------------------------------ search indexing
    def defer_search(self, indexes: bool = False) -> None:
        """Keep search documents up to date but leave the full-text indexes for later.

        For a large sync: one rebuild at the end costs a fraction of indexing document by
        document. With `indexes` the DEFERRABLE_INDEXES are dropped too, to be built again at
        the end. The flag is stored, and missing indexes are noticed, so a replica stopped half
        way rebuilds both when next opened. Searches meanwhile may miss the records received
        since, and lists sort without their indexes.
        """
        if self.search_deferred and not indexes:
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
        n: int = self.conn.execute("SELECT coalesce(sum(seq), 0) FROM stream").fetchone()[0]
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

    def _flush(self) -> None:
        tx = self._tx
        assert tx is not None
        if tx.dirty:
            fts.refresh(self.conn, sorted(tx.dirty.items(), key=lambda item: item[0]),
                        self._agency_words, tx.inserted, tx.with_lines,
                        deferred=self.search_deferred)
        self.log.flush()

    def touch(self, kind: K.Kind, rid: str, row: RowDict, old: RowDict | None = None,
              live_row: bool = True, created: bool = False, lines_first: bool = False) -> None:
        """Note, inside a transaction, what a write changed and which search documents go stale
        (every writer calls it: Store's own writes, Merger, conflict resolution).

        `row` is the record's whole new row when `live_row`; the search document is then built
        from it without reading the record back. `created`: the record is new here (it has no
        search document yet); `lines_first`: its contact methods may have arrived before it.
        """
        tx = self._tx
        assert tx is not None
        if created:
            tx.inserted.add(rid)
        if lines_first:
            tx.with_lines.add(rid)
        tx.changes.note(kind.name, rid)
        self.checker.forget(rid)
        name = kind.name
        dirty = tx.dirty
        search = kind.search
        if search is not None and search.within:
            # A line is searched within the record it is part of (a contact's number), or on
            # its own and within every other record whose lines it is (an agency's duty line).
            for r in (row, old) if old else (row,):
                holders = _LINE_HOLDERS[name]
                if r.get(search.within):
                    holders = ((cast(str, kind.field_map[search.within].ref), search.within),)
                else:
                    dirty[(name, rid)] = None
                for holder, column in holders:
                    if r.get(column):
                        dirty.setdefault((holder, r[column]), None)
                        tx.with_lines.add(r[column])
        elif search is not None:
            dirty[(name, rid)] = row if live_row else None
        if name == "agency":
            self._agency_words.pop(rid, None)
        if name == "agency" and old is not None and (
                old.get("name") != row.get("name") or old.get("code") != row.get("code")):
            for child, col in _RENAME_REFRESHES:
                self._dirty_children(child, col, rid)

    def _dirty_children(self, kind: str, column: str, rid: str) -> None:
        table = K.KINDS[kind].table
        tx = self._tx
        assert tx is not None
        for (cid,) in self.conn.execute(
                f'SELECT id FROM "{table}" WHERE "{column}" = ? AND _cl % 2 = 1', (rid,)):
            tx.dirty.setdefault((kind, cid), None)

    # ------------------------------------------------------------------ reading
    def kind_of(self, name: str) -> K.Kind:
        k = K.kind_named(name)
        if k is None:
            raise ValidationError(f"unknown record kind '{name}'; kinds are: "
                                  + ", ".join(K.KINDS))
        return k

    def _row(self, table: str, rid: str) -> sqlite3.Row | None:
        cur = self.conn.execute(f'SELECT * FROM "{table}" WHERE id = ?', (rid,))
        cur.row_factory = sqlite3.Row
        row: sqlite3.Row | None = cur.fetchone()
        return row

    def _find(self, rid: str, kind: K.Kind | None = None) -> tuple[K.Kind, sqlite3.Row]:
        rid = str(rid).strip().lower()
        known = self._kind_of_id.get(rid)
        candidates = [kind] if kind else ([known] if known else []) + list(K.KINDS.values())
        for k in candidates:
            row = self._row(k.table, rid)
            if row is not None:
                if len(self._kind_of_id) > 50_000:
                    self._kind_of_id.clear()
                self._kind_of_id[rid] = k      # a record never changes kind
                return k, row
        raise NotFound(f"no record with id {rid}")

    def _to_record(self, kind: K.Kind, row: sqlite3.Row) -> Record:
        values = {f.name: _field_value(f, row[f.name]) for f in kind.fields}
        return Record(kind.name, row["id"], values, row["owner"], row["scope"],
                      row["created_at"], row["updated_at"], row["device"], row["_cl"] % 2 == 0)

    def get(self, rid: str, kind: str | None = None) -> Record:
        """The record with this id (live or deleted); raises NotFound."""
        k, row = self._find(rid, self.kind_of(kind) if kind else None)
        return self._to_record(k, row)

    def resolve(self, text: str, kind: str = "agency") -> str | None:
        """The id of a live record named by id (or, for agencies, by code)."""
        return self.checker.resolve_ref(K.KINDS[kind], str(text))

    def agency_id(self, code: str) -> str | None:
        """The id of the live agency with this code, or None."""
        rid = ids.agency_id(code)
        row = self.conn.execute("SELECT _cl FROM agency WHERE id = ?", (rid,)).fetchone()
        return rid if row and row[0] % 2 == 1 else None

    def list(self, kind: str, where: dict[str, Any] | None = None, deleted: bool = False,
             limit: int | None = None, offset: int = 0) -> builtins.list[Record]:
        """Records of a kind, live ones unless `deleted`, filtered by exact field values."""
        k = self.kind_of(kind)
        clauses, args = ["_cl % 2 = ?"], [0 if deleted else 1]
        for name, value in (where or {}).items():
            col, val = self.checker.where_value(k, name, value)
            if val is None:
                clauses.append(f'"{col}" IS NULL')
            else:
                clauses.append(f'"{col}" = ?')
                args.append(val)
        sql = (f'SELECT * FROM "{k.table}" WHERE {" AND ".join(clauses)} '
               f'ORDER BY "{k.title_field}" COLLATE NOCASE, id')
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        cur = self.conn.execute(sql, args)
        cur.row_factory = sqlite3.Row
        return [self._to_record(k, r) for r in cur]

    def count(self, kind: str) -> int:
        k = self.kind_of(kind)
        n: int = self.conn.execute(
            f'SELECT count(*) FROM "{k.table}" WHERE _cl % 2 = 1').fetchone()[0]
        return n

    def search(self, text: str, kind: str | None = None,
               limit: int = 20) -> builtins.list[fts.Hit]:
        """Ranked full-text search; prefix, accent- and case-insensitive; phones by digits."""
        if kind is not None:
            k = self.kind_of(kind)
            if k.name not in K.SEARCHABLE:
                raise ValidationError(f"search covers {', '.join(K.SEARCHABLE)}, not {k.name}")
            kind = k.name
        if limit < 1:
            raise ValidationError("limit must be at least 1")
        return fts.search(self.conn, text, kind, limit)

    def children(self, kind: str, column: str, rid: str) -> builtins.list[Record]:
        """Live records of `kind` whose `column` refers to `rid`."""
        return self.list(kind, {column: rid})

    # ------------------------------------------------------------------ writing
    def add(self, kind: str, values: dict[str, Any]) -> str:
        """Validate and insert a record; returns its id. Shortcut keys (phone=, email=...) on a
        contact or agency add its contact methods in the same transaction."""
        k = self.kind_of(kind)
        values = dict(values)
        shortcuts = {key: values.pop(key) for key in list(values)
                     if k.name in ("contact", "agency") and key in METHOD_SHORTCUTS}
        with self.transaction(savepoint=bool(shortcuts)):
            rid, row = self.checker.new_row(k, values)
            version = self.log.tick()
            now = clock.to_iso(version)
            refs = _REFS_COLUMNS[k.name]
            vals = [rid, *(_json(v) if c in refs and v is not None else v for c, v in row.items()),
                    now, now, self.device, 1, f'{{"":[{version},{self.self_ord}]}}']
            try:
                self.conn.execute(_insert_sql(k.table, tuple(row)), vals)
            except sqlite3.IntegrityError:
                raise ValidationError(f"a {k.label} with id {rid} already exists") from None
            cells = {c: [v] for c, v in row.items() if v is not None}
            cells["_cl"] = [1]
            self.log.emit(self.checker.audience(row), k.table, rid, version, cells)
            self.touch(k, rid, row, created=True)
            self.checker.remember(k, rid, row)
            for key, items in shortcuts.items():
                for value in items if isinstance(items, (list, tuple)) else [items]:
                    ref = {"contact": rid} if k.name == "contact" else {"agency": rid}
                    try:
                        self.add("method", {**ref, "kind": key, "value": value,
                                            "owner": row["owner"]})
                    except ValidationError as e:
                        # the refusal belongs to the shortcut it came in (phone=, email=...)
                        if e.field not in ("value", "kind"):
                            raise
                        raise ValidationError(e.message, field=key) from None
        return rid

    def edit(self, rid: str, values: dict[str, Any]) -> Record:
        """Change fields of a live record; unchanged values write nothing. Returns the record."""
        with self.transaction():
            k, cur = self._find(rid)
            rid = cur["id"]
            old = {c: cur[c] for c in cur.keys()}
            old_fields = {f.name: _field_value(f, cur[f.name]) for f in k.fields}
            old_fields.update(owner=cur["owner"], scope=cur["scope"])
            self.check_may_change(k, cur)
            if cur["_cl"] % 2 == 0:
                raise ValidationError(f"{k.label} '{self._title(k, cur)}' is deleted; "
                                      f"restore it first (fieldcoord restore {rid})")
            new = self.checker.changed_row(k, old_fields, dict(values), rid)
            changed = {c: v for c, v in new.items() if v != old_fields.get(c)}
            if not changed:
                return self._to_record(k, cur)
            if "scope" in changed and cur["owner"] != self.home:
                raise PermissionDenied(f"only {cur['owner']}, which maintains "
                                       f"{self._title(k, cur)}, can change its owner or scope")
            version = self.log.tick()
            ver = Versions.load(old["_ver"])
            cells = {c: [v, *ver.of(c)] for c, v in changed.items()}
            # a write is newer than what it replaces, even when that came from a clock ahead
            # of ours (whose time this replica does not adopt)
            version = max([version] + [c[1] + 1 for c in cells.values() if len(c) > 1])
            self.claim(k, cur, ver, cells)
            for c in changed:
                ver.fields[c] = [version, self.self_ord]
            sets = ", ".join(f'"{c}" = ?' for c in changed)
            self.conn.execute(
                f'UPDATE "{k.table}" SET {sets}, updated_at = ?, device = ?, _ver = ? WHERE id = ?',
                [*(_json(v) if c in _REFS_COLUMNS[k.name] and v is not None else v
                   for c, v in changed.items()),
                 clock.to_iso(version), self.device, ver.dump(), rid])
            before, after = self.checker.audience(old_fields), self.checker.audience(new)
            if before == after:
                self.log.emit(after, k.table, rid, version, cells)
            else:
                # Those losing sight of the record learn only that its sharing changed;
                # those gaining sight get its history (versions, and the current values).
                self.log.emit(before, k.table, rid, version,
                           {c: cells[c] for c in SYSTEM if c in cells})
                self.log.emit_history(after, k.table, rid, version, cells)
                self.log.emit(after, k.table, rid, version, cells)
            if ver.careful:
                # the record has conflicts: judge them again as every receiver of this write
                # will (writing the value that lost, say, leaves no conflict)
                conflicts.recount(self, k.table, rid, list(changed))
            self.touch(k, rid, new, old_fields)
            now = clock.to_iso(version)
        values = {f.name: new[f.name] for f in k.fields}
        return Record(k.name, rid, values, new["owner"], new["scope"], cur["created_at"], now,
                      self.device, False)

    def delete(self, rid: str) -> Record:
        """Soft-delete a record (its causal length becomes even) and the parts it owns."""
        with self.transaction():
            k, cur = self._find(rid)
            self.check_may_change(k, cur)
            if cur["_cl"] % 2 == 0:
                raise ValidationError(f"{k.label} '{self._title(k, cur)}' is already deleted")
            self.checker.check_deletable(k, cur)
            version = self.log.tick()
            self._set_cl(k, cur, version)
            for child_kind, column in K.cascade(k.name):
                ck = K.KINDS[child_kind]
                for child in self._rows_referring(ck, column, cur["id"], live=True):
                    self._set_cl(ck, child, version)
        return self.get(cur["id"])

    def restore(self, rid: str) -> Record:
        """Bring back a deleted record, with the parts deleted along with it."""
        with self.transaction():
            k, cur = self._find(rid)
            self.check_may_change(k, cur)
            if cur["_cl"] % 2 == 1:
                raise ValidationError(f"{k.label} '{self._title(k, cur)}' is not deleted")
            self.checker.check_restorable(k, cur)
            deleted_at = Versions.load(cur["_ver"]).fields.get("_cl", [None])[0]
            version = self.log.tick()
            self._set_cl(k, cur, version)
            for child_kind, column in K.cascade(k.name):
                ck = K.KINDS[child_kind]
                for child in self._rows_referring(ck, column, cur["id"], live=False):
                    if Versions.load(child["_ver"]).fields.get("_cl", [None])[0] == deleted_at:
                        self._set_cl(ck, child, version)
        return self.get(cur["id"])

    def _set_cl(self, k: K.Kind, cur: sqlite3.Row, version: int) -> None:
        ver = Versions.load(cur["_ver"])
        cl = cur["_cl"] + 1
        cells = {"_cl": [cl, *ver.of("_cl")]}
        self.claim(k, cur, ver, cells)
        if cl % 2 == 0:
            # A delete names the field versions it saw: an edit it did not see is concurrent
            # with it, and sync keeps that edit as a conflict instead of dropping it.
            seen = ver.written()
            cells["_seen"] = [seen]
            ver.seen = seen
        else:
            self.conn.execute("DELETE FROM conflict WHERE tbl = ? AND rid = ? "
                              "AND reason = 'deleted'", (k.table, cur["id"]))
        ver.fields["_cl"] = [version, self.self_ord]
        self.conn.execute(f'UPDATE "{k.table}" SET _cl = ?, _ver = ?, updated_at = ?, device = ? '
                          "WHERE id = ?",
                          (cl, ver.dump(), clock.to_iso(version), self.device, cur["id"]))
        row = {f.name: cur[f.name] for f in k.fields}
        self.log.emit(self.checker.audience({"owner": cur["owner"], "scope": cur["scope"]}),
                   k.table, cur["id"], version, cells)
        self.touch(k, cur["id"], row, live_row=False)

    def _rows_referring(self, kind: K.Kind, column: str, rid: str,
                        live: bool) -> builtins.list[sqlite3.Row]:
        cur = self.conn.execute(f'SELECT * FROM "{kind.table}" WHERE "{column}" = ? '
                                "AND _cl % 2 = ?", (rid, 1 if live else 0))
        cur.row_factory = sqlite3.Row
        return cur.fetchall()

    def _title(self, k: K.Kind, row: StoredRow) -> str:
        return str(row[k.title_field] or row["id"])

    def may_change(self, owner: str, scope: str, kind: str | None = None) -> bool:
        """Whether this replica's agency may change a record with this owner and scope.

        Agency records are the shared directory: any partner that holds one may correct it.
        """
        from ..core.validate import audience, may_see, partners_may_edit
        return kind == "agency" or owner == self.home or (
            partners_may_edit(scope) and may_see(self.home, audience(owner, scope)))

    def override(self, kind: K.Kind, rid: str, col: str, value: Any, prev: builtins.list[Any],
                 above: int) -> None:
        """Keep this replica's own value of a field against a version stamped by a clock far
        ahead: an ordinary write of that value, replacing our own version, stamped just above
        the skewed one. The skewed value stays as an open conflict. `prev` is the version of
        our own value being replaced: always this replica's, whatever site number it names."""
        prev = [prev[0], self.self_ord]
        cur = self.conn.execute(f'SELECT * FROM "{kind.table}" WHERE id = ?', (rid,))
        names = [d[0] for d in cur.description]
        row = dict(zip(names, cur.fetchone()))
        ver = Versions.load(row["_ver"])
        version = max(self.log.tick(), above + 1)
        cells = {col: [value, *prev]}
        self.claim(kind, row, ver, cells)
        ver.fields[col] = [version, self.self_ord]
        f = kind.field_map.get(col)
        stored = json.dumps(value) if f and f.type == K.REFS and value is not None else value
        self.conn.execute(f'UPDATE "{kind.table}" SET "{col}" = ?, _ver = ? WHERE id = ?',
                          (stored, ver.dump(), rid))
        self.log.emit(self.checker.audience(row), kind.table, rid, version, cells)
        self.touch(kind, rid, row, live_row=False)

    def claim(self, k: K.Kind, row: StoredRow, ver: Versions, cells: Cells) -> None:
        """A partner's write names the sharing scope that let it edit (value and version), so
        every replica judges it the same way, even if the owner changes the scope meanwhile."""
        if row["owner"] != self.home and k.name != "agency":
            cells["_scope"] = [row["scope"], *ver.of("scope")]

    def check_may_change(self, k: K.Kind, row: StoredRow) -> None:
        if not self.may_change(row["owner"], row["scope"], k.name):
            raise PermissionDenied(
                f"{k.label} '{self._title(k, row)}' is maintained by {row['owner']}: only "
                f"{row['owner']} can change it (its scope '{row['scope']}' does not let partners "
                "edit)")

    # ------------------------------------------------------------------ output
    def dump(self) -> str:
        """Canonical JSON of every live record and open conflict, sorted; no volatile fields."""
        return dump(self.conn)
