# SPDX-License-Identifier: GPL-3.0-or-later
"""Keys exchanged when a sync starts (sync layer). See docs/security.md.

The caller's `hello` carries its device key, its certificate and its agency's key; the answer
carries the peer's agency key, the peer's own certificate, the partner keys the peer's agency
vouches for (to replicas of that agency only), and, when a replica of the peer's own agency
presents a device token of that agency to a key holder, the certificate that enrols it.
"""
from __future__ import annotations

from ..core.errors import FieldcoordError
from ..store import identity, trust
from ..store.identity import KeyChanged, UntrustedKey

__all__ = ["KeyChanged", "UntrustedKey", "offer", "answer", "take_answer"]


def offer(store) -> dict:
    """What a caller says of its keys in `hello`."""
    conn = store.conn
    ak = identity.home_key(conn, store.home)
    return {"key": trust.b64(trust.public(store.device_seed())),
            "cert": trust.b64(identity.own_cert(conn, store.site_uuid)),
            "agency_key": trust.b64(ak),
            "revocations": [trust.b64(b) for b in identity.revocations(conn)]}


def _revocations(store, message: dict) -> None:
    blobs = []
    held: set[bytes] | None = None
    for raw in message.get("revocations") or []:
        try:
            blob = trust.unb64(raw)
        except trust.TrustError:
            continue
        if held is None:
            held = set(identity.revocations(store.conn))
        if blob not in held:                # (one held here already: nothing to write)
            blobs.append(blob)
    if blobs:
        identity.take_revocations(store, blobs[:10_000])


def _bytes(message: dict, name: str, size: int | None = None) -> bytes | None:
    raw = message.get(name)
    if raw is None:
        return None
    try:
        return trust.unb64(raw, size)
    except trust.TrustError:
        from .protocol import ProtocolError
        raise ProtocolError(f"'{name}' is not a key or certificate") from None


def answer(store, caller_site: str, caller_agency: str, message: dict, token=None) -> dict:
    """The peer's side of `hello`: take the caller's certificate (verified against the keys
    trusted here), enrol it when `token` is a device token of this replica's own agency and this
    replica holds the agency's key, and say what the caller needs to verify what it receives."""
    conn = store.conn
    key = _bytes(message, "key", 32)
    cert = _bytes(message, "cert")
    their_agency_key = _bytes(message, "agency_key", 32)
    _revocations(store, message)
    home_key = identity.home_key(conn, store.home)
    out: dict = {"agency_key": trust.b64(home_key),
                 "revocations": [trust.b64(b) for b in identity.revocations(conn)],
                 "cert": trust.b64(identity.own_cert(conn, store.site_uuid)),
                 "box_key": trust.b64(identity.box_statement(conn, store.home)),
                 "endorsements": [], "enrolled": None}
    enrols = token is not None and token.agency == store.home and key is not None \
        and store.agency_seed() is not None
    if _settled(store, caller_site, caller_agency, key, cert, their_agency_key, enrols,
                home_key):
        # a device that says hello again, as it does at every sync: nothing to write, so no
        # write lock is taken (on a regional hub, writers of all its processes take turns)
        if enrols:
            out["enrolled"], out["enrol_error"] = _enrol(store, token, caller_site, key,
                                                         home_key)
        return _own_agency(store, conn, caller_site, caller_agency, key, out)
    with store.transaction():
        if their_agency_key is not None and caller_agency != store.home:
            try:
                identity.offer_key(store, caller_agency, their_agency_key)
            except KeyChanged:
                pass                    # not trusted: its certificates stay unverified
        if cert is not None and identity.install_cert(conn, cert) is None:
            identity.keep_cert(conn, caller_site, cert)
        if enrols:
            out["enrolled"], out["enrol_error"] = _enrol(store, token, caller_site, key)
    return _own_agency(store, conn, caller_site, caller_agency, key, out)


def _own_agency(store, conn, caller_site: str, caller_agency: str, key: bytes | None,
                out: dict) -> dict:
    """What a device of this replica's own agency also receives: endorsements, partners'
    sealing keys, and the agency's sealing key when its key certified the device."""
    if caller_agency == store.home:
        out["endorsements"] = [trust.b64(b) for b in identity.endorsements(conn)]
        out["box_keys"] = [[c, trust.b64(bytes(b))] for c, b in conn.execute(
            "SELECT code, box FROM agency_key WHERE box IS NOT NULL AND trust != 'home'")]
        # the agency's sealing key, to a device its key certified
        dev_key, dev_agency = identity.site_key(conn, caller_site)
        if dev_key is not None and dev_agency == store.home and dev_key == key:
            out["box"] = trust.b64(identity.seal_box_seed_for(store, dev_key))
    return out


