# SPDX-License-Identifier: GPL-3.0-or-later
"""The store: one write path that validates, versions every changed field and logs it (store layer).

Every add, edit, delete and restore goes through `Store`. In the same transaction as the data it
gives each changed field a version (hybrid logical clock, site) with its predecessor, and appends
one entry per written record to the change log stream of (this replica, the record's audience).
Not thread-safe: one Store (one connection) per thread.

Store is built in layers: the open database, its transactions and search upkeep (replica.py),
reading records (reading.py), and here creating and opening a database and writing records.
"""
from __future__ import annotations

import builtins
import json
import socket
import sqlite3
import uuid
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ..core import compact, workflow
from ..core import hlc as clock
from ..core import kinds as K
from ..core.errors import NotInitialised, PermissionDenied, ValidationError
from ..core.library import find_channel
from . import byref, conflicts, identity
from .db import connect
from .migrations import migrate
from .reading import RecordReader
from .records import SYSTEM, Cells, Record, StoredRow, Versions
from .records import field_value as _field_value
from .replica import DEFERRABLE_INDEXES

if TYPE_CHECKING:
    from .exchange import Batch

__all__ = ["DEFERRABLE_INDEXES", "METHOD_SHORTCUTS", "Store"]

# Shortcut keys that add contact methods along with a contact or an agency.
METHOD_SHORTCUTS = ("phone", "mobile", "satellite_phone", "email", "call_sign", "pager", "fax")
_SHORTCUT_KEYS = frozenset(METHOD_SHORTCUTS)
_json = compact.dumps
# A reference to a national interoperability channel of the built-in library: nifog:VTAC11.
LIBRARY_PREFIX = "nifog:"


_JUDGED = "requests_judged"           # meta key: judge_requests() has run on this database


@lru_cache(maxsize=256)
def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    cols = ["id", *columns, "created_at", "updated_at", "device", "_cl", "_ver"]
    names = ", ".join(f'"{c}"' for c in cols)
    return f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(cols))})'


@lru_cache(maxsize=256)
def _update_sql(table: str, columns: tuple[str, ...]) -> str:
    sets = ", ".join(f'"{c}" = ?' for c in columns)
    return f'UPDATE "{table}" SET {sets}, updated_at = ?, device = ?, _ver = ? WHERE id = ?'


# Columns holding lists of ids, stored as JSON text.
_REFS_COLUMNS = {k.name: frozenset(f.name for f in k.fields if f.type == K.REFS)
                 for k in K.KINDS.values()}
_FIELD_NAMES = {k.name: tuple(f.name for f in k.fields) for k in K.KINDS.values()}


