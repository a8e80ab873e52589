# SPDX-License-Identifier: GPL-3.0-or-later
"""Peers, shared by `fieldcoord peer`/`sync` and the app's Sync page (sync layer).

Adding and checking peers, their tokens' keyring, reachability, and what each peer has
acknowledged (for pending counts). `probe_peers` runs on a worker thread; the others take the
calling thread's Store. Runs of a sync or a bundle are in sync/runs.py, the sync log in
sync/synclog.py.
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..core.errors import ValidationError
from ..core.validate import may_see
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


def list_peers(store, pending: dict[str, int] | None = None) -> list[PeerInfo]:
    """Peers with their last sync and pending changes (`pending` as pending_changes gives)."""
    if pending is None:
        _, pending = pending_changes(store)
    return [PeerInfo(n, u, a, last, err, pending.get(n, 0)) for n, u, a, last, err in
            store.conn.execute("SELECT name, url, agency, last_sync, last_error FROM peer "
                               "ORDER BY name")]


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
