# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs of a sync with a database's peers, and of bundles to and from files, for `fieldcoord
sync` and the app's Sync page (sync layer). Each opens its own Store from a database path, so
it can run on a worker thread; what it did comes back as an outcome in words for the user."""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import Cancelled, FieldcoordError, ValidationError
from ..core.failures import DiskFull
from ..core.validate import may_see
from ..store import Store
from ..store.exchange import visible_vector
from . import protocol
from .peers import ACK_KEY
from .synclog import log_event, record_failure, record_label, replica_label


@dataclass
class PeerOutcome:
    """What one peer's sync did, in words fit for the user."""
    peer: str
    received: int = 0
    sent: int = 0
    conflicts: int = 0
    refused: list = field(default_factory=list)     # (what, why)
    clock: list = field(default_factory=list)       # warnings naming the peer and the replica
    restored: bool = False
    error: str | None = None
    reachable: bool | None = None
    seconds: float = 0.0

    @property
    def changed_here(self) -> bool:
        return bool(self.received or self.conflicts)

    def summary(self) -> str:
        if self.error:
            return f"{self.peer}: {self.error}"
        return (f"{self.peer}: received {self.received}, sent {self.sent} changes, "
                f"{self.conflicts} new conflicts ({self.seconds:.1f} s)")


def sync_peers(db_path: Path, names: list[str] | None = None, progress=None,
               cancel: threading.Event | None = None, allow_demo: bool = False
               ) -> list[PeerOutcome]:
    """Sync with the named peers (all when None), one after the other; records each outcome in
    the peer table and the sync log as `fieldcoord sync` does. Runs on a worker thread: opens
    its own Store. A peer that fails does not stop the others; Cancel raises Cancelled. The demo
    directory is refused (DemoNotShared) unless the user confirmed it (`allow_demo`)."""
    from ..demo import check_may_share
    from . import credentials
    from .engine import sync
    from .http import HttpPeer, PeerError
    outcomes = []
    with Store.open(db_path) as store:
        rows = store.conn.execute("SELECT name, url, epoch, tls_ca, tls_pin FROM peer "
                                  "ORDER BY name").fetchall()
        if names is not None:
            rows = [r for r in rows if r[0] in names]
        if not rows:
            raise ValidationError("no peers yet: add your agency's hub under Peers first")
        check_may_share(store, allow_demo, ", ".join(r[0] for r in rows))
        for name, url, epoch, tls_ca, tls_pin in rows:
            if cancel is not None and cancel.is_set():
                raise Cancelled("sync cancelled")

            def step(label, value, maximum, name=name):
                if progress:
                    progress(f"{name}: {label}", value, maximum)
            step("connecting", 0, 0)
            started = time.monotonic()
            try:
                peer = HttpPeer(url, credentials.load_token(store.site_uuid, name, store), name,
                                tls_ca=tls_ca, tls_pin=tls_pin)
                try:
                    before = visible_vector(store.conn, None)
                    result = sync(store, peer, step, cancel, allow_demo=allow_demo)
                finally:
                    peer.close()
            except Cancelled:
                raise
            except FieldcoordError as e:
                if isinstance(e, DiskFull):
                    e = DiskFull("sync again")
                outcome = PeerOutcome(name, error=str(e), seconds=time.monotonic() - started)
                if isinstance(e, PeerError):
                    outcome.reachable = e.status is not None
                try:
                    record_failure(store, name, str(e))
                except DiskFull:                # no room even for the note: it is in the outcome
                    pass
                outcomes.append(outcome)
                if isinstance(e, DiskFull):     # the next peer would find no room either
                    break
                continue
            outcome = record_outcome(store, name, epoch, before, result)
            outcome.seconds = time.monotonic() - started
            outcomes.append(outcome)
    return outcomes


def record_outcome(store, name: str, epoch: str | None, before: dict, result) -> PeerOutcome:
    """Record a finished sync: the peer's identity and last sync, refused changes and clock
    warnings in the sync log, and the vector the peer now acknowledges (for pending counts)."""
    hello = result.peer
    restored = bool(epoch and hello.epoch != epoch)
    skewed = result.received.skewed | result.sent.skewed
    acked = {}
    for k in set(before) | set(hello.vector):
        if may_see(hello.agency, k[1]):
            sent = before.get(k, 0) if k not in result.sent.gaps else 0
            acked[k] = max(sent, hello.vector.get(k, 0))
    outcome = PeerOutcome(name, received=result.received.applied, sent=result.sent.applied,
                          conflicts=result.received.conflicts,
                          restored=restored, reachable=True)
    with store.transaction():
        store.conn.execute(
            "UPDATE peer SET site = ?, agency = ?, epoch = ?, last_error = NULL, "
            "last_sync = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') WHERE name = ?",
            (hello.site, hello.agency, hello.epoch, name))
        if restored:
            log_event(store, name, "restored", f"{name} was restored from a backup; this replica "
                   "re-sent what it lacked")
        for e, why in result.sent.refused:
            log_event(store, name, "refused", why, [e.tbl, e.rid])
            outcome.refused.append((record_label(store, e.tbl, e.rid), why))
        for report, where in ((result.received, "received from"), (result.sent, "sent to")):
            for _origin, _aud, _seq, what in report.tampered:
                log_event(store, name, "tampered", f"changes {where} {name} refused: {what}")
                outcome.refused.append((f"changes {where} {name}", what))
            for site, n in report.unverified.items():
                why = (f"{n} changes of {replica_label(store, site)} {where} {name} wait: its "
                       "agency's key or its certificate is not trusted there yet")
                log_event(store, name, "unverified", why, site)
                outcome.clock.append(why)
        for warning in getattr(result, "warnings", []):
            log_event(store, name, "keys", warning)
            outcome.clock.append(warning)
        for site, ahead in skewed.items():
            log_event(store, name, "clock", f"the clock of replica {site[:8]} is "
                   f"{ahead // 60000} minutes ahead", site)
            outcome.clock.append(f"syncing with {name}: the clock of {replica_label(store, site)} "
                                 f"is {ahead // 60000} minutes ahead; its edits cannot win "
                                 "conflicts by clock alone")
        store.conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO "
                           "UPDATE SET value = excluded.value",
                           (ACK_KEY + name, json.dumps(protocol.encode_vector(acked))))
        log_event(store, name, "synced", f"received {outcome.received}, sent {outcome.sent} "
               f"changes, {outcome.conflicts} new conflicts")
    return outcome


def _stoppable(progress, cancel: threading.Event | None):
    """A progress callback that stops the work at its next step once Cancel is pressed."""
    def step(label, value, maximum):
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled")
        if progress:
            progress(label, value, maximum)
    return step


def export_bundle_file(db_path: Path, path: Path, for_agency: str | None = None, progress=None,
                       cancel: threading.Event | None = None, allow_demo: bool = False) -> dict:
    """Write a bundle of what `for_agency` may see (everything when None) to `path`, as
    `fieldcoord bundle export` does. Worker thread: opens its own Store. Returns the counts."""
    from ..sync import bundle
    path = Path(path)
    if not path.parent.is_dir():
        raise ValidationError(f"no such folder: {path.parent}", field="file")
    with Store.open(db_path) as store:
        try:
            counts = bundle.export_bundle(store, path, (for_agency or "").strip() or None, None,
                                          _stoppable(progress, cancel), allow_demo=allow_demo)
        except Cancelled:
            path.with_name(path.name + ".part").unlink(missing_ok=True)
            raise
    counts["file"] = str(path)
    return counts


@dataclass
class ImportOutcome:
    """What a bundle import (or a kept receipt) did, in words fit for the user."""
    file: str
    receipt_of: str | None = None        # set when the file was a partner's receipt
    source: str = ""
    chunks: int = 0
    applied: int = 0
    duplicates: int = 0
    conflicts: int = 0
    warnings: list = field(default_factory=list)
    refused: list = field(default_factory=list)      # (what, why)
    receipt: str | None = None

    @property
    def changed_here(self) -> bool:
        return bool(self.applied or self.conflicts)

    def lines(self) -> list[str]:
        if self.receipt_of:
            return [f"Kept the receipt of {self.receipt_of}: the next bundle for "
                    f"{self.receipt_of} holds only what is new."]
        out = [f"Imported {self.chunks} chunks from {self.source}: {self.applied} changes "
               f"applied, {self.duplicates} already here, {self.conflicts} new conflicts."]
        out += self.warnings
        out += [f"Refused: {what}: {why}" for what, why in self.refused]
        if self.receipt:
            out.append(f"Receipt written to {self.receipt}: give it to the sender (bundle import "
                       "on their side) so their next bundle holds only what is new.")
        return out


def import_bundle_file(db_path: Path, path: Path, progress=None,
                       cancel: threading.Event | None = None,
                       trust: str | None = None) -> ImportOutcome:
    """Apply a bundle (or keep a partner's receipt), as `fieldcoord bundle import` does.
    Worker thread: opens its own Store. Cancel stops after the chunk being applied.
    `trust`: the fingerprint of the writing partner's agency key, confirmed by the user (a
    partner's key not confirmed yet raises identity.UntrustedKey, naming its fingerprint)."""
    from ..sync import bundle
    path = Path(path)
    if not path.is_file():
        raise ValidationError(f"no such file: {path}", field="file")
    with Store.open(db_path) as store:
        if bundle.is_receipt(path):
            return ImportOutcome(str(path), receipt_of=bundle.remember_receipt(store, path))
        r = bundle.import_bundle(store, path, _stoppable(progress, cancel), trust)
        out = ImportOutcome(str(path), source=r.source, chunks=r.chunks,
                            applied=r.report.applied, duplicates=r.report.duplicates,
                            conflicts=r.report.conflicts, receipt=str(r.receipt))
        if r.truncated:
            out.warnings.append("The file is cut short: its whole chunks were imported; ask "
                                "for the bundle again for the rest.")
        if r.corrupted:
            out.warnings.append(f"Chunks {', '.join(map(str, r.corrupted))} are damaged and "
                                "were refused.")
        if r.expected is not None and r.expected > r.chunks + len(r.corrupted):
            out.warnings.append(f"{r.expected - r.chunks - len(r.corrupted)} chunks are missing.")
        out.refused = [(record_label(store, e.tbl, e.rid), why) for e, why in r.report.refused]
        out.refused += [(f"changes in {path.name}", what)
                        for _o, _a, _s, what in r.report.tampered]
        for site, n in r.report.unverified.items():
            out.warnings.append(f"{n} changes of {replica_label(store, site)} wait: its "
                                "agency's key or its certificate is not trusted here yet")
    return out
