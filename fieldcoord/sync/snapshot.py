# SPDX-License-Identifier: GPL-3.0-or-later
"""First sync of a large hub from a filtered copy of the hub's database (sync layer).

Applying a big hub's change log entry by entry takes minutes; a new replica of an agency instead
downloads a copy of the hub's database holding exactly what a normal sync would send that agency
(whole streams by audience, the records those streams make visible, their sites and open
conflicts), adopts it as its own, then syncs normally for whatever the copy lacked.

Hub side: `build` makes the filtered copy. Replica side: `bootstrap` downloads, checks and adopts
it, only while the replica is fresh (it holds no change of any other replica).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..core import hlc as clock
from ..core import kinds as K
from ..core.errors import Cancelled, FieldcoordError
from ..core.failures import DiskFull, is_disk_full
from ..core.validate import audience, may_see
from ..store import byref, migrations
from ..store import search as fts
from ..store.changelog import TAKE_RECENT
from ..store.exchange import apply_batch, sites_of, vector, visible_vector
from ..store.incoming import SKEW_MS

log = logging.getLogger("fieldcoord.sync")

# A fresh replica lacking at least this many changes starts from a snapshot.
SNAPSHOT_AT = 20_000
CHUNK = 1 << 20
# Tables that describe this replica only; never sent, kept by a replica adopting a snapshot.
LOCAL_TABLES = ("peer", "device_token", "sync_event")
TEMP_MARK = ".snapshot-"


class SnapshotError(FieldcoordError):
    """A snapshot could not be made, or arrived unusable."""


class SnapshotRefused(SnapshotError):
    """The caller's agency may see nothing on this hub."""


@dataclass
class Built:
    path: Path
    size: int
    sha256: str


# ---------------------------------------------------------------------- hub side
def _sees(agency: str):
    def sees(owner, scope) -> int:
        if not owner or not scope:
            return 0
        try:
            return 1 if may_see(agency, audience(owner, scope)) else 0
        except Exception:            # an unreadable scope shows the record to nobody
            return 0
    return sees


def _cell_sites(cells: dict, out: set) -> None:
    for col, cell in cells.items():
        if col == "_seen":
            out.update(v[1] for v in cell[0].values() if isinstance(v[1], int))
            continue
        for i in (2, 4):
            if len(cell) > i and isinstance(cell[i], int):
                out.add(cell[i])
        if len(cell) > 5 and cell[5]:
            out.update(s for _, s in cell[5] if isinstance(s, int))


def _ver_sites(ver: dict, out: set) -> None:
    for col, v in ver.items():
        if col == "_seen" and isinstance(v, dict):
            out.update(x[1] for x in v.values() if isinstance(x[1], int))
        elif isinstance(v, list) and len(v) > 1 and isinstance(v[1], int):
            out.add(v[1])


def _drop_unnamed_sites(c: sqlite3.Connection) -> int:
    """Delete the sites nothing left in the copy names (a normal sync sends only the sites its
    entries name)."""
    named = {r[0] for r in c.execute("SELECT DISTINCT origin FROM stream")}
    named |= {r[0] for r in c.execute("SELECT DISTINCT site FROM change")}
    named |= {r[0] for r in c.execute("SELECT DISTINCT site FROM conflict")}
    candidates = {r[0] for r in c.execute("SELECT ord FROM site")} - named
    if not candidates:
        return 0
    # Only text that holds a candidate's number where a site number stands is read: after a
    # comma, before a comma or a closing bracket. Cells and versions naming sites are written
    # here without spaces (compact JSON); text kept as received names no site. (Reading every
    # entry took 3.3 s of a 100,000-contact snapshot: each new laptop is such a candidate.)
    maybe = " OR ".join(f"instr({{col}}, ',{int(o)},') OR instr({{col}}, ',{int(o)}]')"
                        for o in sorted(candidates)) if len(candidates) <= 64 else "1"
    refs: set = set()
    for (cells,) in c.execute("SELECT cells FROM change WHERE length(cells) > 2 AND ("
                              + maybe.format(col="cells") + ")"):
        _cell_sites(json.loads(cells), refs)
    for k in K.KINDS.values():
        for (ver,) in c.execute(f'SELECT _ver FROM "{k.table}" WHERE '
                                + maybe.format(col="_ver")):
            _ver_sites(json.loads(ver or "{}"), refs)
    drop = sorted(candidates - refs)
    c.executemany("DELETE FROM site WHERE ord = ?", [(o,) for o in drop])
    return len(drop)


