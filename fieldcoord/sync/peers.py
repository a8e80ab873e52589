# SPDX-License-Identifier: GPL-3.0-or-later
"""Peers and their outcomes, shared by `fieldcoord sync` and the app's Sync page (sync layer).

What a peer has acknowledged (for pending counts), the sync log, adding and checking peers,
syncing the peers of a database, and bundles to and from files. The functions that run on a
worker thread open their own Store from a database path (`sync_peers`, `probe_peers`,
`export_bundle_file`, `import_bundle_file`); the others take the calling thread's Store.
"""
from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ..core import kinds as K
from ..core.errors import Cancelled, FieldcoordError, ValidationError
from ..core.failures import DiskFull
from ..core.validate import may_see
from ..store import Store
from ..store.exchange import visible_vector
from . import protocol

ACK_KEY = "peer-ack:"          # meta key prefix: the vector a peer acknowledged at its last sync
PROBE_TIMEOUT = 3.0            # seconds for a reachability check
_PEER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


# ---------------------------------------------------------------------------------- operations
@dataclass
class PeerInfo:
    """A peer as the Sync page lists it."""
    name: str
    url: str
    agency: str | None
    last_sync: str | None
    last_error: str | None
    pending: int


def _acknowledged(store, name: str) -> dict:
    row = store.conn.execute("SELECT value FROM meta WHERE key = ?", (ACK_KEY + name,)).fetchone()
    if not row:
        return {}
    try:
        return protocol.decode_vector(json.loads(row[0]))
    except (ValueError, protocol.ProtocolError):
        return {}


def _lacks(mine: dict, acked: dict, agency: str | None) -> dict:
    """{stream: changes} this replica holds that a peer of `agency` may see and has not acked."""
    return {k: seq - acked.get(k, 0) for k, seq in mine.items()
            if seq > acked.get(k, 0) and (agency is None or may_see(agency, k[1]))}


def pending_changes(store) -> tuple[int, dict[str, int]]:
    """(changes some peer still lacks, {peer: changes it lacks}).

    A peer's acknowledged vector is recorded at the end of each successful sync (what it held
    plus what was sent to it); a change counts as pending for a peer when the peer's agency may
    see it and the peer has not acknowledged it. Before a peer's first sync everything it may
    see is pending. With no peers, the changes made on this replica count: nobody has them yet.
    """
    mine = visible_vector(store.conn, None)
    peers = store.conn.execute("SELECT name, agency FROM peer ORDER BY name").fetchall()
    if not peers:
        own = store.site_uuid
        return sum(seq for (origin, _), seq in mine.items() if origin == own), {}
    per_stream: dict = {}
    per_peer = {}
    for name, agency in peers:
        lacks = _lacks(mine, _acknowledged(store, name), agency)
        per_peer[name] = sum(lacks.values())
        for k, n in lacks.items():
            per_stream[k] = max(per_stream.get(k, 0), n)
    return sum(per_stream.values()), per_peer


def conflict_count(store) -> int:
    """Open conflicts as the Conflicts page shows them: one per record field (one per record
    for edits made while it was deleted)."""
    return store.conn.execute("SELECT count(*) FROM (SELECT DISTINCT tbl, rid, col FROM conflict "
                              "WHERE state = 'open')").fetchone()[0]


def list_peers(store, pending: dict[str, int] | None = None) -> list[PeerInfo]:
    """Peers with their last sync and pending changes (`pending` as pending_changes gives)."""
    if pending is None:
        _, pending = pending_changes(store)
    return [PeerInfo(n, u, a, last, err, pending.get(n, 0)) for n, u, a, last, err in
            store.conn.execute("SELECT name, url, agency, last_sync, last_error FROM peer "
                               "ORDER BY name")]


def sync_events(store, limit: int = 500) -> list[tuple]:
    """The newest entries of the sync log: (at, peer, kind, message, what it concerns)."""
    out = []
    for at, peer, kind, message, detail in store.conn.execute(
            "SELECT at, peer, kind, message, detail FROM sync_event ORDER BY id DESC LIMIT ?",
            (limit,)):
        out.append((at, peer or "", kind, message, _concerns(store, detail)))
    return out


def _concerns(store, detail: str | None) -> str:
    """A readable name for what a sync event's detail points at (a record, a replica)."""
    if not detail:
        return ""
    try:
        d = json.loads(detail)
    except ValueError:
        return detail
    if isinstance(d, list) and len(d) == 2:
        return record_label(store, d[0], d[1])
    if isinstance(d, str):
        return replica_label(store, d)
    return str(d)


def record_label(store, table: str, rid: str) -> str:
    """"contact ‘Dana Whitfield’" for a record, or its kind and id when it is not here."""
    kind = K.KIND_BY_TABLE.get(table)
    if kind is None:
        return f"{table} {rid}"
    try:
        title = store.get(rid, kind.name).title
    except FieldcoordError:
        title = ""
    label = kind.label or kind.name
    return f"{label} ‘{title}’" if title else f"{label} {rid[:8]}"


