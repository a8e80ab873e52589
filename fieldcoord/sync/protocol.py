# SPDX-License-Identifier: GPL-3.0-or-later
"""The sync wire format: versioned JSON messages, zlib-compressed, validated on receipt (sync
layer). Documented in docs/sync-protocol.md.

A batch is {"protocol", "schema", "sites": [[uuid, agency, device]], "n", "record", and one
list of n items per part of an entry: "origin", "audience", "seq", "tx", "table", "hlc", "site",
"status", "field", "value", "version"} (see encode_batch and docs/sync-protocol.md). Cells of
fields a receiver does not know are kept and forwarded.
"""
from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import zlib
from functools import lru_cache

from ..core import ids
from ..core.kinds import KIND_BY_TABLE
from ..core.validate import CODE_RE
from ..store.exchange import Batch
from ..store.incoming import Entry
from ..store.migrations import LATEST, SCHEMA_DIR

PROTOCOL = 3
# The first fieldcoord release that speaks each protocol, for telling an old peer what to run.
RELEASE = {3: "0.2.0"}
MAX_MESSAGE = 16 * 1024 * 1024        # bytes of one decompressed message
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")
_AUDIENCE = re.compile(r"^(all|[A-Z0-9][A-Z0-9-]{1,11}(,[A-Z0-9][A-Z0-9-]{1,11})*)$")


def is_uuid(text: str) -> bool:
    return bool(_UUID.match(text))


class ProtocolError(ValueError):
    """A message that is not what the protocol says; refused whole."""


def pack(message: dict) -> bytes:
    message = {"protocol": PROTOCOL, "schema": LATEST, **message}
    return zlib.compress(json.dumps(message, separators=(",", ":"), ensure_ascii=False)
                         .encode("utf-8"), 6)