class Store(RecordReader):
    """A replica's database. Open with `Store.open(path)`, create with `Store.create(...)`."""

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
            conn.execute("INSERT INTO meta (key, value) VALUES (?, '1')", (_JUDGED,))
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
        if not store.conn.execute("SELECT 1 FROM meta WHERE key = ?", (_JUDGED,)).fetchone():
            store.judge_requests()           # a database from before the request workflow
        if store.search_deferred or store._missing_indexes():
            store.catch_up_search()          # a large sync stopped before it indexed
        return store
    def outgoing(self, since: dict[tuple[str, str], int], max_bytes: int | None = None,
                 agency: str | None = None) -> Iterator[Batch]:
        """The batches this replica sends after `since` (exchange.outgoing), its own newest
        entries signed first: a receiver takes entries up to a signed head only."""
        from .exchange import outgoing
        self.sign_heads()
        return outgoing(self.conn, since, max_bytes, agency=agency)

    def judge_requests(self) -> int:
        """Judge every resource request's status moves held here by the workflow, as a sync
        that brought them would now (transitions.py); returns how many changes it refused.
        Run once on a database from before the workflow, so that it holds what a replica
        receiving the same changes today holds."""
        from .merge import Merger
        with self.transaction():
            merger = Merger(self, {})
            merger._requests.update(r for (r,) in self.conn.execute(
                "SELECT DISTINCT rid FROM change WHERE tbl = 'resource_request'"))
            report = merger.finish()
            self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, '1')",
                              (_JUDGED,))
        return len(report.refused)

    # ------------------------------------------------------------------ writing
    def add(self, kind: str, values: dict[str, Any]) -> str:
        """Validate and insert a record; returns its id. Shortcut keys (phone=, email=...) on a
        contact or agency add its contact methods in the same transaction."""
        k = self.kind_of(kind)
        values = dict(values)
        shortcuts = {key: values.pop(key) for key in list(values) if key in METHOD_SHORTCUTS} \
            if k.name in ("contact", "agency") and not _SHORTCUT_KEYS.isdisjoint(values) else {}
        with self.transaction(savepoint=bool(shortcuts), small=True):
            rid, row = self.checker.new_row(k, values)
            version = self.log.tick()
            now = clock.to_iso(version)
            refs = _REFS_COLUMNS[k.name]
            by_reference = self.log_by_reference
            vals = [rid, *(row.values() if not refs else (
                _json(v) if c in refs and v is not None else v for c, v in row.items())),
                now, now, self.device, 1, f'{{"":[{version},{self.self_ord}],"@":1}}'
                if by_reference else f'{{"":[{version},{self.self_ord}]}}']
            try:
                self.conn.execute(_insert_sql(k.table, tuple(row)), vals)
            except sqlite3.IntegrityError:
                raise ValidationError(f"a {k.label} with id {rid} already exists") from None
            # the entry refers to the row for its values (store.byref), or copies them
            cells: Cells | str = byref.BYREF if by_reference else {
                **{c: [v] for c, v in row.items() if v is not None}, "_cl": [1]}
            self.log.emit(self.checker.audience(row), k.table, rid, version, cells)
            self.touch(k, rid, row, created=True)
            self.checker.remember(k, rid, row)
            if k.name == "request":
                self._resources_follow({}, row)
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

    def library_refs(self, kind: K.Kind, values: dict[str, Any]) -> dict[str, Any]:
        """`channel=nifog:VTAC11` names a national interoperability channel of the built-in
        library: it becomes the id of the channel record this directory has of it (made the
        first time it is used). Call inside the write's transaction."""
        out = dict(values)
        for name, value in values.items():
            fld = kind.field_map.get(name)
            if fld is not None and fld.ref == "channel" and isinstance(value, str) \
                    and value.lower().startswith(LIBRARY_PREFIX):
                out[name] = self.library_channel(value[len(LIBRARY_PREFIX):])
        return out

    def library_channel(self, name: str) -> str:
        """The id of the channel record for a national interoperability channel of the built-in
        library (NIFOG): the live one of that name this directory holds, else a new record with
        the library's frequencies and tones, maintained by this agency and shared with all."""
        found = find_channel(name)
        if found is None:
            raise ValidationError(f"no national interoperability channel called '{name}' in "
                                  "the built-in library (NIFOG)")
        got = self.conn.execute("SELECT id FROM channel WHERE name = ? COLLATE NOCASE AND "
                                "_cl % 2 = 1 ORDER BY owner = ? DESC, id LIMIT 1",
                                (found.name, self.home)).fetchone()
        if got:
            return str(got[0])
        return self.add("channel", {
            "name": found.name, "function": found.function, "rx_freq": found.rx_freq,
            "rx_tone": found.rx_tone or None, "tx_freq": found.tx_freq,
            "tx_tone": found.tx_tone or None, "mode": found.mode,
            "system": f"National interoperability channel ({found.band})",
            "remarks": f"{found.remarks} (from the NIFOG)".strip(), "agency": self.home,
            "owner": self.home, "scope": "all"})

    def edit(self, rid: str, values: dict[str, Any]) -> Record:
        """Change fields of a live record; unchanged values write nothing. Returns the record."""
        with self.transaction(small=True):
            k, cur = self._find(rid)
            rid = cur["id"]
            old_fields = {name: cur[name] for name in _FIELD_NAMES[k.name]}
            for name in _REFS_COLUMNS[k.name]:          # lists of ids are JSON text
                old_fields[name] = _field_value(k.field_map[name], old_fields[name])
            old_fields["owner"], old_fields["scope"] = cur["owner"], cur["scope"]
            self.check_may_change(k, cur)
            if cur["_cl"] % 2 == 0:
                raise ValidationError(f"{k.label} '{self._title(k, cur)}' is deleted; "
                                      f"restore it first (fieldcoord restore {rid})")
            new = self.checker.changed_row(k, old_fields, values, rid)
            changed = {c: v for c, v in new.items() if v != old_fields.get(c)}
            if not changed:
                return self._to_record(k, cur)
            if "scope" in changed and cur["owner"] != self.home:
                raise PermissionDenied(f"only {cur['owner']}, which maintains "
                                       f"{self._title(k, cur)}, can change its owner or scope")
            version = self.log.tick()
            ver = Versions.load(cur["_ver"])
            cells = {c: [v, *ver.of(c)] for c, v in changed.items()}
            # a write is newer than what it replaces, even when that came from a clock ahead
            # of ours (whose time this replica does not adopt)
            for cell in cells.values():
                if len(cell) > 1 and cell[1] >= version:
                    version = cell[1] + 1
            self.claim(k, cur, ver, cells)
            before, after = self.checker.audience(old_fields), self.checker.audience(new)
            if ver.byref and before != after:
                # (the history about to go to a new audience is read with the row as it is)
                byref.materialize(self.conn, k.table, rid)
                ver.byref = False
            if ver.byref:
                # the creation's entry refers to this row: the values replaced of fields still
                # at the creation's version stay in this entry (store.byref)
                was = {c: old_fields[c] for c in changed if c not in ver.fields}
                if was:
                    cells[byref.WAS] = [was]
            for c in changed:
                ver.fields[c] = [version, self.self_ord]
            refs = _REFS_COLUMNS[k.name]
            now = clock.to_iso(version)
            self.conn.execute(
                _update_sql(k.table, tuple(changed)),
                [*(changed.values() if not refs else (
                    _json(v) if v is not None and c in refs else v for c, v in changed.items())),
                 now, self.device, ver.dump(), rid])
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
            if k.name == "request" and {"status", "committed_resources"} & changed.keys():
                self._resources_follow(old_fields, new)
        values = dict(new)              # (the fields, in their order, then owner and scope)
        del values["owner"], values["scope"]
        return Record(k.name, rid, values, new["owner"], new["scope"], cur["created_at"], now,
                      self.device, False)

    def _resources_follow(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        """A request's committed resources follow its state (assigned while committed, en route
        and on scene; demobilized; available again once returned, cancelled or unfilled), and
        those taken off a request go back to available. Only the resources this agency
        maintains: a partner's follow when that partner's replica makes the step."""
        state = workflow.canonical(new.get("status"))
        target = workflow.RESOURCE_STATUS.get(state)
        now = list(new.get("committed_resources") or [])
        dropped = [r for r in old.get("committed_resources") or [] if r not in now]
        wanted = [(r, target) for r in now if target is not None] \
            + [(r, "available") for r in dropped]
        for res, status in wanted:
            got = self.conn.execute("SELECT status, owner, scope, _cl FROM resource WHERE id = ?",
                                    (res,)).fetchone()
            if got is None or got[3] % 2 == 0 or got[0] == status or got[0] == "out_of_service" \
                    or not self.may_change(got[1], got[2], "resource"):
                continue
            if res in dropped and got[0] != "assigned":
                continue
            self.edit(res, {"status": status})

    def delete(self, rid: str) -> Record:
        """Soft-delete a record (its causal length becomes even) and the parts it owns."""
        with self.transaction(small=True):
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
        with self.transaction(small=True):
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

    def _set_cl(self, k: K.Kind, cur: StoredRow, version: int) -> None:
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
    def override(self, kind: K.Kind, rid: str, col: str, value: Any, prev: builtins.list[Any],
                 above: int) -> None:
        """Keep this replica's own value of a field against a version stamped by a clock far
        ahead: an ordinary write of that value, replacing our own version, stamped just above
        the skewed one. The skewed value stays as an open conflict. `prev` is the version of
        our own value being replaced: always this replica's, whatever site number it names."""
        prev = [prev[0], self.self_ord]
        byref.materialize(self.conn, kind.table, rid)
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
