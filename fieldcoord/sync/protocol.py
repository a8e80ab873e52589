# SPDX-License-Identifier: GPL-3.0-or-later
"""The sync wire format: versioned JSON messages, zlib-compressed, validated on receipt (sync
layer). Documented in docs/sync-protocol.md.

A batch is {"protocol", "schema", "sites": [[uuid, agency, device]], "entries": [[origin,
audience, seq, tx, table, record, hlc, site, cells, status]]} where origin and site are indexes
into "sites", and the site parts of cells are site UUIDs. Cells of fields a receiver does not
know are kept and forwarded.
"""
from __future__ import annotations

import json
import re
import zlib

from ..store.merge import Entry
from ..store.migrations import LATEST

PROTOCOL = 1
MAX_MESSAGE = 16 * 1024 * 1024        # bytes of one decompressed message
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,40}$")
_AUDIENCE = re.compile(r"^(all|[A-Z0-9][A-Z0-9-]{1,11}(,[A-Z0-9][A-Z0-9-]{1,11})*)$")


class ProtocolError(ValueError):
    """A message that is not what the protocol says; refused whole."""


def pack(message: dict) -> bytes:
    message = {"protocol": PROTOCOL, "schema": LATEST, **message}
    return zlib.compress(json.dumps(message, separators=(",", ":"), ensure_ascii=False)
                         .encode("utf-8"), 6)


def unpack(data: bytes, max_size: int = MAX_MESSAGE) -> dict:
    """Decompress and parse a message, refusing oversized or malformed ones."""
    try:
        d = zlib.decompressobj()
        raw = d.decompress(data, max_size + 1)
        if len(raw) > max_size or d.unconsumed_tail:
            raise ProtocolError(f"message larger than {max_size} bytes")
        message = json.loads(raw.decode("utf-8"))
    except (zlib.error, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ProtocolError(f"not a fieldcoord message: {e}") from None
    if not isinstance(message, dict) or message.get("protocol") != PROTOCOL:
        raise ProtocolError(f"unsupported protocol version {message.get('protocol')!r} "
                            f"(this fieldcoord speaks {PROTOCOL})"
                            if isinstance(message, dict) else "not a fieldcoord message")
    return message


def encode_vector(vector: dict[tuple[str, str], int]) -> list:
    return [[origin, aud, seq] for (origin, aud), seq in sorted(vector.items())]


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


def encode_batch(entries: list[Entry], sites: dict[str, tuple[str, str]]) -> dict:
    index = {u: i for i, u in enumerate(sites)}
    return {"sites": [[u, a, d] for u, (a, d) in sites.items()],
            "entries": [[index[e.origin], e.audience, e.seq, e.tx, e.tbl, e.rid, e.hlc,
                         index[e.site], e.cells, e.status] for e in entries]}


def decode_batch(message: dict) -> tuple[list[Entry], dict[str, tuple[str, str]]]:
    """Entries and sites of a batch message; any malformed part refuses the whole batch."""
    sites_raw, entries_raw = message.get("sites"), message.get("entries")
    if not isinstance(sites_raw, list) or not isinstance(entries_raw, list):
        raise ProtocolError("a batch needs 'sites' and 'entries' lists")
    sites: dict[str, tuple[str, str]] = {}
    order = []
    for s in sites_raw:
        if not (isinstance(s, list) and len(s) == 3 and isinstance(s[0], str)
                and _UUID.match(s[0])):
            raise ProtocolError(f"bad site {s!r}")
        sites[s[0]] = (s[1] if isinstance(s[1], str) else None,
                       s[2] if isinstance(s[2], str) else None)
        order.append(s[0])
    entries = []
    for i, raw in enumerate(entries_raw):
        try:
            origin, aud, seq, tx, tbl, rid, hlc, site, cells, status = raw
            ok = (isinstance(origin, int) and 0 <= origin < len(order)
                  and isinstance(site, int) and 0 <= site < len(order)
                  and isinstance(aud, str) and _AUDIENCE.match(aud)
                  and all(isinstance(x, int) and x >= 0 for x in (seq, tx, hlc))
                  and isinstance(tbl, str) and _NAME.match(tbl)
                  and isinstance(rid, str) and _UUID.match(rid)
                  and isinstance(cells, dict) and status in (0, 1)
                  and all(isinstance(k, str) and _NAME.match(k) and isinstance(c, list) and c
                          for k, c in cells.items()))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ProtocolError(f"entry {i} of the batch is malformed")
        for c in cells.values():
            for j in (2, 4):
                if len(c) > j and c[j] is not None and (not isinstance(c[j], str)
                                                        or not _UUID.match(c[j])):
                    raise ProtocolError(f"entry {i} names a site that is not a UUID")
        entries.append(Entry(order[origin], aud, seq, tx, tbl, rid, hlc, order[site], cells,
                             status))
    return entries, sites
