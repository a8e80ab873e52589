# SPDX-License-Identifier: GPL-3.0-or-later
"""Keys, certificates and signed change streams (store layer). See docs/security.md.

Every agency has an Ed25519 key; every replica (device) has its own, vouched for by a
certificate its agency's key signs. A replica signs what it writes: each of its change streams is
a hash chain (every entry's digest folded into the previous hash) whose heads it signs, one
signature per transaction and stream (and every 1,000 entries of a large one). A receiver
recomputes the chain from the entries and checks the head's signature under the certificate of
the stream's origin, whichever replica or file carried them. Signatures and sealed boxes come
from libsodium (PyNaCl); nothing here is hand-written cryptography.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from nacl.exceptions import BadSignatureError, CryptoError
from nacl.signing import SigningKey, VerifyKey

if TYPE_CHECKING:
    from nacl.secret import SecretBox

CERT = b"fieldcoord certificate\0"
ENDORSE = b"fieldcoord endorsement\0"
HEAD = b"fieldcoord stream head\0"
RECEIPT = b"fieldcoord receipt\0"
BUNDLE = b"fieldcoord bundle\0"
BOX = b"fieldcoord sealing key\0"
REVOKE = b"fieldcoord revocation\0"
ZERO = bytes(32)
HEAD_EVERY = 100             # streams keep a signed head every this many entries (and the newest)
_FP_GROUPS = 6


class TrustError(ValueError):
    """A key, certificate or signature that does not hold."""


# ------------------------------------------------------------------------------ keys
_signers: dict[bytes, SigningKey] = {}
_verifiers: dict[bytes, VerifyKey] = {}


def new_seed() -> bytes:
    """A new private key (its 32-byte seed)."""
    return bytes(SigningKey.generate())


def _signer(seed: bytes) -> SigningKey:
    got = _signers.get(seed)
    if got is None:
        if len(_signers) > 64:
            _signers.clear()
        got = _signers[seed] = SigningKey(seed)
    return got


def public(seed: bytes) -> bytes:
    return bytes(_signer(seed).verify_key)


def sign(seed: bytes, context: bytes, message: bytes) -> bytes:
    """The 64-byte signature of `context + message`."""
    return _signer(seed).sign(context + message).signature


def verify(key: bytes, context: bytes, message: bytes, signature: bytes) -> bool:
    v = _verifiers.get(key)
    if v is None:
        try:
            v = VerifyKey(key)
        except (CryptoError, TypeError, ValueError):
            return False
        if len(_verifiers) > 4096:
            _verifiers.clear()
        _verifiers[key] = v
    try:
        v.verify(context + message, signature)
        return True
    except (BadSignatureError, CryptoError, TypeError, ValueError):
        return False


def fingerprint(key: bytes) -> str:
    """A key's fingerprint as six groups of five digits, to read out over a phone."""
    h = hashlib.sha256(b"fieldcoord key\0" + key).digest()
    groups = [int.from_bytes(h[i * 5:i * 5 + 5], "big") % 100000 for i in range(_FP_GROUPS)]
    return " ".join(f"{g:05d}" for g in groups)


def parse_fingerprint(text: str | None) -> str:
    """A fingerprint typed by a user, in canonical form; TrustError when it is not one."""
    digits = re.sub(r"[\s:-]", "", text or "")
    if not re.fullmatch(rf"\d{{{5 * _FP_GROUPS}}}", digits):
        raise TrustError(f"'{text}' is not a key fingerprint (six groups of five digits)")
    return " ".join(digits[i:i + 5] for i in range(0, len(digits), 5))


