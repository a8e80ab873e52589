# SPDX-License-Identifier: GPL-3.0-or-later
"""A replica's identity: its device key and certificate, its agency's key, the partner keys it
trusts, and the hash chains of the streams it holds (store layer). See docs/security.md.

A replica made with `init` is its agency's first: it creates the agency's key and holds it (the
*key holder*, usually the agency's hub), and certifies its own device key. Other replicas of the
agency are enrolled by the key holder: their device key gets a certificate signed by the agency's
key (over sync, with a device token of the agency; or `enroll` in-process), and they adopt the
agency's key. Partner agencies' keys are trusted once a user confirmed their fingerprint here
('confirmed'), or when the home agency's key vouches for them ('endorsed').
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

from ..core.errors import FieldcoordError, ValidationError
from . import byref, keys, trust
from .records import Cells, Versions

if TYPE_CHECKING:
    from .store import Store

# uuid_of(site number): that site's UUID, or None for a site not known here.
UuidOf = Callable[[int], str | None]
# A change as stored: (tx, tbl, rid, hlc, site number, cells as JSON text).
StoredChange = tuple[int, str, str, int, int, str]


class KeyChanged(FieldcoordError):
    """An agency presented a key other than the one this replica trusts for it."""


class UntrustedKey(FieldcoordError):
    """An agency's key that no user here has confirmed yet."""

    def __init__(self, agency: str, fingerprint: str, message: str | None = None):
        super().__init__(message or (
            f"the key of agency {agency} is not confirmed on this replica; its fingerprint is "
            f"{fingerprint}. Check it with {agency}'s administrator (over the phone), then "
            f"confirm it: fieldcoord keys trust {agency} '{fingerprint}'"))
        self.agency = agency
        self.fingerprint = fingerprint


# ---------------------------------------------------------------------- the chains
def wire_cells_text(cells_text: str, uuid_of: UuidOf) -> str:
    """The compact JSON of a stored entry's cells in their wire form (site numbers as UUIDs),
    which is what its digest covers. `uuid_of(ord)` names a site."""
    from ..core import compact
    return compact.dumps(wire_cells(json.loads(cells_text), uuid_of))


def wire_cells(cells: Cells, uuid_of: UuidOf) -> Cells:
    """Cells with the site numbers of versions replaced by site UUIDs."""
    out: Cells = {}
    for col, c in cells.items():
        if col == "_seen":
            out[col] = [{k: [v[0], uuid_of(v[1]) if isinstance(v[1], int) else v[1]]
                         for k, v in c[0].items()}]
            continue
        if len(c) > 2:
            c = list(c)
            for i in (2, 4):
                if len(c) > i and isinstance(c[i], int):
                    c[i] = uuid_of(c[i])
            if len(c) > 5 and c[5]:
                c[5] = [[h, uuid_of(s) if isinstance(s, int) else s] for h, s in c[5]]
        out[col] = c
    return out


def stored_digest(row: StoredChange, uuid_of: UuidOf) -> bytes:
    """The digest of a stored change row (tx, tbl, rid, hlc, site ord, cells)."""
    tx, tbl, rid, hlc, site, cells = row
    from ..core import compact
    parsed = json.loads(cells)
    if "_d" in parsed:
        return bytes.fromhex(parsed["_d"][0])
    return trust.entry_digest(tx, tbl, rid, hlc, uuid_of(site),
                              compact.dumps(wire_cells(parsed, uuid_of)))


def _uuid_map(conn: sqlite3.Connection) -> dict[int, str]:
    return dict(conn.execute("SELECT ord, uuid FROM site"))