def _redact(c: sqlite3.Connection) -> int:
    """Replace the cells of refused changes, and of changes about records the copy does not
    hold (withheld, or narrowed out of the agency's sight since), by their digest, so the copy
    keeps their place in the signed stream and nothing of their content. Returns how many
    changes about withheld records there were."""
    from ..store import identity
    uuids = dict(c.execute("SELECT ord, uuid FROM site"))
    held = " UNION ALL ".join(f'SELECT id FROM "{k.table}"' for k in K.KINDS.values())
    rows = c.execute(f"SELECT stream, seq, tx, tbl, rid, hlc, site, "
                     f"fc_cells(site, hlc, tbl, rid, cells), status FROM change "
                     f"WHERE status <> 0 OR rid NOT IN ({held})").fetchall()
    withheld = 0
    for sid, seq, tx, tbl, rid, hlc, site, cells, status in rows:
        if cells.startswith('{"_d"'):
            continue
        if not status:
            if json.loads(cells).keys() <= {"owner", "scope", "_scope", "_cl"}:
                continue                    # who sees it now: still the audience's to know
            withheld += 1
        d = identity.stored_digest((tx, tbl, rid, hlc, site, cells), uuids.get)
        c.execute("UPDATE change SET cells = ?, status = 1 WHERE stream = ? AND seq = ?",
                  (json.dumps({"_d": [d.hex()]}), sid, seq))
    return withheld


def _clear_search(c: sqlite3.Connection) -> None:
    c.execute("DELETE FROM search_doc")
    c.execute("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")
    c.execute("INSERT INTO search_digits (search_digits) VALUES ('delete-all')")
    c.execute("DELETE FROM search_pending")
    c.execute("DELETE FROM search_mark")


def _same_rows(src: sqlite3.Connection, copy: sqlite3.Connection) -> bool:
    """Whether every searchable record of `copy` is in the row it has in `src`: a search
    document is numbered by its record's row (store/search.py), and SQLite allows a copy
    (VACUUM INTO) to number rows anew. Rows `src` gained since the copy are not compared."""
    for kind in K.SEARCHABLE:
        table = K.KINDS[kind].table
        top = copy.execute(f'SELECT max(rowid) FROM "{table}"').fetchone()[0] or 0
        digests = []
        for c in (src, copy):
            h = hashlib.blake2b(digest_size=16)
            for rowid, rid in c.execute(f'SELECT rowid, id FROM "{table}" WHERE rowid <= ? '
                                        "ORDER BY rowid", (top,)):
                h.update(f"{rowid}:{rid};".encode())
            digests.append(h.digest())
        if digests[0] != digests[1]:
            return False
    return True


def _copy_from_postgres(conn, path: Path) -> None:
    """A regional hub's records (PostgreSQL, one consistent read) in a new SQLite store file;
    it has no search documents, so the snapshot's are cleared and the laptop builds them."""
    from ..store.db import connect
    from ..store.postgres import copy_to_sqlite
    c = connect(path)
    try:
        migrations.migrate(c)
        copy_to_sqlite(conn, c)
    finally:
        c.close()