def unpack(data: bytes, max_size: int = MAX_MESSAGE) -> dict:
    """Decompress and parse a message, refusing oversized or malformed ones: lists and objects
    nested deeper than MAX_DEPTH, integers outside signed 64 bits (see _integer), numbers that
    are not finite, and strings that are not Unicode."""
    try:
        d = zlib.decompressobj()
        raw = d.decompress(data, max_size + 1)
        if len(raw) > max_size or d.unconsumed_tail:
            raise ProtocolError(f"message larger than {max_size} bytes")
        _check_depth(raw)
        message = json.loads(raw.decode("utf-8"), parse_constant=_not_finite,
                             parse_float=_finite, parse_int=_integer if _LONG.search(raw) else None)
        if _SURROGATE.search(raw):
            json.dumps(message, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ProtocolError("a string of the message is not Unicode (a lone surrogate)") from None
    except (zlib.error, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ProtocolError(f"not a fieldcoord message: {e}") from None
    if not isinstance(message, dict) or message.get("protocol") != PROTOCOL:
        raise ProtocolError(f"unsupported protocol version {message.get('protocol')!r} "
                            f"(this fieldcoord speaks {PROTOCOL}: upgrade the other side to "
                            f"fieldcoord {RELEASE[PROTOCOL]} or later)"
                            if isinstance(message, dict) else "not a fieldcoord message")
    return message


MAX_DEPTH = 64                        # lists and objects within each other in one message
_INT64 = 1 << 63
_LONG = re.compile(rb"[0-9]{19}")     # integers of 18 digits or fewer fit in 64 bits
_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_NOT_QUOTES_OR_BRACKETS = bytes(b for b in range(256) if b not in b'"[]{}')
_STRING = re.compile(rb'"[^"]*"')
_BRACKETS = bytes.maketrans(b"{}", b"[]")


def _check_depth(raw: bytes) -> None:
    """Refuse text whose lists and objects nest deeper than MAX_DEPTH, before parsing it (the
    parser recurses once a level). Brackets inside strings do not count: escaped backslashes and
    quotes go first, then everything but quotes and brackets, then the strings; each pass
    over what is left removes one level of innermost pairs."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return
    left = raw.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_QUOTES_OR_BRACKETS)
    left = _STRING.sub(b"", left.replace(b'""', b"")).translate(_BRACKETS)
    for _ in range(MAX_DEPTH):
        if not left:
            return
        inner = left.replace(b"[]", b"")
        if inner == left:
            raise ProtocolError("not a fieldcoord message: its brackets do not match")
        left = inner
    if left:
        raise ProtocolError(f"the message nests lists or objects deeper than {MAX_DEPTH} levels")


def _integer(text: str) -> int:
    """An integer of a message: signed 64 bits, what SQLite stores. The one difference a batch
    sends that may go lower, to -2**64, is a replaced clock relative to the time in a UUIDv7
    record id (see _replaced_base); what a receiver stores is checked after decoding."""
    value = int(text) if len(text) <= 21 else _INT64
    if not -2 * _INT64 <= value < _INT64:
        raise ProtocolError(f"the number {text:.40} is outside signed 64 bits")
    return value


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ProtocolError(f"the number {text:.40} is too large")
    return value


def _not_finite(text: str):
    raise ProtocolError(f"{text} is not a number a message may hold")


# Tables no entry may name: the database's tables that hold no
# records (and the shadow tables of its full-text indexes), SQLite's own, and names starting
# with _ such as _sqlite_migrations.
_CREATE = re.compile(r'CREATE\s+(VIRTUAL\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"?(\w+)', re.I)


@lru_cache(maxsize=1)
def _internal_tables() -> re.Pattern:
    plain, virtual = set(), set()
    for path in SCHEMA_DIR.glob("*.sql"):
        for is_virtual, name in _CREATE.findall(path.read_text(encoding="utf-8")):
            (virtual if is_virtual else plain).add(name)
    plain -= set(KIND_BY_TABLE)
    plain_names, virtual_names = "|".join(sorted(plain)), "|".join(sorted(virtual))
    return re.compile(f"^(sqlite_|_|({plain_names})$|({virtual_names})(_|$))")


def encode_vector(vector: dict[tuple[str, str], int]) -> list:
    return [[origin, aud, seq] for (origin, aud), seq in sorted(vector.items())]


# A hello carries its vector as digests of this many buckets of streams; the answer holds the
# streams of the buckets that differ only, so a replica in step with its hub exchanges a few
# hundred bytes however many laptops the region has (docs/sync-protocol.md, "Hello").
VECTOR_BUCKETS = 64
_BUCKET_DIGEST = 8                     # bytes of one bucket's digest


def bucket_of(key: tuple[str, str]) -> int:
    """The bucket of a stream (origin site, audience): the same on every replica."""
    h = hashlib.blake2b(f"{key[0]}\x00{key[1]}".encode(), digest_size=2).digest()
    return int.from_bytes(h, "big") % VECTOR_BUCKETS


def vector_digests(vector: dict[tuple[str, str], int]) -> str:
    """One digest per bucket of the streams with their sequence numbers, as one base64 text
    (an empty bucket has a digest too: that of nothing)."""
    hashes = [hashlib.blake2b(digest_size=_BUCKET_DIGEST) for _ in range(VECTOR_BUCKETS)]
    for (origin, aud), seq in sorted(vector.items()):
        hashes[bucket_of((origin, aud))].update(f"{origin}\x00{aud}\x00{seq}\n".encode())
    return base64.b64encode(b"".join(h.digest() for h in hashes)).decode()


def differing_buckets(theirs: object, vector: dict[tuple[str, str], int]) -> list[int]:
    """The buckets whose digest in `theirs` (vector_digests' text) differs from `vector`'s."""
    if not isinstance(theirs, str) or len(theirs) > 4 * VECTOR_BUCKETS * _BUCKET_DIGEST:
        raise ProtocolError("buckets must be the vector's bucket digests")
    try:
        got = base64.b64decode(theirs, validate=True)
    except ValueError:
        raise ProtocolError("buckets must be base64") from None
    if len(got) != VECTOR_BUCKETS * _BUCKET_DIGEST:
        raise ProtocolError(f"buckets must hold {VECTOR_BUCKETS} digests")
    mine = base64.b64decode(vector_digests(vector))
    size = _BUCKET_DIGEST
    return [i for i in range(VECTOR_BUCKETS)
            if got[i * size:(i + 1) * size] != mine[i * size:(i + 1) * size]]


def vector_answer(vector: dict[tuple[str, str], int], buckets: object
                  ) -> tuple[dict[tuple[str, str], int], list[int]]:
    """What a hello answers a caller that sent the digests `buckets`: the streams of `vector`
    in the buckets that differ, and those buckets."""
    differ = differing_buckets(buckets, vector)
    wanted = set(differ)
    return {k: v for k, v in vector.items() if bucket_of(k) in wanted}, differ


def whole_vector(ours: dict[tuple[str, str], int], part: dict[tuple[str, str], int],
                 differ: object) -> dict[tuple[str, str], int]:
    """The peer's vector from its answer: `part` for the buckets that differ, `ours` (what our
    digests were made of) for the others. A peer that sends streams of a bucket it says agrees
    is refused."""
    if not (isinstance(differ, list) and all(
            isinstance(b, int) and 0 <= b < VECTOR_BUCKETS for b in differ)):
        raise ProtocolError("differ must list bucket numbers")
    same = set(range(VECTOR_BUCKETS)) - set(differ)
    if any(bucket_of(k) in same for k in part):
        raise ProtocolError("the answer holds streams of buckets it says agree")
    return {**{k: v for k, v in ours.items() if bucket_of(k) in same}, **part}


def decode_vector(raw) -> dict[tuple[str, str], int]:
    if not isinstance(raw, list):
        raise ProtocolError("vector must be a list")
    out = {}
    for item in raw:
        if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)
                and _UUID.match(item[0]) and isinstance(item[1], str)
                and _AUDIENCE.match(item[1]) and isinstance(item[2], int) and item[2] >= 0):
            raise ProtocolError(f"bad vector entry {item!r}")
        out[(item[0], item[1])] = item[2]
    return out


_COLUMNS = ("origin", "audience", "seq", "tx", "table", "hlc", "site", "status", "field",
            "value", "version")


_HALF = 1 << 64
_MAKER_SITES = 8          # a batch naming more sites tries only those its entry names


def _ids_text(entries: list[Entry], sites: dict[str, tuple], index: dict[str, int]) -> list:
    """Record ids in three parts: the first 8 bytes of each as a number, minus the previous id's
    (modulo 2**64, as a signed 64-bit number); the last 8 bytes of the ids whose maker is not
    named, as one base64 string; and per id its maker, [site index, owner] or null. The first
    half of a UUIDv7 is its time and counter. The last half of an id bound to the site that
    made it and its owner (ids.new_bound_id) is a hash of those: named, it need not be sent,
    and a batch's edits of one agency's records name the same few makers. A maker is named
    only if it is one of the batch's sites."""
    steps: list[int] = []
    tails = bytearray()
    makers: list[list | None] = []
    prev = 0
    last: list = []                         # the last maker found
    for e in entries:
        rid = e.rid
        if not isinstance(rid, str) or not _UUID.match(rid):
            raise ProtocolError(f"record id {rid!r} is not a canonical UUID")
        digits = rid.replace("-", "")
        head, tail = int(digits[:16], 16), int(digits[16:], 16)
        step = (head - prev) % _HALF
        steps.append(step - _HALF if step >= _HALF >> 1 else step)
        prev = head
        maker = _maker(e, head, tail, sites, last) if digits[12] == "8" else None
        if maker is None:
            tails += tail.to_bytes(8, "big")
            makers.append(None)
        else:
            makers.append([index[maker[0]], maker[1]])
    return [steps, base64.b64encode(bytes(tails)).decode("ascii"), makers]


def _maker(e: Entry, head: int, tail: int, sites: dict[str, tuple],
           last: list) -> tuple[str, str] | None:
    """(site, owner) that made the bound id of `e`, tried among the batch's sites (the last
    maker found first, then the entry's writer and origin, then the sites its cells name, such
    as the record's creator, whose version a first edit replaces, then the rest while they are
    few) and their agencies and the codes its audience names. None when none of them did."""
    ms, n = head >> 16, head & 0xFFF
    if last and ids.bound_tail(last[0], last[1], ms, n) == tail:
        return last[0], last[1]
    named = [c[2] for c in e.cells.values() if len(c) > 2 and isinstance(c[2], str)]
    order = [e.site, e.origin, *named, *(sites if len(sites) <= _MAKER_SITES else ())]
    candidates = [u for u in dict.fromkeys(order) if u in sites]
    owners = [sites[u][0] for u in candidates if sites[u][0]]
    if e.audience != "all":
        owners += e.audience.split(",")
    owners = [o for o in dict.fromkeys(owners) if isinstance(o, str) and CODE_RE.match(o)]
    for site in candidates:
        for owner in owners:
            if ids.bound_tail(site, owner, ms, n) == tail:
                last[:] = [site, owner]
                return site, owner
    return None


def _text_ids(record, n: int, order: list[str]) -> list[str]:
    """The record ids of a batch (see _ids_text); also reads the earlier form of development
    builds, one base64 string of the ids' 16 bytes each."""
    if isinstance(record, str):
        raw = _base64(record)
        if len(raw) != 16 * n:
            raise ProtocolError(f"the batch has {len(raw) // 16} record ids for {n} entries")
        return [_uuid_text(raw[i:i + 16]) for i in range(0, len(raw), 16)]
    if not (isinstance(record, list) and len(record) == 3 and isinstance(record[0], list)
            and isinstance(record[1], str) and isinstance(record[2], list)):
        raise ProtocolError("the batch's record ids must be [numbers, base64, makers]")
    steps, tails, makers = record[0], _base64(record[1]), record[2]
    if len(steps) != n or len(makers) != n \
            or len(tails) != 8 * sum(1 for m in makers if m is None):
        raise ProtocolError(f"the batch's record id parts do not add up to {n} ids")
    out = []
    head = 0
    k = 0                                       # the next tail sent whole
    for step, maker in zip(steps, makers):
        if type(step) is not int or not -(_HALF >> 1) <= step < _HALF >> 1:
            raise ProtocolError(f"record id part {step!r:.40} is not a signed 64-bit number")
        head = (head + step) % _HALF
        if maker is None:
            tail = tails[k:k + 8]
            k += 8
        else:
            if not (isinstance(maker, list) and len(maker) == 2 and type(maker[0]) is int
                    and 0 <= maker[0] < len(order) and isinstance(maker[1], str)
                    and CODE_RE.match(maker[1]) and (head >> 12) & 0xF == 8):
                raise ProtocolError(f"bad record id maker {maker!r:.60}")
            tail = ids.bound_tail(order[maker[0]], maker[1], head >> 16,
                                  head & 0xFFF).to_bytes(8, "big")
        out.append(_uuid_text(head.to_bytes(8, "big") + tail))
    return out


def _base64(text) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (AttributeError, ValueError, UnicodeEncodeError):
        raise ProtocolError("the batch's record ids are not base64") from None


def _uuid_text(raw: bytes) -> str:
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _replaced_base(rid: str, last: list) -> int:
    """What a replaced version's clock is sent relative to: the creation time in a UUIDv7 record
    id (a record's first edit replaces the version it was created with, in the same
    millisecond), else the previous replaced clock of the batch."""
    if rid[14] in "78":
        return int(rid[:8] + rid[9:13], 16) << 16
    return last[0]


def _pack_version(rest: list, h: int, index: dict, last: list, base: int) -> list:
    """A cell's version parts, sites as indexes: the replaced version's clock relative to `base`
    (see _replaced_base; `last` is updated), the others relative to the entry's clock."""
    out = []
    for i, x in enumerate(rest):
        if x is None:
            out.append(None)
        elif i == 0:
            out.append(x - base)
            last[0] = x
        elif i == 2:
            out.append(h - x)
        elif i in (1, 3):
            out.append(index[x])
        else:
            out.append([[h - eh, index[es]] for eh, es in x])
    return out


def _unpack_version(packed, h: int, order: list, last: list, base: int) -> list:
    if not isinstance(packed, list) or len(packed) > 5:
        raise ValueError
    out = []
    for i, x in enumerate(packed):
        if x is None:
            out.append(None)
        elif i == 0:
            if not isinstance(x, int) or base + x < 0:
                raise ValueError
            last[0] = base + x
            out.append(last[0])
        elif i == 2:
            if not isinstance(x, int) or h - x < 0:
                raise ValueError
            out.append(h - x)
        elif i in (1, 3):
            if not isinstance(x, int) or not 0 <= x < len(order):
                raise ValueError
            out.append(order[x])
        else:
            if not isinstance(x, list):
                raise ValueError
            heads = []
            for pair in x:
                eh, es = pair
                if not (isinstance(eh, int) and isinstance(es, int) and 0 <= es < len(order)
                        and h - eh >= 0):
                    raise ValueError
                heads.append([h - eh, order[es]])
            out.append(heads)
    return out


def encode_batch(entries: list[Entry], sites: dict[str, tuple], heads: dict | None = None
                 ) -> dict:
    """A batch in columns: each entry's parts side by side, clocks and sequence numbers as
    differences, sites as indexes, record ids as bytes. Compresses to about 18 bytes a field.
    `heads` (by default the batch's own): each stream's signed head that ends the batch."""
    if heads is None:
        heads = getattr(entries, "heads", {})
    index = {u: i for i, u in enumerate(sites)}
    cols: dict[str, list] = {c: [] for c in _COLUMNS}
    last_seq: dict = {}
    prev_tx = prev_hlc = 0
    last = [0]
    for e in entries:
        key = (e.origin, e.audience)
        cols["origin"].append(index[e.origin])
        cols["audience"].append(e.audience)
        cols["seq"].append(e.seq - last_seq.get(key, 0))
        last_seq[key] = e.seq
        cols["tx"].append(e.tx - prev_tx)
        prev_tx = e.tx
        cols["table"].append(e.tbl)
        cols["hlc"].append(e.hlc - prev_hlc)
        prev_hlc = e.hlc
        cols["site"].append(index[e.site])
        cols["status"].append(e.status)
        cols["field"].append(list(e.cells))
        cols["value"].append([cell[0] for cell in e.cells.values()])
        cols["version"].append([_pack_version(cell[1:], e.hlc, index, last,
                                              _replaced_base(e.rid, last))
                                if len(cell) > 1 else []
                                for cell in e.cells.values()])
    return {"sites": [[u, info[0], info[1],
                       base64.b64encode(info[2]).decode() if len(info) > 2 and info[2] else None]
                      for u, info in sites.items()],
            "heads": [[index[o], a, seq, base64.b64encode(sig).decode()]
                      for (o, a), signed in sorted(heads.items()) if o in index
                      for seq, sig in signed],
            "n": len(entries), "record": _ids_text(entries, sites, index), **cols}


def _decode_heads(raw, order: list) -> dict:
    out: dict = {}
    if raw is None:
        return out
    if not isinstance(raw, list) or len(raw) > 100_000:
        raise ProtocolError("the batch's 'heads' must be a list")
    for item in raw:
        try:
            o, aud, seq, sig = item
            ok = (isinstance(o, int) and 0 <= o < len(order) and isinstance(aud, str)
                  and _AUDIENCE.match(aud) and isinstance(seq, int) and 0 < seq < 1 << 62)
            sig = base64.b64decode(sig.encode("ascii"), validate=True) if ok else b""
        except (TypeError, ValueError, AttributeError, UnicodeEncodeError):
            ok = False
        if not ok or len(sig) != 64:
            raise ProtocolError(f"bad head {item!r:.80}")
        out.setdefault((order[o], aud), []).append((seq, sig))
    return out


def _cert_of(raw) -> bytes | None:
    if raw is None:
        return None
    try:
        cert = base64.b64decode(raw.encode("ascii"), validate=True)
    except (AttributeError, ValueError, UnicodeEncodeError):
        raise ProtocolError("a site's certificate is not base64") from None
    if len(cert) > 2048:
        raise ProtocolError("a site's certificate is too long")
    return cert


_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def decode_batch(message: dict) -> tuple[Batch, dict[str, tuple]]:
    """Entries and sites of a batch message; any malformed part refuses the whole batch."""
    if not isinstance(message, dict):
        raise ProtocolError("a batch must be an object")
    sites_raw, n = message.get("sites"), message.get("n")
    if not isinstance(sites_raw, list) or not isinstance(n, int) or n < 0:
        raise ProtocolError("a batch needs 'sites' and 'n'")
    cols = {c: message.get(c) for c in _COLUMNS}
    for c, v in cols.items():
        if not isinstance(v, list) or len(v) != n:
            raise ProtocolError(f"the batch's '{c}' must list {n} items")
    sites: dict[str, tuple] = {}
    order = []
    for s in sites_raw:
        if not (isinstance(s, list) and len(s) == 4 and isinstance(s[0], str)
                and _UUID.match(s[0])):
            raise ProtocolError(f"bad site {s!r:.120}")
        sites[s[0]] = (s[1] if isinstance(s[1], str) else None,
                       s[2] if isinstance(s[2], str) else None, _cert_of(s[3]))
        order.append(s[0])
    heads = _decode_heads(message.get("heads"), order)
    rids = _text_ids(message.get("record"), n, order)
    # entries of tables this version does not know are kept and forwarded (a newer peer's new
    # kind of record, possibly relayed by a hub of this version: every entry is signed by its
    # writer, and none is applied to a table here); no entry may name a table that holds no
    # records
    internal = _internal_tables()
    entries = []
    last_seq: dict = {}
    tx = hlc = 0
    last = [0]
    for i in range(n):
        try:
            origin, aud, site, status = (cols["origin"][i], cols["audience"][i],
                                         cols["site"][i], cols["status"][i])
            d_seq, d_tx, d_hlc, tbl = (cols["seq"][i], cols["tx"][i], cols["hlc"][i],
                                       cols["table"][i])
            names, values, versions = cols["field"][i], cols["value"][i], cols["version"][i]
            ok = (isinstance(origin, int) and 0 <= origin < len(order)
                  and isinstance(site, int) and 0 <= site < len(order)
                  and isinstance(aud, str) and _AUDIENCE.match(aud)
                  and all(isinstance(x, int) for x in (d_seq, d_tx, d_hlc))
                  and isinstance(tbl, str) and _NAME.match(tbl) and status in (0, 1)
                  and isinstance(names, list) and isinstance(values, list)
                  and isinstance(versions, list) and len(names) == len(values) == len(versions)
                  and all(isinstance(k, str) and _NAME.match(k) for k in names)
                  and len(set(names)) == len(names))
            if ok:
                key = (order[origin], aud)
                seq = last_seq.get(key, 0) + d_seq
                last_seq[key] = seq
                tx += d_tx
                hlc += d_hlc
                ok = seq >= 0 and tx >= 0 and hlc >= 0
            if ok:
                cells = {k: [v, *_unpack_version(p, hlc, order, last,
                                                 _replaced_base(rids[i], last))]
                         if p != [] else [v]
                         for k, v, p in zip(names, values, versions)}
        except (TypeError, ValueError):
            ok = False
        if ok and status:
            # a refused or withheld change travels as its digest only
            d = cells.get("_d")
            ok = list(cells) == ["_d"] and len(d) == 1 and isinstance(d[0], str) \
                and bool(_DIGEST.match(d[0]))
        elif ok:
            ok = "_d" not in cells
        if not ok:
            raise ProtocolError(f"entry {i} of the batch is malformed")
        if tbl not in KIND_BY_TABLE and internal.match(tbl):
            raise ProtocolError(f"entry {i} of the batch is for table {tbl!r}, which holds no "
                                "records")
        entries.append(Entry(order[origin], aud, seq, tx, tbl, rids[i], hlc, order[site],
                             cells, status))
    return Batch(entries, heads), sites