def rebuild_chains(conn: sqlite3.Connection,
                   sign: Callable[[int, int, int, bytes], None] | None = None) -> None:
    """Compute the chain hash of every stream from its entries. `sign(stream, seq, hash)` is
    called every trust.HEAD_EVERY entries of each stream and at its end (to sign the streams
    this replica wrote)."""
    uuids = _uuid_map(conn)
    for sid, origin in conn.execute("SELECT id, origin FROM stream").fetchall():
        h, seq = trust.ZERO, 0
        rows = conn.execute("SELECT seq, tx, tbl, rid, hlc, site, cells FROM change "
                            "WHERE stream = ? ORDER BY seq", (sid,)).fetchall()
        texts = byref.texts(conn, [(r[5], r[4], r[2], r[3], r[6]) for r in rows])
        for (seq, tx, tbl, rid, hlc, site, _), cells in zip(rows, texts):
            h = trust.chain(h, stored_digest((tx, tbl, rid, hlc, site, cells), uuids.get))
            if sign is not None and seq % trust.HEAD_EVERY == 0:
                sign(sid, origin, seq, h)
        conn.execute("UPDATE stream SET hash = ? WHERE id = ?", (h, sid))
        if sign is not None and seq:
            sign(sid, origin, seq, h)


# ---------------------------------------------------------------------- identity
def create(conn: sqlite3.Connection, db: Path, site: str, home: str, device: str,
           founder: bool = True) -> str:
    """Make this replica's keys (inside the caller's transaction); returns where they are."""
    where = keys.choose()
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('keystore', ?)", (where,))
    seed = trust.new_seed()
    keys.save(conn, db, site, "device", seed, where)
    conn.execute("UPDATE site SET key = ? WHERE uuid = ?", (trust.public(seed), site))
    if founder:
        agency_seed = trust.new_seed()
        keys.save(conn, db, site, "agency", agency_seed, where)
        agency_key = trust.public(agency_seed)
        _set_home_key(conn, home, agency_key)
        cert = trust.issue_cert(agency_seed, site, home, device, trust.public(seed))
        conn.execute("UPDATE site SET cert = ?, verified = 1, agency = ? WHERE uuid = ?",
                     (cert, home, site))
        box = trust.new_box_seed()
        keys.save(conn, db, site, "box", box, where)
        conn.execute("UPDATE agency_key SET box = ? WHERE code = ?",
                     (trust.box_statement(agency_seed, home, trust.box_public(box)), home))
    return where


def _set_home_key(conn: sqlite3.Connection, home: str, key: bytes) -> None:
    conn.execute("INSERT OR REPLACE INTO agency_key (code, fingerprint, key, trust, at) "
                 "VALUES (?, ?, ?, 'home', ?)", (home, trust.fingerprint(key), key,
                                                   trust.now_iso()))


def upgrade(store: Store) -> None:
    """Give a database made before keys existed its identity (as its agency's first replica),
    the chain hashes of the streams it holds, and signed heads of its own streams."""
    conn = store.conn
    with store.transaction():
        create(conn, store.path, store.site_uuid, store.home, store.device, founder=True)
        store.keystore = conn.execute("SELECT value FROM meta WHERE key = 'keystore'"
                                      ).fetchone()[0]
        conn.execute("UPDATE site SET agency = NULL, verified = 0 WHERE ord != ?",
                     (store.self_ord,))
        seed = store.device_seed()
        audiences = dict(conn.execute("SELECT id, audience FROM stream"))

        def sign(sid: int, origin: int, seq: int, h: bytes) -> None:
            # its own streams, as they stand: every 100 entries and at their end
            if origin == store.self_ord:
                from .changelog import store_head
                store_head(conn, sid, seq, h, trust.sign_head(seed, store.site_uuid,
                                                             audiences[sid], seq, h))
        rebuild_chains(conn, sign)


def home_key(conn: sqlite3.Connection, home: str) -> bytes | None:
    row = conn.execute("SELECT key FROM agency_key WHERE code = ? AND trust = 'home'",
                       (home,)).fetchone()
    return bytes(row[0]) if row and row[0] else None


def trusted_key(conn: sqlite3.Connection, code: str) -> bytes | None:
    row = conn.execute("SELECT key FROM agency_key WHERE code = ?", (code,)).fetchone()
    return bytes(row[0]) if row and row[0] else None