def b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def unb64(text: str, size: int | None = None) -> bytes:
    """Bytes of a base64 text; TrustError when it is not base64 (of `size` bytes)."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (AttributeError, ValueError, UnicodeEncodeError):
        raise TrustError("not base64") from None
    if size is not None and len(raw) != size:
        raise TrustError(f"expected {size} bytes, got {len(raw)}")
    return raw


def now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# ---------------------------------------------------------------------- certificates
@dataclass(frozen=True)
class Cert:
    """A device certificate: the agency's key says this site's key is one of its devices."""
    site: str
    agency: str
    device: str
    key: bytes
    issued: str
    blob: bytes


def _canonical(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def issue_cert(agency_seed: bytes, site: str, agency: str, device: str, key: bytes,
               issued: str | None = None) -> bytes:
    """A certificate (signature + body) for a device key, signed by the agency's key."""
    body = _canonical({"v": 1, "site": site, "agency": agency, "device": device,
                       "key": b64(key), "issued": issued or now_iso()})
    return sign(agency_seed, CERT, body) + body


def peek_cert(blob: bytes) -> dict[str, Any] | None:
    """The claims of a certificate, unverified (to find which agency's key to check it with)."""
    try:
        body = json.loads(bytes(blob[64:]).decode("ascii"))
    except (TypeError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict) or body.get("v") != 1:
        return None
    if not all(isinstance(body.get(k), str) for k in ("site", "agency", "device", "key",
                                                       "issued")):
        return None
    return body


@lru_cache(maxsize=4096)
def _cert_signed(agency_key: bytes, blob: bytes) -> bool:
    """Whether `agency_key` signed the certificate `blob` (a hub checks the certificates of the
    devices that say hello again and again: each is verified once)."""
    return verify(agency_key, CERT, blob[64:], blob[:64])


def read_cert(blob: bytes, agency_key: bytes) -> Cert | None:
    """The certificate if `agency_key` signed it, else None."""
    if not isinstance(blob, (bytes, bytearray)) or len(blob) < 65 or len(blob) > 2048:
        return None
    body = peek_cert(blob)
    if body is None or not isinstance(agency_key, (bytes, bytearray)) \
            or not _cert_signed(bytes(agency_key), bytes(blob)):
        return None
    try:
        key = unb64(body["key"], 32)
        uuid.UUID(body["site"])
    except (TrustError, ValueError):
        return None
    return Cert(body["site"], body["agency"], body["device"], key, body["issued"], bytes(blob))


def endorse(agency_seed: bytes, home: str, code: str, key: bytes) -> bytes:
    """The home agency's word that `key` is agency `code`'s key (signature + body)."""
    body = _canonical({"v": 1, "by": home, "agency": code, "key": b64(key), "at": now_iso()})
    return sign(agency_seed, ENDORSE, body) + body


def read_endorsement(blob: bytes, home_key: bytes, home: str) -> tuple[str, bytes] | None:
    """(agency code, key) an endorsement signed by the home agency's key vouches for."""
    if not isinstance(blob, (bytes, bytearray)) or len(blob) < 65 or len(blob) > 1024:
        return None
    if not verify(home_key, ENDORSE, bytes(blob[64:]), bytes(blob[:64])):
        return None
    try:
        body = json.loads(bytes(blob[64:]).decode("ascii"))
        if body.get("by") != home or not isinstance(body.get("agency"), str):
            return None
        return body["agency"], unb64(body["key"], 32)
    except (ValueError, TrustError, AttributeError):
        return None


# -------------------------------------------------------------------- signed streams
def entry_digest(tx: int, tbl: str, rid: str, hlc: int, site: str | None, cells: str) -> bytes:
    """An entry's digest: what it says, with the writing site's UUID and its cells as the
    compact JSON text of their wire form (sites as UUIDs). `site` None (a stored change whose
    site has no UUID here: identity.stored_digest) is digested as the text "None"."""
    return hashlib.blake2b(f"{tx}\0{tbl}\0{rid}\0{hlc}\0{site}\0{cells}".encode(
        "utf-8", "surrogatepass"), digest_size=32).digest()


def chain(prev: bytes, digest: bytes) -> bytes:
    """The stream's hash after an entry of this digest."""
    return hashlib.blake2b(prev + digest, digest_size=32).digest()


