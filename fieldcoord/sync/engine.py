# SPDX-License-Identifier: GPL-3.0-or-later
"""One sync between this replica and a peer: exchange vectors, pull what we lack, push what they
lack, a batch per transaction (sync layer).

A peer is anything with `hello`, `pull` and `push` (an HTTP hub, another store in-process).
Long-running: takes `progress(label, value, maximum)` and a `cancel` threading.Event.

A fresh replica (holding no other replica's changes) lacking many changes of a peer that offers
`snapshot` starts from a filtered copy of the peer's database instead (sync.snapshot); the
database behind the caller's Store is then replaced in place and the Store reloaded, so the
caller goes on using the same object.
"""
from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..core.errors import Cancelled
from ..core.progress import Progress
from ..core.validate import may_see
from ..store.exchange import apply_batch, lacking, sites_of, visible_vector
from ..store.incoming import Entry, Report
from . import keyexchange, snapshot

# Receiving at least this many changes, a replica indexes them for search once at the end.
DEFER_SEARCH_AT = 5000


@dataclass
class Hello:
    """What a peer says of itself when a sync starts."""
    site: str
    agency: str
    epoch: str
    vector: dict
    keys: dict = field(default_factory=dict)     # see keyexchange.answer


@dataclass
class SyncResult:
    peer: Hello | None = None
    received: Report = field(default_factory=Report)
    sent: Report = field(default_factory=Report)
    batches_in: int = 0
    batches_out: int = 0
    snapshot: str = ""          # what became of a first sync from a snapshot, if one was tried
    warnings: list = field(default_factory=list)     # about keys, in words

    @property
    def changed(self) -> bool:
        return bool(self.received.applied or self.sent.applied)


@dataclass
class InProcess:
    """What stands for a device token in process: a caller of the store's own agency is
    trusted as one of its devices (it could open the database file anyway)."""
    agency: str
    device: str
    id: None = None


class StorePeer:
    """A peer that is another store in this process (tests, the hub's own side). A caller of
    the same agency is enrolled as a device token holder would be."""

    def __init__(self, store):
        self.store = store

    def hello(self, site: str, agency: str, vector: dict, keys: dict | None = None) -> Hello:
        s = self.store
        token = InProcess(agency, site[:8]) if agency == s.home else None
        answer = keyexchange.answer(s, site, agency, keys or {}, token)
        return Hello(s.site_uuid, s.home, s.epoch, visible_vector(s.conn, agency), answer)

    def pull(self, agency: str, since: dict) -> Iterator[tuple[list[Entry], dict]]:
        conn = self.store.conn
        allowed = {k: v for k, v in since.items() if may_see(agency, k[1])}
        for batch in self.store.outgoing(allowed, agency=agency):
            yield batch, sites_of(conn, batch)

    def push(self, agency: str, entries: list[Entry], sites: dict) -> Report:
        return apply_batch(self.store, entries, sites)


def sync(store, peer, progress: Progress | None = None,
         cancel: threading.Event | None = None, allow_demo: bool = False) -> SyncResult:
    """Pull then push; each batch commits with its vector, so a cut costs at most one batch.
    A demo directory syncs only when the user confirmed it (`allow_demo`)."""
    from ..demo import check_may_share
    check_may_share(store, allow_demo, getattr(peer, "name", None) or "the peer")
    result = SyncResult()
    mine = visible_vector(store.conn, None)
    row = store.conn.execute("SELECT key_fingerprint, agency FROM peer WHERE name = ?",
                             (peer.name,)).fetchone() if getattr(peer, "name", None) else None
    if row and hasattr(peer, "peer_agency") and peer.peer_agency is None:
        peer.peer_agency = row[1]           # (what its hello may leave out)
    hello = peer.hello(store.site_uuid, store.home, mine, keyexchange.offer(store))
    result.peer = hello
    expected = getattr(peer, "key_fingerprint", None)
    if expected is None and row:
        expected = row[0]
    result.warnings = keyexchange.take_answer(store, hello.agency, hello.site, hello.keys,
                                              expected)
    want = lacking(hello.vector, mine, store.home)
    total = sum(hello.vector[k] - v for k, v in want.items())
    done = 0
    if hasattr(peer, "snapshot") and total >= snapshot.SNAPSHOT_AT and snapshot.is_fresh(store) \
            and hello.agency == store.home:
        # only from a replica of this agency: it holds the key that vouches for its devices
        adopted, result.snapshot = snapshot.bootstrap(store, peer, progress, cancel)
        if adopted is not None:
            result.received.applied += adopted
            mine = visible_vector(store.conn, None)
            want = lacking(hello.vector, mine, store.home)
            total = sum(hello.vector[k] - v for k, v in want.items())
    if total >= DEFER_SEARCH_AT:
        # bringing at least as much as it holds, a replica builds its list indexes afresh too
        store.defer_search(indexes=total >= store.held_changes())
    try:
        for entries, sites in peer.pull(store.home, want):
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            result.received.merge(apply_batch(store, entries, sites))
            result.batches_in += 1
            done += len(entries)
            if progress:
                progress("receiving", done, max(total, done))
    finally:
        if store.search_deferred:
            if progress:
                progress("indexing for search", done, max(total, done))
            store.catch_up_search()
    mine = visible_vector(store.conn, None)
    give = lacking(mine, hello.vector, hello.agency)
    total = sum(mine[k] - v for k, v in give.items())
    done = 0
    for entries in store.outgoing(give, agency=hello.agency):
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        result.sent.merge(peer.push(store.home, entries, sites_of(store.conn, entries)))
        result.batches_out += 1
        done += len(entries)
        if progress:
            progress("sending", done, max(total, done))
    return result