def trusted_keys(conn: sqlite3.Connection) -> dict[str, bytes]:
    return {c: bytes(k) for c, k in conn.execute(
        "SELECT code, key FROM agency_key WHERE key IS NOT NULL")}


def own_cert(conn: sqlite3.Connection, site: str) -> bytes | None:
    row = conn.execute("SELECT cert FROM site WHERE uuid = ?", (site,)).fetchone()
    return bytes(row[0]) if row and row[0] else None


def is_key_holder(store: Store) -> bool:
    return store.agency_seed() is not None


def confirm(store: Store, code: str, key: bytes | None = None, fingerprint: str | None = None,
            by: str = "") -> str:
    """Trust agency `code`'s key: the key itself, or a fingerprint a user read out (the key is
    then taken when it first arrives). A key holder also vouches for it to its own devices.
    Refuses to replace a different key already trusted. Returns the fingerprint."""
    code = code.strip().upper()
    if code == store.home:
        raise ValidationError(f"{code} is this replica's own agency; its key comes with "
                              "enrolment")
    try:
        fp = trust.fingerprint(key) if key is not None else trust.parse_fingerprint(fingerprint)
    except trust.TrustError as e:
        raise ValidationError(str(e), "fingerprint") from None
    if fingerprint is not None and key is not None and trust.parse_fingerprint(fingerprint) != fp:
        raise KeyChanged(f"the key of agency {code} has fingerprint {fp}, not "
                         f"{trust.parse_fingerprint(fingerprint)}")
    conn = store.conn
    with store.transaction():
        row = conn.execute("SELECT fingerprint, key FROM agency_key WHERE code = ?",
                           (code,)).fetchone()
        if row and row[0] != fp:
            raise KeyChanged(f"agency {code} already has a confirmed key with fingerprint "
                             f"{row[0]}; refusing {fp}. If {code} really replaced its key, "
                             f"remove the old one first: fieldcoord keys forget {code}")
        if row and row[1] and key is None:
            key = bytes(row[1])
        endorsement = None
        seed = store.agency_seed()
        if key is not None and seed is not None:
            endorsement = trust.endorse(seed, store.home, code, key)
        box = box_statement(conn, code)
        conn.execute("INSERT OR REPLACE INTO agency_key (code, fingerprint, key, trust, "
                     "endorsement, at, box) VALUES (?, ?, ?, 'confirmed', ?, ?, ?)",
                     (code, fp, key, endorsement, trust.now_iso(), box))
        if key is not None:
            verify_sites(conn)
    return fp


def offer_key(store: Store, code: str, key: bytes) -> str:
    """A key that arrived for agency `code`: 'trusted' when it is the one trusted here (a
    fingerprint confirmed earlier is completed with it), 'unknown' when none is, and KeyChanged
    when another is."""
    conn = store.conn
    row = conn.execute("SELECT fingerprint, key FROM agency_key WHERE code = ?",
                       (code,)).fetchone()
    fp = trust.fingerprint(key)
    if row is None:
        return "unknown"
    if row[0] != fp:
        raise KeyChanged(f"agency {code} presented a key with fingerprint {fp}, but the key "
                         f"confirmed here has {row[0]}: refusing to go on. Ask {code}'s "
                         "administrator whether the key was replaced")
    if row[1] is None:
        seed = store.agency_seed()
        with store.transaction():
            conn.execute("UPDATE agency_key SET key = ?, endorsement = ? WHERE code = ?",
                         (key, trust.endorse(seed, store.home, code, key) if seed else None,
                          code))
            verify_sites(conn)
    return "trusted"


def endorsements(conn: sqlite3.Connection) -> list[bytes]:
    return [bytes(r[0]) for r in conn.execute(
        "SELECT endorsement FROM agency_key WHERE endorsement IS NOT NULL")]