def head_message(origin: str, audience: str, seq: int, h: bytes) -> bytes:
    return uuid.UUID(origin).bytes + audience.encode("ascii") + b"\0" + \
        seq.to_bytes(8, "big") + h


def sign_head(seed: bytes, origin: str, audience: str, seq: int, h: bytes) -> bytes:
    return sign(seed, HEAD, head_message(origin, audience, seq, h))


def verify_head(key: bytes, origin: str, audience: str, seq: int, h: bytes,
                sig: bytes) -> bool:
    return verify(key, HEAD, head_message(origin, audience, seq, h), sig)


# ---------------------------------------------------------------------- sealing
def box_public(box_seed: bytes) -> bytes:
    from nacl.public import PrivateKey
    return bytes(PrivateKey(box_seed).public_key)


def box_statement(agency_seed: bytes, agency: str, box_pub: bytes) -> bytes:
    """The agency key's word that `box_pub` is the key bundles for `agency` are sealed to."""
    body = _canonical({"v": 1, "agency": agency, "box": b64(box_pub)})
    return sign(agency_seed, BOX, body) + body


def read_box_statement(blob: bytes, agency_key: bytes, agency: str) -> bytes | None:
    """The sealing key a statement names, if `agency_key` signed it for `agency`."""
    if not isinstance(blob, (bytes, bytearray)) or len(blob) < 65 or len(blob) > 512:
        return None
    if not verify(agency_key, BOX, bytes(blob[64:]), bytes(blob[:64])):
        return None
    try:
        body = json.loads(bytes(blob[64:]).decode("ascii"))
        return unb64(body["box"], 32) if body.get("agency") == agency else None
    except (ValueError, KeyError, TypeError, TrustError):
        return None


def seal(recipient: bytes, data: bytes) -> bytes:
    """`data` sealed to an X25519 public key (libsodium's sealed box)."""
    from nacl.public import PublicKey, SealedBox
    return SealedBox(PublicKey(recipient)).encrypt(data)


def unseal(box_seed: bytes, sealed: bytes) -> bytes | None:
    from nacl.public import PrivateKey, SealedBox
    try:
        return SealedBox(PrivateKey(box_seed)).decrypt(sealed)
    except CryptoError:
        return None


def sign_key_to_box(seed: bytes) -> bytes:
    """The X25519 private key of an Ed25519 key (for what is sealed to an agency key)."""
    return bytes(_signer(seed).to_curve25519_private_key())


def verify_key_to_box(key: bytes) -> bytes:
    return bytes(VerifyKey(key).to_curve25519_public_key())


def new_box_seed() -> bytes:
    from nacl.public import PrivateKey
    return bytes(PrivateKey.generate())


def secret_box(key: bytes) -> SecretBox:
    from nacl.secret import SecretBox
    return SecretBox(key)


def revoke(agency_seed: bytes, agency: str, site: str) -> bytes:
    """The agency key's word that device `site` is no longer one of its devices."""
    body = _canonical({"v": 1, "agency": agency, "site": site, "at": now_iso()})
    return sign(agency_seed, REVOKE, body) + body


def read_revocation(blob: bytes, keys_by_code: dict[str, bytes]) -> dict[str, Any] | None:
    """{"agency", "site", "at"} of a revocation signed by the key trusted for its agency."""
    if not isinstance(blob, (bytes, bytearray)) or len(blob) < 65 or len(blob) > 512:
        return None
    try:
        body = json.loads(bytes(blob[64:]).decode("ascii"))
        key = keys_by_code.get(body.get("agency"))
    except (ValueError, UnicodeDecodeError, AttributeError):
        return None
    if key is None or not verify(key, REVOKE, bytes(blob[64:]), bytes(blob[:64])):
        return None
    claims: dict[str, Any] = body           # a JSON object (it has .get)
    return claims