def build(conn: sqlite3.Connection, agency: str, db: Path, site: str) -> Built:
    """A consistent copy of the database behind `conn` holding only what a normal sync sends
    `agency`: streams whose audience it may see, records it may see, their conflicts and
    sites. Local tables (device tokens, peers, sync log, settings) are emptied; search
    documents stay only when nothing was withheld (else the receiver rebuilds them).
    The file is next to the database `db`; the caller deletes it."""
    if not visible_vector(conn, agency):
        raise SnapshotRefused(f"agency {agency} may see nothing on this hub")
    db = Path(db)
    fd, name = tempfile.mkstemp(prefix=f"{db.name}{TEMP_MARK}", suffix=".db", dir=db.parent)
    os.close(fd)
    path = Path(name)
    path.unlink()                           # VACUUM INTO writes a file of its own
    try:
        if isinstance(conn, sqlite3.Connection):
            conn.execute("VACUUM INTO ?", (str(path),))
        else:
            _copy_from_postgres(conn, path)
        c = sqlite3.connect(str(path), isolation_level=None)
        try:
            c.execute("PRAGMA journal_mode = DELETE")
            c.execute("PRAGMA secure_delete = ON")     # withheld content leaves no trace
            c.create_function("fc_sees", 2, _sees(agency), deterministic=True)
            c.create_function("fc_aud", 1, lambda a: 1 if a and may_see(agency, a) else 0,
                              deterministic=True)
            c.execute("BEGIN")
            for statement in TAKE_RECENT:       # (withheld below as the rest of the log)
                c.execute(statement)
            # the creations of records withheld are written out first: their digests stay, and
            # are made from the cells (store.byref); the others keep referring to their rows
            byref.register(c)
            byref.materialize_where(c, "NOT fc_sees(owner, scope)")
            hidden = 0
            for k in K.KINDS.values():
                hidden += c.execute(
                    f'DELETE FROM "{k.table}" WHERE NOT fc_sees(owner, scope)').rowcount
            hidden += c.execute("DELETE FROM change WHERE stream IN "
                                "(SELECT id FROM stream WHERE NOT fc_aud(audience))").rowcount
            c.execute("DELETE FROM stream WHERE NOT fc_aud(audience)")
            # a refused change, or one about a record withheld, travels as its place only
            hidden += _redact(c)
            tables = [k.table for k in K.KINDS.values()]
            c.execute(f"DELETE FROM conflict WHERE tbl NOT IN ({','.join('?' * len(tables))})",
                      tables)
            for t in tables:
                c.execute(f'DELETE FROM conflict WHERE tbl = ? AND rid NOT IN '
                          f'(SELECT id FROM "{t}")', (t,))
            for t in (*LOCAL_TABLES, "meta", "agency_key"):
                c.execute(f"DELETE FROM {t}")
            for (t,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                  "name LIKE 'sqlite_stat%'").fetchall():
                c.execute(f"DELETE FROM {t}")         # row counts of withheld tables
            # the clock as a receiver of these entries would have it; local receipt times
            c.execute("UPDATE clock SET hlc = coalesce((SELECT max(hlc) FROM change), 0)")
            c.execute(f'UPDATE "{K.KINDS["log"].table}" SET received_at = NULL')
            # (a site row names a replica, no record's words: dropping one leaves search as
            # it is, and secure_delete leaves no trace of it)
            _drop_unnamed_sites(c)
            search = "kept" if hidden == 0 and isinstance(conn, sqlite3.Connection) \
                and _same_rows(conn, c) else "cleared"
            if search == "cleared":
                # documents of visible records may hold words of withheld ones
                _clear_search(c)
            c.executemany("INSERT INTO meta (key, value) VALUES (?, ?)",
                          [("snapshot_agency", agency), ("snapshot_site", site),
                           ("snapshot_search", search)])
            c.execute("COMMIT")
            if hidden:
                c.execute("VACUUM")
        finally:
            c.close()
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while block := f.read(CHUNK):
                h.update(block)
        return Built(path, path.stat().st_size, h.hexdigest())
    except BaseException:
        for p in (path, Path(f"{path}-journal")):
            p.unlink(missing_ok=True)
        raise


def remove_stale(db: Path) -> None:
    """Delete snapshot files a stopped hub left next to its database."""
    for p in Path(db).parent.glob(f"{Path(db).name}{TEMP_MARK}*"):
        p.unlink(missing_ok=True)


# ---------------------------------------------------------------------- replica side
def is_fresh(store) -> bool:
    """Whether this replica holds no change of any other replica."""
    own = store.site_uuid
    return all(origin == own for origin, _ in vector(store.conn))


def _download_path(store) -> Path:
    return store.path.with_name(store.path.name + ".snapshot")