def take_endorsements(store: Store, blobs: list[bytes]) -> list[str]:
    """Partner keys the home agency vouches for; returns problems (a key differing from one
    confirmed here) in words. Keys confirmed here are kept."""
    conn = store.conn
    hk = home_key(conn, store.home)
    problems: list[str] = []
    if hk is None:
        return problems
    with store.transaction():
        for blob in blobs:
            got = trust.read_endorsement(blob, hk, store.home)
            if got is None:
                problems.append("an endorsement of a partner key is not signed by "
                                f"{store.home}'s key; ignored")
                continue
            code, key = got
            if code == store.home:
                continue
            row = conn.execute("SELECT fingerprint, key, trust FROM agency_key WHERE code = ?",
                               (code,)).fetchone()
            fp = trust.fingerprint(key)
            if row and row[0] != fp:
                problems.append(f"{store.home} vouches for a key of {code} ({fp}) other than "
                                f"the one confirmed here ({row[0]}); kept the one here")
                continue
            if row and row[1]:
                continue
            conn.execute("INSERT OR REPLACE INTO agency_key (code, fingerprint, key, trust, "
                         "endorsement, at) VALUES (?, ?, ?, 'endorsed', ?, ?)",
                         (code, fp, key, blob, trust.now_iso()))
        verify_sites(conn)
    return problems


# ---------------------------------------------------------------------- certificates
def install_cert(conn: sqlite3.Connection, blob: bytes,
                 keys_by_code: dict[str, bytes] | None = None) -> trust.Cert | None:
    """Check a device certificate against the trusted key of the agency it names and record
    the site as of that agency. None (and nothing written) when it does not verify, or when
    the site is known with another key."""
    claims = trust.peek_cert(blob)
    if claims is None:
        return None
    ak = (keys_by_code or {}).get(claims["agency"]) if keys_by_code is not None else \
        trusted_key(conn, claims["agency"])
    if ak is None:
        return None
    cert = trust.read_cert(blob, ak)
    if cert is None:
        return None
    row = conn.execute("SELECT ord, key, verified FROM site WHERE uuid = ?",
                       (cert.site,)).fetchone()
    if row and row[1] is not None and bytes(row[1]) != cert.key:
        return None                          # a site never changes its key
    if row is None:
        conn.execute("INSERT INTO site (uuid, agency, device, key, cert, verified) "
                     "VALUES (?, ?, ?, ?, ?, 1)",
                     (cert.site, cert.agency, cert.device, cert.key, cert.blob))
    else:
        conn.execute("UPDATE site SET agency = ?, device = ?, key = ?, cert = ?, verified = 1 "
                     "WHERE ord = ?", (cert.agency, cert.device, cert.key, cert.blob, row[0]))
    return cert


def verify_sites(conn: sqlite3.Connection) -> int:
    """Verify certificates kept from before their agency's key was trusted; returns how many
    sites became verified."""
    keys_by_code = trusted_keys(conn)
    n = 0
    for (blob,) in conn.execute("SELECT cert FROM site WHERE verified = 0 AND cert IS NOT NULL"
                                ).fetchall():
        if install_cert(conn, bytes(blob), keys_by_code) is not None:
            n += 1
    return n


def keep_cert(conn: sqlite3.Connection, site: str, blob: bytes) -> None:
    """Keep a certificate that cannot be verified yet (its agency's key is not trusted)."""
    claims = trust.peek_cert(blob)
    if claims is None or claims["site"] != site:
        return
    row = conn.execute("SELECT ord, verified FROM site WHERE uuid = ?", (site,)).fetchone()
    if row is None:
        conn.execute("INSERT INTO site (uuid, device, cert) VALUES (?, ?, ?)",
                     (site, claims["device"], blob))
    elif not row[1]:
        conn.execute("UPDATE site SET cert = ? WHERE ord = ?", (blob, row[0]))


