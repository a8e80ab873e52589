# SPDX-License-Identifier: GPL-3.0-or-later
"""Bundles: changes carried on a USB stick, as one file of checksummed chunks; receipts tell the
sender what arrived (sync layer).

Layout: the line `FCBUNDLE 1`, a header line of JSON, then chunks, each a line
`CHUNK <bytes> <sha256>` followed by that many bytes (a compressed batch message, see
sync.protocol) and a newline, then a line `END <chunks>`. A truncated file still yields its whole
chunks; a chunk whose checksum fails is refused and reported.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from nacl.exceptions import CryptoError

from ..core.errors import ValidationError
from ..store import identity, trust
from ..store.exchange import BATCH_BYTES, apply_batch, lacking, sites_of, visible_vector
from ..store.incoming import Report
from . import protocol

MAGIC = b"FCBUNDLE 2\n"
RECEIPT = "fieldcoord-receipt"
CHUNK_BYTES = 1_000_000


@dataclass
class ImportResult:
    chunks: int = 0
    expected: int | None = None
    truncated: bool = False
    corrupted: list = field(default_factory=list)     # chunk numbers refused
    report: Report = field(default_factory=Report)
    receipt: Path | None = None
    source: str = ""


def export_bundle(store, path: Path, for_agency: str | None = None,
                  since: dict | None = None, progress=None, allow_demo: bool = False) -> dict:
    """Write what `for_agency` may see (everything when None) and lacks according to `since`
    (a receipt's vector; nothing assumed when None). Returns counts. A demo directory is
    written only when the user confirmed it (`allow_demo`)."""
    from ..demo import check_may_share
    check_may_share(store, allow_demo, "a bundle")
    code = for_agency.strip().upper() if for_agency else None
    if code and store.agency_id(code) is None and code != store.home:
        raise ValidationError(f"no agency with code {code} in the directory")
    mine = visible_vector(store.conn, None)
    if since is None and code:
        since = _remembered_receipt(store, code)
    want = lacking(mine, since or {}, code)
    file_key = os.urandom(32)
    recipients, warning = _recipients(store, code or store.home, file_key)
    box = trust.secret_box(file_key)
    header = {"protocol": protocol.PROTOCOL, "schema": protocol.LATEST,
              "source_site": store.site_uuid, "source_agency": store.home, "for": code,
              "agency_key": trust.b64(identity.home_key(store.conn, store.home)),
              "box_key": trust.b64(identity.box_statement(store.conn, store.home)),
              "cert": trust.b64(identity.own_cert(store.conn, store.site_uuid)),
              "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
              "ranges": [[o, a, seq, mine[(o, a)]] for (o, a), seq in sorted(want.items())],
              "recipients": recipients}
    header["sig"] = trust.b64(trust.sign(store.device_seed(), trust.BUNDLE, _body(header)))
    tmp = Path(path).with_name(Path(path).name + ".part")
    chunks = entries = 0
    with open(tmp, "wb") as f:
        f.write(MAGIC)
        f.write(json.dumps(header, separators=(",", ":")).encode() + b"\n")
        for batch in store.outgoing(want, CHUNK_BYTES, agency=code):
            data = box.encrypt(protocol.pack(protocol.encode_batch(
                batch, sites_of(store.conn, batch))))
            f.write(f"CHUNK {len(data)} {hashlib.sha256(data).hexdigest()}\n".encode())
            f.write(data + b"\n")
            chunks += 1
            entries += len(batch)
            if progress:
                progress("writing", entries, sum(mine[k] - v for k, v in want.items()))
        f.write(f"END {chunks}\n".encode())
    tmp.replace(path)
    if code:
        _note_sent(store, code, {(o, a): last for o, a, _, last in header["ranges"]})
    return {"chunks": chunks, "changes": entries, "for": code, "warning": warning}


def _body(header: dict) -> bytes:
    return json.dumps({k: v for k, v in header.items() if k != "sig"}, sort_keys=True,
                      separators=(",", ":")).encode()


def _recipients(store, agency: str, file_key: bytes) -> tuple[list, str | None]:
    """The file's key sealed to the agency's key for sealed bundles (any of its enrolled devices
    opens it) and to its agency key (its key holder opens it). A warning when only the key
    holder will be able to open it."""
    conn = store.conn
    out = []
    box = identity.box_key(conn, agency)
    if box is not None:
        out.append({"to": "box", "key": trust.b64(trust.seal(box, file_key))})
    ak = identity.trusted_key(conn, agency)
    if ak is None:
        raise ValidationError(f"{agency}'s key is not confirmed here, so nothing can be sealed "
                              f"for it: confirm it first (fieldcoord keys trust {agency} "
                              "FINGERPRINT)")
    out.append({"to": "agency", "key": trust.b64(trust.seal(trust.verify_key_to_box(ak),
                                                           file_key))})
    warning = None if box is not None else (
        f"only {agency}'s hub (its key holder) can open this bundle: {agency}'s key for sealed "
        "bundles is not known here yet (it comes with a sync or a receipt from them)")
    return out, warning


def _open(store, header: dict) -> bytes:
    """The file key of a sealed bundle, opened with this agency's sealing key or agency key."""
    seeds = {"box": identity.box_seed(store), "agency": None}
    agency_seed = store.agency_seed()
    if agency_seed is not None:
        seeds["agency"] = trust.sign_key_to_box(agency_seed)
    for r in header.get("recipients") or []:
        try:
            seed = seeds.get(r.get("to"))
            got = trust.unseal(seed, trust.unb64(r.get("key"))) if seed else None
        except (trust.TrustError, AttributeError):
            got = None
        if got is not None and len(got) == 32:
            return got
    raise ValidationError(
        f"this bundle is sealed for {header.get('for') or header.get('source_agency')}, and "
        "this replica holds no key that opens it: sync with your agency's hub once (it hands "
        "its devices the key for sealed bundles), or import it on the hub")


def _note_sent(store, agency: str, ranges: dict) -> None:
    """Remember how far each stream was written for `agency`: its receipts are honoured only
    up to there."""
    sent = _stored_vector(store, f"sent:{agency}")
    for k, seq in ranges.items():
        sent[k] = max(seq, sent.get(k, 0))
    with store.transaction():
        store.conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO "
                           "UPDATE SET value = excluded.value",
                           (f"sent:{agency}", json.dumps(protocol.encode_vector(sent))))