def _cleanup(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _prepare(store, path: Path) -> str | None:
    """Make the downloaded copy this replica's: its site, identity, settings, peers and sync
    log. Returns why the copy cannot be used, or None."""
    try:
        c = sqlite3.connect(f"file:{path}?mode=rw", uri=True, isolation_level=None)
    except sqlite3.DatabaseError:
        return "the snapshot is not a database"
    try:
        try:
            names = migrations.applied(c)
            meta = dict(c.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError:
            return "the snapshot is not a fieldcoord database"
        if names != migrations.NAMES:
            return "the hub's database is at another schema version"
        if meta.get("snapshot_agency") != store.home:
            return f"the snapshot was made for agency {meta.get('snapshot_agency')}"
        c.execute("PRAGMA journal_mode = DELETE")
        old = store.conn
        c.execute("BEGIN IMMEDIATE")
        got = c.execute("SELECT ord FROM site WHERE uuid = ?", (store.site_uuid,)).fetchone()
        if got:
            own = got[0]
        else:
            own = c.execute("INSERT INTO site (uuid) VALUES (?)", (store.site_uuid,)).lastrowid
        # this replica's key and certificate, and the agency keys it trusts, are its own
        key, cert, verified = old.execute("SELECT key, cert, verified FROM site WHERE ord = ?",
                                          (store.self_ord,)).fetchone()
        c.execute("UPDATE site SET agency = ?, device = ?, key = ?, cert = ?, verified = ? "
                  "WHERE ord = ?", (store.home, store.device, key, cert, verified, own))
        c.execute("DELETE FROM agency_key")
        # a hub's copy holds no waiting entries (build moves them into the log it redacts);
        # any there would be taken into this replica's log unchecked, as its own small writes
        c.execute("DELETE FROM change_recent")
        c.executemany("INSERT INTO agency_key (code, fingerprint, key, trust, endorsement, at) "
                      "VALUES (?, ?, ?, ?, ?, ?)", old.execute(
                          "SELECT code, fingerprint, key, trust, endorsement, at FROM agency_key"))
        c.execute("DELETE FROM meta")
        rows = [(k, v) for k, v in old.execute("SELECT key, value FROM meta")
                if k not in ("self_ord", "search_deferred")]
        rows += [("self_ord", str(own)), ("snapshot_search", meta.get("snapshot_search", ""))]
        c.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", rows)
        for table in LOCAL_TABLES:
            cur = old.execute(f"SELECT * FROM {table}")
            cols = [d[0] for d in cur.description]
            c.executemany(f"INSERT INTO {table} ({', '.join(cols)}) "
                          f"VALUES ({', '.join('?' * len(cols))})", cur.fetchall())
        mine = old.execute("SELECT hlc FROM clock").fetchone()[0]
        theirs = c.execute("SELECT hlc FROM clock").fetchone()[0]
        bound = clock.pack(clock.wall_ms() + SKEW_MS)
        c.execute("UPDATE clock SET hlc = ?", (max(mine, min(theirs, bound)),))
        # when this replica received them
        c.execute(f'UPDATE "{K.KINDS["log"].table}" SET received_at = ?',
                  (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),))
        c.execute("COMMIT")
        return None
    finally:
        c.close()


def bootstrap(store, peer, progress=None, cancel: threading.Event | None = None
              ) -> tuple[int | None, str]:
    """Start a fresh replica from the peer's snapshot: (changes adopted, or None when it could
    not be used; what happened). On success the database behind `store` holds the snapshot
    plus every change this replica had made, and `store` has been reloaded; otherwise the
    database is untouched and a normal sync follows."""
    path = _download_path(store)
    _cleanup(path)
    try:
        try:
            peer.snapshot(path, progress, cancel)
        except Cancelled:
            raise
        except (FieldcoordError, OSError) as e:  # refused, cut, or no room for the download
            return None, f"no snapshot ({DiskFull() if is_disk_full(e) else e})"
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        if progress:
            progress("preparing the snapshot", 0, 1)
        try:
            why = _prepare(store, path)
            if why:
                return None, why
            adopted = _make_own(store, path, progress)
        except (FieldcoordError, sqlite3.DatabaseError, OSError) as e:
            return None, f"the snapshot could not be used ({DiskFull() if is_disk_full(e) else e})"
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        if progress:
            progress("installing the snapshot", 0, 1)
        try:
            _install(store, path)
        except (sqlite3.Error, OSError) as e:   # rolled back whole: the database is as it was
            return None, ("the snapshot could not be put in place "
                          f"({DiskFull() if is_disk_full(e) else e})")
        store.reload()
        return adopted, "adopted"
    finally:
        _cleanup(path)


def _make_own(store, path: Path, progress=None) -> int:
    """Re-apply this replica's own entries to the prepared copy and index it for search;
    returns how many entries of other replicas it holds."""
    from ..store import Store
    new = Store.open(path)
    try:
        # what this replica wrote before its first sync: its own stream again
        since = {k: 0 for k in vector(store.conn)}
        for batch in store.outgoing(since):
            apply_batch(new, batch, sites_of(store.conn, batch))
        with new.transaction():
            if new.conn.execute("SELECT value FROM meta WHERE key = 'snapshot_search'"
                                ).fetchone() == ("cleared",):
                if progress:
                    progress("indexing for search", 0, 1)
                fts.rebuild_all(new.conn)
            new.conn.execute("DELETE FROM meta WHERE key = 'snapshot_search'")
        return sum(seq for (origin, _), seq in vector(new.conn).items()
                   if origin != store.site_uuid)
    finally:
        new.close()


def _install(store, path: Path) -> None:
    """Copy the prepared database over this replica's in one SQLite transaction (the backup
    API): a crash leaves the old database or the new one, and other connections to the file
    (the app's own) see the new contents."""
    src = sqlite3.connect(str(path), isolation_level=None)
    try:
        src.backup(store.conn)
    finally:
        src.close()
    try:
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.OperationalError:
        pass                            # a reader holds the log; SQLite checkpoints later