def issue_for(store: Store, site: str, device: str, key: bytes) -> bytes:
    """A certificate for another device of this agency (key holders only)."""
    seed = store.agency_seed()
    if seed is None:
        raise ValidationError(f"this replica does not hold {store.home}'s key; enrol devices "
                              "with the agency's hub")
    cert = trust.issue_cert(seed, site, store.home, device, key)
    with store.transaction():
        install_cert(store.conn, cert)
        store.conn.execute("INSERT INTO meta (key, value) VALUES ('certified', '1') "
                           "ON CONFLICT (key) DO UPDATE SET value = value + 1")
    return cert


def adopt(store: Store, agency_key: bytes, cert_blob: bytes, confirmed: bool = False) -> None:
    """Take the agency key and the certificate the agency's key holder issued for this replica
    (enrolment). A replica that made a key of its own for working alone gives it up, as long as
    it never certified another device with it; one made as its agency's key holder (`init`
    without --join) only when the user confirmed the hub's key (`confirmed`)."""
    conn = store.conn
    cert = trust.read_cert(cert_blob, agency_key)
    if cert is None or cert.site != store.site_uuid or cert.agency != store.home \
            or cert.key != trust.public(store.device_seed()):
        raise KeyChanged("the hub's enrolment certificate is not for this device")
    current = home_key(conn, store.home)
    if current == agency_key:
        with store.transaction():
            install_cert(conn, cert_blob)
        return
    if current is not None:
        certified = conn.execute("SELECT value FROM meta WHERE key = 'certified'").fetchone()
        provisional = conn.execute("SELECT value FROM meta WHERE key = 'provisional_key'"
                                   ).fetchone()
        if certified or store.agency_seed() is None or not (provisional or confirmed):
            raise KeyChanged(
                f"the hub presents a key for {store.home} with fingerprint "
                f"{trust.fingerprint(agency_key)}, but this replica trusts "
                f"{trust.fingerprint(current)} for its own agency: refusing to go on"
                + ("" if certified or store.agency_seed() is None else
                   ". If that hub holds your agency's key, confirm its fingerprint with its "
                   "administrator and add it again with --trust 'FINGERPRINT'"))
    with store.transaction():
        store.give_up_agency_key()
        # endorsements signed by the key given up no longer hold
        conn.execute("UPDATE agency_key SET endorsement = NULL")
        _set_home_key(conn, store.home, agency_key)
        conn.execute("UPDATE site SET verified = 0 WHERE ord != ?", (store.self_ord,))
        conn.execute("DELETE FROM meta WHERE key = 'provisional_key'")
        install_cert(conn, cert_blob)
        verify_sites(conn)


def enroll(device_store: Store, holder_store: Store) -> bytes:
    """Enrol a replica with its agency's key holder in-process (tests, a second database on
    one machine): the same as a first sync with a device token of the agency."""
    key = trust.public(device_store.device_seed())
    cert = issue_for(holder_store, device_store.site_uuid, device_store.device, key)
    agency_key = home_key(holder_store.conn, holder_store.home)
    assert agency_key is not None           # a key holder's (issue_for checked it is one)
    adopt(device_store, agency_key, cert)
    take_box_statement(device_store, device_store.home,
                       box_statement(holder_store.conn, holder_store.home))
    sealed = seal_box_seed_for(holder_store, key)
    if sealed is not None:
        take_box_seed(device_store, sealed)
    return cert


def site_key(conn: sqlite3.Connection, site: str) -> tuple[bytes | None, str | None]:
    """(device key, verified agency) of a site; (None, None) when not verified."""
    # (a revocation counts only when signed by the site's own agency)
    row = conn.execute("SELECT key, agency FROM site WHERE uuid = ? AND verified = 1 "
                       "AND revoked_at IS NULL AND NOT EXISTS (SELECT 1 FROM revocation r "
                       "WHERE r.site = site.uuid AND r.agency = site.agency)",
                       (site,)).fetchone()
    return (bytes(row[0]), row[1]) if row else (None, None)