def _stored_vector(store, key: str) -> dict:
    row = store.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return protocol.decode_vector(json.loads(row[0])) if row else {}


def _trust_source(store, header: dict, expected: str | None) -> None:
    """The writer's agency key: its entries are verified under it. A partner's key must be
    confirmed here (or `expected`, a fingerprint the user confirmed for this file)."""
    agency = header.get("source_agency")
    try:
        key = trust.unb64(header.get("agency_key"), 32)
    except trust.TrustError:
        raise ValidationError("the bundle names no agency key: it was written by a fieldcoord "
                              "without signed changes") from None
    fp = trust.fingerprint(key)
    if expected and trust.parse_fingerprint(expected) != fp:
        raise identity.KeyChanged(f"the bundle's agency key has fingerprint {fp}, not the "
                                  f"{trust.parse_fingerprint(expected)} given")
    if agency == store.home:
        if identity.home_key(store.conn, store.home) != key:
            raise identity.KeyChanged(f"the bundle was signed under a key of {agency} other than "
                                      "this replica's agency key: refused")
        return
    if identity.offer_key(store, agency, key) == "unknown":
        if not expected:
            raise identity.UntrustedKey(agency, fp)
        identity.confirm(store, agency, key)


def import_bundle(store, path: Path, progress=None, expected: str | None = None
                  ) -> ImportResult:
    """Apply a bundle chunk by chunk (each in one transaction); write a receipt beside it.
    Every change is verified under its writer's certificate, whoever carried the file."""
    result = ImportResult()
    with open(path, "rb") as f:
        if f.readline() != MAGIC:
            raise ValidationError(f"{path} is not a fieldcoord bundle")
        try:
            header = json.loads(f.readline())
            result.source = header["source_agency"]
        except (ValueError, KeyError, TypeError):
            raise ValidationError(f"{path}: the bundle's header is damaged") from None
        if header.get("protocol") != protocol.PROTOCOL:
            raise ValidationError(f"{path} was written with sync protocol "
                                  f"{header.get('protocol')}; this fieldcoord reads "
                                  f"{protocol.PROTOCOL}")
        if (header.get("for") or header.get("source_agency")) != store.home:
            raise ValidationError(f"{path} was written for agency "
                                  f"{header.get('for') or header.get('source_agency')}, "
                                  f"not for {store.home}")
        _trust_source(store, header, expected)
        _check_header(store, header, path)
        file_key = _open(store, header)
        if path.stat().st_size > BATCH_BYTES:
            # many changes: index them for search once, at the end
            store.defer_search(indexes=_incoming(store, header) >= store.held_changes())
        try:
            _read_chunks(store, f, result, progress, trust.secret_box(file_key))
        finally:
            store.catch_up_search()
    result.receipt = write_receipt(store, Path(str(path) + ".receipt.json"))
    return result


def _incoming(store, header: dict) -> int:
    """How many changes the header's ranges name that this replica lacks (0 if unreadable)."""
    held = visible_vector(store.conn, None)
    total = 0
    for item in header.get("ranges") or []:
        try:
            origin, aud, _, last = item
            total += max(0, int(last) - held.get((origin, aud), 0))
        except (TypeError, ValueError):
            return 0
    return total