def _settled(store, caller_site: str, caller_agency: str, key: bytes | None,
             cert: bytes | None, their_agency_key: bytes | None, enrols: bool,
             home_key: bytes | None) -> bool:
    """Whether answering this hello writes nothing: the caller's agency key is stored already
    (or unknown, or refused), its certificate is the one installed and verified, and a device
    to enrol holds a certificate of this key that verifies (so _enrol only reads)."""
    conn = store.conn
    if their_agency_key is not None and caller_agency != store.home:
        row = conn.execute("SELECT fingerprint, key FROM agency_key WHERE code = ?",
                           (caller_agency,)).fetchone()
        if row is not None and row[1] is None \
                and row[0] == trust.fingerprint(their_agency_key):
            return False                # a confirmed fingerprint, completed with the key
    site = conn.execute("SELECT key, cert, verified FROM site WHERE uuid = ?",
                        (caller_site,)).fetchone()
    if cert is not None and (site is None or site[1] is None or bytes(site[1]) != cert
                             or site[2] != 1):
        return False
    if enrols:
        if site is None or site[0] is None or bytes(site[0]) != key or site[1] is None \
                or home_key is None or trust.read_cert(bytes(site[1]), home_key) is None:
            return False                # (_enrol writes only when it certifies the device)
    return True


def _enrol(store, token, site: str, key: bytes, home_key: bytes | None = None
           ) -> tuple[str | None, str | None]:
    """A certificate for the caller's device key; a token enrols one device only. (`home_key`:
    the agency's key, when the caller has read it.)"""
    conn = store.conn
    if home_key is None:
        home_key = identity.home_key(conn, store.home)
    bound = conn.execute("SELECT device_key, site FROM device_token WHERE id = ?",
                         (token.id,)).fetchone() if token.id is not None else None
    if bound and bound[0] is not None and (bytes(bound[0]) != key or bound[1] != site):
        return None, (f"device token {token.id} already enrolled another device; ask "
                      f"{store.home}'s administrator for a token of this device")
    row = conn.execute("SELECT key, cert FROM site WHERE uuid = ?", (site,)).fetchone()
    if row and row[0] is not None and bytes(row[0]) != key:
        return None, "this replica's id is already enrolled with another key"
    if row and row[1] is not None and trust.read_cert(bytes(row[1]), home_key) is not None:
        return trust.b64(bytes(row[1])), None
    if token.id is not None:
        conn.execute("UPDATE device_token SET device_key = ?, site = ? WHERE id = ?",
                     (key, site, token.id))
    cert = trust.issue_cert(store.agency_seed(), site, store.home, token.device, key)
    identity.install_cert(conn, cert)
    return trust.b64(cert), None


def take_answer(store, agency: str, site: str, answer: dict,
                expected: str | None = None) -> list[str]:
    """The caller's side: trust the peer's agency key (own agency: through enrolment; a
    partner: a key confirmed here, or `expected`, the fingerprint a user confirmed for this
    peer), keep the peer's certificate and the partner keys its agency vouches for. Raises
    UntrustedKey or KeyChanged. Returns warnings in words."""
    conn = store.conn
    key = _bytes(answer, "agency_key", 32)
    if key is None:
        raise FieldcoordError(f"the peer of agency {agency} sent no agency key: it runs a "
                              "fieldcoord without signed changes; upgrade it")
    fp = trust.fingerprint(key)
    if expected and trust.parse_fingerprint(expected) != fp:
        raise KeyChanged(f"agency {agency} presented a key with fingerprint {fp}, not the "
                         f"{trust.parse_fingerprint(expected)} confirmed for this peer: "
                         "refusing to sync. Ask its administrator whether the key was replaced")
    warnings: list[str] = []
    if agency == store.home:
        enrolled = _bytes(answer, "enrolled")
        current = identity.home_key(conn, store.home)
        if enrolled is not None:
            if current != key and not expected:
                warnings.append(f"this device now trusts {agency}'s key {fp}, presented by the "
                                "hub that certified it: compare it with the fingerprint your "
                                "hub's administrator gives you (fieldcoord keys)")
            identity.adopt(store, key, enrolled, confirmed=bool(expected))
        elif current != key:
            if current is None:
                raise FieldcoordError(
                    answer.get("enrol_error") or
                    f"this replica is not enrolled with {agency}'s key yet: sync with "
                    f"{agency}'s hub using a device token of {agency}")
            raise KeyChanged(f"the peer presents a key for {agency} with fingerprint {fp}, "
                             f"but this replica trusts {trust.fingerprint(current)}: refusing "
                             "to sync")
        if answer.get("enrol_error"):
            warnings.append(answer["enrol_error"])
    elif identity.offer_key(store, agency, key) == "unknown":
        if not expected:
            raise UntrustedKey(agency, fp)
        identity.confirm(store, agency, key)
    cert = _bytes(answer, "cert")
    with store.transaction():
        if cert is not None and identity.install_cert(conn, cert) is None:
            identity.keep_cert(conn, site, cert)
    identity.take_box_statement(store, agency, _bytes(answer, "box_key"))
    _revocations(store, answer)
    if agency == store.home:
        sealed = _bytes(answer, "box")
        if sealed is not None and not identity.take_box_seed(store, sealed):
            warnings.append(f"the hub sent {agency}'s key for sealed bundles in a form this "
                            "replica could not check; ignored")
        for item in answer.get("box_keys") or []:
            try:
                code, blob = item
                identity.take_box_statement(store, code, trust.unb64(blob))
            except (ValueError, TypeError, trust.TrustError):
                continue
    if agency == store.home:
        blobs = []
        for b in answer.get("endorsements") or []:
            try:
                blobs.append(trust.unb64(b))
            except trust.TrustError:
                warnings.append("a partner key vouched for by the hub is not readable")
        warnings += identity.take_endorsements(store, blobs)
    return warnings