class PartnerKey(TypedDict):
    agency: str
    fingerprint: str
    trust: str                  # 'confirmed' or 'endorsed'
    seen: bool                  # the key itself arrived (not only its fingerprint)


class KeysInfo(TypedDict):
    agency: str
    agency_fingerprint: str | None
    key_holder: bool
    device: str
    site: str
    device_fingerprint: str | None
    enrolled: bool
    keystore: str | None
    warning: str | None
    partners: list[PartnerKey]


def describe(store: Store) -> KeysInfo:
    """This replica's keys, for `fieldcoord keys` and the app."""
    conn = store.conn
    hk = home_key(conn, store.home)
    dev = conn.execute("SELECT key, verified FROM site WHERE ord = ?",
                       (store.self_ord,)).fetchone()
    partners: list[PartnerKey] = [
        {"agency": c, "fingerprint": fp, "trust": t, "seen": k is not None}
        for c, fp, k, t in conn.execute(
            "SELECT code, fingerprint, key, trust FROM agency_key WHERE trust != 'home' "
            "ORDER BY code")]
    return {"agency": store.home,
            "agency_fingerprint": trust.fingerprint(hk) if hk else None,
            "key_holder": store.agency_seed() is not None,
            "device": store.device, "site": store.site_uuid,
            "device_fingerprint": trust.fingerprint(bytes(dev[0])) if dev and dev[0] else None,
            "enrolled": bool(dev and dev[1]),
            "keystore": store.keystore, "warning": keys.warning(store.keystore),
            "partners": partners}


class Writer(TypedDict):
    device: str | None
    agency: str | None          # when verified
    verified: bool


def writers(store: Store, table: str, rid: str) -> dict[str, Writer]:
    """Who wrote each field of a record as this replica holds it: {field: {"device", "agency",
    "verified"}}; "verified" is whether the writer's certificate was checked under its
    agency's trusted key (this replica's own writes count as verified)."""
    row = store.conn.execute(f'SELECT _ver FROM "{table}" WHERE id = ?', (rid,)).fetchone()
    if row is None:
        return {}
    ver = Versions.load(row[0]).fields
    sites = {o: (d, a, bool(v) and r is None) for o, d, a, v, r in store.conn.execute(
        "SELECT ord, device, agency, verified, revoked_at FROM site")}
    out: dict[str, Writer] = {}
    for col, v in ver.items():
        if not isinstance(v, list) or len(v) < 2:
            continue
        device, agency, verified = sites.get(v[1], (None, None, False))
        if v[1] == store.self_ord:
            device, agency, verified = store.device, store.home, True
        out[col] = {"device": device, "agency": agency if verified else None,
                    "verified": verified}
    return out


# ---------------------------------------------------------------------- sealing keys
def box_seed(store: Store) -> bytes | None:
    """The private key bundles for this agency are sealed to, when this device holds it."""
    return keys.load(store.conn, store.path, store.site_uuid, "box", store.keystore)


def box_statement(conn: sqlite3.Connection, code: str) -> bytes | None:
    row = conn.execute("SELECT box FROM agency_key WHERE code = ?", (code,)).fetchone()
    return bytes(row[0]) if row and row[0] else None


def box_key(conn: sqlite3.Connection, code: str) -> bytes | None:
    """The sealing key of agency `code`, checked under its trusted agency key."""
    ak, st = trusted_key(conn, code), box_statement(conn, code)
    return trust.read_box_statement(st, ak, code) if ak and st else None


def take_box_statement(store: Store, code: str, blob: bytes | None) -> bool:
    """Keep an agency's sealing key statement if its trusted agency key signed it."""
    ak = trusted_key(store.conn, code)
    if not blob or ak is None or trust.read_box_statement(blob, ak, code) is None:
        return False
    if box_statement(store.conn, code) != blob:
        with store.transaction():
            store.conn.execute("UPDATE agency_key SET box = ? WHERE code = ?", (blob, code))
    return True