def replica_label(store, site: str) -> str:
    """"laptop-2 of CCF" for a replica's UUID (its first 8 characters when unknown)."""
    row = store.conn.execute("SELECT agency, device FROM site WHERE uuid = ?", (site,)).fetchone()
    if not row or not (row[0] or row[1]):
        return f"replica {site[:8]}"
    agency, device = row
    return f"{device or 'replica ' + site[:8]}" + (f" of {agency}" if agency else "")


def check_peer_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError("give the peer a short name, such as hub", field="name")
    if not _PEER_NAME.match(name):
        raise ValidationError(f"'{name}': use letters, digits, '-', '_' or '.' (up to 40)",
                              field="name")
    return name


def check_peer_url(url: str) -> str:
    """The peer's address without a trailing slash; ValidationError(field="url") otherwise."""
    url = (url or "").strip()
    if not url:
        raise ValidationError("give the hub's address, such as https://hub.example:8765",
                              field="url")
    if any(c.isspace() for c in url):
        raise ValidationError("the address may not contain spaces", field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise ValidationError(f"'{url}' is not a valid address ({e})", field="url") from None
    if parts.scheme not in ("http", "https"):
        raise ValidationError(f"'{url}' is not an http:// or https:// address", field="url")
    if not parts.hostname:
        raise ValidationError(f"'{url}' names no host", field="url")
    if parts.query or parts.fragment:
        raise ValidationError("the address takes no ?query or #fragment", field="url")
    if port == 0:
        raise ValidationError("port 0 is not a port a hub listens on", field="url")
    return url.rstrip("/")


def keyring_problem(peer: str = "hub", allow_plaintext: bool = False, store=None
                    ) -> str | None:
    """Why a token cannot be kept safely on this machine, where it would be kept, and what to
    do; None if it can (or the user agreed, `allow_plaintext`). Without any keyring the token
    goes beside the replica's keys in `store` (credentials.token_home)."""
    from . import credentials
    env = credentials.env_name(peer or "hub")
    if not credentials.has_keyring():
        where = credentials.token_home(store) if store is not None else "database"
        if where == "file" or allow_plaintext:
            return None
        path = getattr(store, "path", None)
        return ("No keyring is available on this machine to keep the token safely (on Linux, "
                "install and unlock GNOME Keyring or KWallet, then enter the token again). You "
                "can still enter it: it is then kept unencrypted in the database file"
                + (f" {path}" if path else "") + ", beside this device's signing key, so anyone "
                "who copies that file can sync as this device. Or leave it empty and start "
                f"fieldcoord with the token in the environment variable {env}.")
    plain = credentials.plaintext_backend()
    if plain and not allow_plaintext:
        return (f"The only keyring on this machine ({plain}) keeps tokens unencrypted in a file "
                "that anyone who can read your files can copy. Install and unlock GNOME Keyring "
                "or KWallet and enter the token again, or start fieldcoord with the token in "
                f"the environment variable {env}; or accept the risk and store it anyway.")
    return None


def keyring_is_plaintext() -> bool:
    """Whether the keyring tokens would go to keeps them unencrypted in a file."""
    from . import credentials
    return credentials.plaintext_backend() is not None


def check_trust_settings(url: str, tls_ca: str | None, tls_pin: str | None
                         ) -> tuple[str | None, str | None]:
    """(CA bundle, pin) checked and normalised for a peer at `url`; empty ones become None.
    ValidationError(field="ca" or "pin") for a damaged CA, a malformed pin, both at once, or
    either for an address that is not https://."""
    from . import tls
    tls_ca = tls.ca_bundle(tls_ca) if (tls_ca or "").strip() else None
    tls_pin = tls.normalize_pin(tls_pin) if (tls_pin or "").strip() else None
    if tls_ca and tls_pin:
        raise ValidationError("give a CA file or a pinned fingerprint, not both", field="pin")
    if (tls_ca or tls_pin) and urlsplit(url).scheme != "https":
        raise ValidationError("a CA file or a pinned fingerprint is for https:// addresses",
                              field="ca" if tls_ca else "pin")
    return tls_ca, tls_pin


def peer_trust(store, name: str) -> tuple[str | None, str | None]:
    """(tls_ca, tls_pin) stored for a peer: how its certificate is trusted."""
    row = store.conn.execute("SELECT tls_ca, tls_pin FROM peer WHERE name = ?",
                             (name,)).fetchone()
    return (row[0], row[1]) if row else (None, None)


def probe_targets(store) -> dict[str, tuple[str, str | None, str | None]]:
    """{peer: (url, tls_ca, tls_pin)}, for probe_peers."""
    return {n: (u, ca, pin) for n, u, ca, pin in
            store.conn.execute("SELECT name, url, tls_ca, tls_pin FROM peer ORDER BY name")}


@dataclass
class TrustCheck:
    """What checking a hub's certificate found: "trusted" (or plain http), "unreachable", or
    "refused" with the reason and the certificate it presented (when it could be read)."""
    state: str
    message: str = ""
    certificate: object = None          # tls.Certificate


def check_trust(name: str, url: str, tls_ca: str | None = None, tls_pin: str | None = None,
                timeout: float = PROBE_TIMEOUT) -> TrustCheck:
    """Whether the hub at `url` presents a certificate trusted as its sync would trust it (GET
    /v1/health, no token sent). Blocking: run it on a worker thread in the app."""
    import requests

    from . import tls
    if urlsplit(url).scheme != "https":
        return TrustCheck("trusted")
    session = requests.Session()
    session.mount("https://", tls.adapter(tls_ca, tls_pin))
    try:
        session.get(url.rstrip("/") + "/v1/health", timeout=timeout)
    except requests.exceptions.SSLError as e:
        message, cert = tls.refusal(name, url.rstrip("/"), tls_ca, tls_pin, e)
        return TrustCheck("refused", message, cert)
    except requests.RequestException:
        return TrustCheck("unreachable")
    finally:
        session.close()
    return TrustCheck("trusted")


def save_peer(store, name: str, url: str, token: str, adding: bool, tls_ca: str | None = None,
              tls_pin: str | None = None, allow_plaintext: bool = False) -> str:
    """Add a peer or change it; a token given goes to the OS keyring first, so a keyring failure
    writes nothing. With no keyring at all, or only one that keeps tokens unencrypted in a file
    (unless `allow_plaintext`), the peer is saved without a token. `tls_ca` (PEM text) and
    `tls_pin` (a SHA-256 fingerprint) replace how its certificate is trusted; none: the
    computer's CAs. Returns the peer's name."""
    from . import credentials
    name = check_peer_name(name)
    url = check_peer_url(url)
    tls_ca, tls_pin = check_trust_settings(url, tls_ca, tls_pin)
    token = (token or "").strip()
    exists = store.conn.execute("SELECT url FROM peer WHERE name = ?", (name,)).fetchone()
    if adding and exists:
        raise ValidationError(f"there is already a peer named {name}", field="name")
    if not adding and not exists:
        raise ValidationError(f"no peer named {name}", field="name")
    no_keyring = keyring_problem(name, allow_plaintext, store)
    if adding and not token and not no_keyring:
        raise ValidationError("paste the device token the hub's administrator gave you",
                              field="token")
    if token and no_keyring:
        raise ValidationError("this machine cannot keep the token encrypted: agree to keep it "
                              "unencrypted, or leave it empty and give it at each sync in "
                              f"{credentials.env_name(name)}", field="token")
    if token:
        credentials.store_token(store.site_uuid, name, token, allow_plaintext=allow_plaintext,
                                store=store)
    with store.transaction():
        store.conn.execute("INSERT INTO peer (name, url, tls_ca, tls_pin) VALUES (?, ?, ?, ?) "
                           "ON CONFLICT (name) DO UPDATE SET url = excluded.url, "
                           "tls_ca = excluded.tls_ca, tls_pin = excluded.tls_pin",
                           (name, url, tls_ca, tls_pin))
        if exists and exists[0] != url:     # another hub may hold less: count from scratch
            store.conn.execute("DELETE FROM meta WHERE key = ?", (ACK_KEY + name,))
    return name


def remove_peer(store, name: str) -> None:
    """Forget a peer, what it acknowledged, and its token."""
    from . import credentials
    with store.transaction():
        store.conn.execute("DELETE FROM peer WHERE name = ?", (name,))
        store.conn.execute("DELETE FROM meta WHERE key = ?", (ACK_KEY + name,))
    credentials.forget_token(store.site_uuid, name, store)


def probe_peers(peers: dict[str, str | tuple], timeout: float = PROBE_TIMEOUT,
                cancel: threading.Event | None = None) -> dict[str, bool]:
    """{peer: reachable} by GET /v1/health on each (no token, no retries). `peers` maps names
    to URLs, or to (url, tls_ca, tls_pin) as probe_targets gives: the certificate is then
    trusted as the peer's sync trusts it, and a peer whose certificate is refused does not
    count as reachable. Blocking."""
    import requests

    from . import tls
    out = {}
    for name, target in peers.items():
        if cancel is not None and cancel.is_set():
            break
        url, tls_ca, tls_pin = (target, None, None) if isinstance(target, str) else target
        with requests.Session() as session:
            session.mount("https://", tls.adapter(tls_ca, tls_pin))
            try:
                r = session.get(url.rstrip("/") + "/v1/health", timeout=timeout)
                out[name] = r.status_code == 200
            except requests.RequestException:
                out[name] = False
    return out


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


def record_failure(store, name: str, message: str) -> None:
    with store.transaction():
        store.conn.execute("UPDATE peer SET last_error = ? WHERE name = ?", (message, name))
        log_event(store, name, "error", message)


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


def log_event(store, peer: str | None, kind: str, message: str, detail=None) -> None:
    """Add a line to the sync log (inside the caller's transaction)."""
    store.conn.execute("INSERT INTO sync_event (at, peer, kind, message, detail) VALUES "
                       "(strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?, ?, ?, ?)",
                       (peer, kind, message, json.dumps(detail) if detail is not None else None))