def _check_header(store, header: dict, path: Path) -> None:
    """The header must be signed by a device its agency's (trusted) key certified; the
    writer's sealing key is kept for replies."""
    source = header.get("source_agency")
    try:
        cert = trust.read_cert(trust.unb64(header.get("cert")),
                               identity.trusted_key(store.conn, source) or b"")
        sig = trust.unb64(header.get("sig"), 64)
    except trust.TrustError:
        cert = sig = None
    if cert is None or cert.agency != source or cert.site != header.get("source_site") \
            or not trust.verify(cert.key, trust.BUNDLE, _body(header), sig):
        raise ValidationError(f"{path}: the bundle's header is not signed by a device of "
                              f"{source}: refused")
    try:
        identity.take_box_statement(store, source, trust.unb64(header.get("box_key")))
    except trust.TrustError:
        pass


def _read_chunks(store, f, result: ImportResult, progress, box) -> None:
    n = 0
    while True:
        line = f.readline()
        if not line:
            result.truncated = True
            break
        if line.startswith(b"END "):
            result.expected = int(line.split()[1])
            break
        parts = line.split()
        if len(parts) != 3 or parts[0] != b"CHUNK":
            result.truncated = True        # the rest of the file is unreadable
            break
        n += 1
        size, digest = int(parts[1]), parts[2].decode()
        data = f.read(size)
        if len(data) < size or f.read(1) != b"\n":
            result.truncated = True
            break
        if hashlib.sha256(data).hexdigest() != digest:
            result.corrupted.append(n)
            continue
        try:
            entries, sites = protocol.decode_batch(protocol.unpack(box.decrypt(data)))
        except (protocol.ProtocolError, CryptoError):
            result.corrupted.append(n)
            continue
        result.report.merge(apply_batch(store, entries, sites))
        result.chunks += 1
        if progress:
            progress("importing", result.chunks, result.chunks)


def _receipt_body(data: dict) -> bytes:
    return json.dumps({k: v for k, v in data.items() if k != "sig"}, sort_keys=True,
                      separators=(",", ":")).encode()


def write_receipt(store, path: Path) -> Path:
    """What this replica holds, signed by its device key under its certificate."""
    receipt = {"kind": RECEIPT, "protocol": protocol.PROTOCOL, "site": store.site_uuid,
               "agency": store.home, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "vector": protocol.encode_vector(visible_vector(store.conn, None)),
               "cert": trust.b64(identity.own_cert(store.conn, store.site_uuid))}
    receipt["sig"] = trust.b64(trust.sign(store.device_seed(), trust.RECEIPT,
                                          _receipt_body(receipt)))
    path.write_text(json.dumps(receipt, indent=1) + "\n", encoding="utf-8")
    return path


def read_receipt(path: Path, store=None) -> tuple[str, dict]:
    """(agency, vector) of a receipt file. With `store`, the receipt must be signed by a device
    certified by its agency's key as trusted there."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("kind") != RECEIPT:
            raise ValueError
        agency, vector = data["agency"], protocol.decode_vector(data["vector"])
    except (OSError, ValueError, KeyError, TypeError, protocol.ProtocolError):
        raise ValidationError(f"{path} is not a fieldcoord receipt") from None
    if store is not None:
        try:
            cert_blob = trust.unb64(data.get("cert"))
            sig = trust.unb64(data.get("sig"), 64)
        except trust.TrustError:
            raise ValidationError(f"{path} is not signed: a receipt is honoured only when a "
                                  f"device of {agency} signed it") from None
        key = identity.trusted_key(store.conn, agency)
        cert = trust.read_cert(cert_blob, key) if key else None
        if cert is None or cert.agency != agency or cert.site != data.get("site") \
                or not trust.verify(cert.key, trust.RECEIPT, _receipt_body(data), sig):
            raise ValidationError(f"{path} is not signed by a device of {agency} whose key is "
                                  "trusted here: ignored")
    return agency, vector


def is_receipt(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return b'"kind": "fieldcoord-receipt"' in f.read(200)
    except OSError:
        return False


def honoured_receipt(store, path: Path) -> tuple[str, dict]:
    """(agency, vector) of a receipt signed by a device of that agency, each stream capped at
    what was written for that agency."""
    agency, claimed = read_receipt(path, store)
    sent = _stored_vector(store, f"sent:{agency}")
    return agency, {k: min(seq, sent[k]) for k, seq in claimed.items() if k in sent}


def remember_receipt(store, path: Path) -> str:
    """Keep a partner's receipt: the next export for that agency holds only what is new. It is
    honoured only if a device of that agency signed it, and only up to what was written for
    that agency (a receipt claiming more cannot stop later bundles)."""
    agency, vector = honoured_receipt(store, path)
    with store.transaction():
        store.conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO "
                           "UPDATE SET value = excluded.value",
                           (f"receipt:{agency}", json.dumps(protocol.encode_vector(vector))))
    return agency


def _remembered_receipt(store, agency: str) -> dict:
    return _stored_vector(store, f"receipt:{agency}")