def seal_box_seed_for(store: Store, device_key: bytes) -> bytes | None:
    """This agency's sealing key, sealed to an enrolled device's key (key holders and devices
    that hold it), so every device of the agency can open bundles written for it."""
    seed = box_seed(store)
    if seed is None:
        return None
    return _sealed(bytes(device_key), seed)


@lru_cache(maxsize=4096)
def _sealed(device_key: bytes, seed: bytes) -> bytes:
    """`seed` sealed to a device's key, once per process (a hub answers every hello of the
    agency's devices with it; the same sealed box again tells nothing more)."""
    return trust.seal(trust.verify_key_to_box(device_key), seed)


def take_box_seed(store: Store, sealed: bytes) -> bool:
    """Keep this agency's sealing key sent sealed to this device's key."""
    seed = trust.unseal(trust.sign_key_to_box(store.device_seed()), sealed)
    if seed is None or len(seed) != 32:
        return False
    st = box_statement(store.conn, store.home)
    hk = home_key(store.conn, store.home)
    if st is None or hk is None or trust.read_box_statement(st, hk, store.home) \
            != trust.box_public(seed):
        return False
    if box_seed(store) != seed:
        with store.transaction():
            keys.save(store.conn, store.path, store.site_uuid, "box", seed, store.keystore)
    return True


# ---------------------------------------------------------------------- revocation
def revoke_device(store: Store, which: str) -> dict[str, str | None]:
    """Revoke a device of this agency (by site id, its first characters, or its device name):
    no replica that learns of it accepts anything more from that device. Key holders only."""
    seed = store.agency_seed()
    if seed is None:
        raise ValidationError(f"only {store.home}'s key holder (its hub) can revoke a device")
    conn = store.conn
    rows = conn.execute("SELECT uuid, device FROM site WHERE agency = ? AND verified = 1 AND "
                        "(uuid LIKE ? OR device = ?)", (store.home, f"{which}%", which)).fetchall()
    if len(rows) != 1:
        raise ValidationError(f"'{which}' names {len(rows) or 'no'} device(s) of "
                              f"{store.home}; give its id (fieldcoord keys devices)")
    site, device = rows[0]
    if site == store.site_uuid:
        raise ValidationError("this replica cannot revoke itself")
    take_revocations(store, [trust.revoke(seed, store.home, site)])
    return {"site": site, "device": device}


def revocations(conn: sqlite3.Connection) -> list[bytes]:
    return [bytes(r[0]) for r in conn.execute("SELECT statement FROM revocation")]


def take_revocations(store: Store, blobs: list[bytes]) -> int:
    """Keep revocations signed by the agency key trusted for the agency they name; returns how
    many are new here."""
    keys_by_code = trusted_keys(store.conn)
    n = 0
    with store.transaction():
        for blob in blobs:
            body = trust.read_revocation(blob, keys_by_code)
            if body is None or body.get("site") == store.site_uuid:
                continue
            if store.conn.execute("SELECT 1 FROM revocation WHERE site = ?",
                                  (body["site"],)).fetchone():
                continue
            row = store.conn.execute("SELECT agency FROM site WHERE uuid = ?",
                                     (body["site"],)).fetchone()
            if row and row[0] and row[0] != body["agency"]:
                continue                    # an agency revokes only its own devices
            store.conn.execute("INSERT INTO revocation (site, agency, statement) "
                               "VALUES (?, ?, ?)", (body["site"], body["agency"], blob))
            store.conn.execute("UPDATE site SET revoked_at = ? WHERE uuid = ?",
                               (body["at"], body["site"]))
            n += 1
    return n


class Device(TypedDict):
    site: str
    device: str | None
    revoked_at: str | None


def devices(store: Store) -> list[Device]:
    """The devices of this agency this replica knows, certified or revoked."""
    return [{"site": u, "device": d, "revoked_at": r} for u, d, r in store.conn.execute(
        "SELECT uuid, device, revoked_at FROM site WHERE agency = ? AND verified = 1 "
        "ORDER BY device", (store.home,))]
