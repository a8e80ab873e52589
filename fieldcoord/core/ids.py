# SPDX-License-Identifier: GPL-3.0-or-later
"""Record ids: time-ordered UUIDv7 made locally; agency ids derived from the agency code
(core layer)."""
from __future__ import annotations

import hashlib
import os
import re
import time
import uuid
from functools import lru_cache

# Agency records are identified by their code: every replica that creates agency CCF gives it
# the same id, so a new laptop joining its agency never makes a second CCF record.
AGENCY_NAMESPACE = uuid.UUID("6f1e2d3c-8a4b-4c5d-9e0f-a1b2c3d4e5f6")

_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def new_id() -> str:
    """A new UUIDv7 (48-bit Unix milliseconds, version, 74 random bits, variant) as text."""
    ms = (time.time_ns() // 1_000_000) & 0xFFFF_FFFF_FFFF
    rand = int.from_bytes(os.urandom(10), "big")
    rand_a = (rand >> 68) & 0xFFF                      # 12 bits
    rand_b = rand & ((1 << 62) - 1)                    # 62 bits
    h = f"{ms:012x}7{rand_a:03x}{(0b10 << 62) | rand_b:016x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_last = [0, 0]          # the millisecond and counter of the last bound id made here


def new_bound_id(site: str, owner: str) -> str:
    """A new record id bound to the replica that creates it and the agency it names as owner: a
    UUIDv8 laid out as a UUIDv7 (48-bit Unix milliseconds first, so ids still sort by time),
    then a 12-bit counter of the ids made in that millisecond, then 62 bits of a hash of
    (creating site, owner, millisecond, counter). Every replica can check a record's creator
    and owner from its id alone (`made_by`), whatever path or order its changes come in;
    naming another creator or owner means finding a 62-bit hash collision."""
    ms = time.time_ns() // 1_000_000
    if ms <= _last[0]:
        ms, n = _last[0], _last[1] + 1
        if n > 0xFFF:                   # more than 4,096 in a millisecond: borrow the next one
            ms, n = ms + 1, 0
    else:
        n = 0
    _last[0], _last[1] = ms, n
    ms &= 0xFFFF_FFFF_FFFF
    x = bound_tail(site, owner, ms, n)
    return f"{ms >> 16:08x}-{ms & 0xFFFF:04x}-8{n:03x}-{x >> 48:04x}-{x & 0xFFFF_FFFF_FFFF:012x}"


def bound_tail(site: str, owner: str, ms: int, n: int) -> int:
    """The last 64 bits of the id `site` makes for `owner` as the `n`th of millisecond `ms`
    (new_bound_id): the variant, then the tag. Anyone can compute it: it binds, it hides
    nothing."""
    return (0b10 << 62) | _tag(site, owner, ms, n)


def _tag(site: str, owner: str, ms: int, n: int) -> int:
    d = hashlib.blake2b(f"{site}\0{owner}\0{ms}\0{n}".encode(), digest_size=8).digest()
    return int.from_bytes(d, "big") & ((1 << 62) - 1)


def is_bound(rid: str) -> bool:
    return len(rid) == 36 and rid[14] == "8"


def made_by(rid: str, site: str, owner: str) -> bool:
    """Whether a bound id (see new_bound_id) was made by `site` for `owner`."""
    try:
        v = int(rid.replace("-", ""), 16)
    except ValueError:
        return False
    # 48 bits of milliseconds, 4 of version, 12 of counter, then the variant and the tag
    ms, n, tag = v >> 80, (v >> 64) & 0xFFF, v & ((1 << 62) - 1)
    return isinstance(owner, str) and isinstance(site, str) and _tag(site, owner, ms, n) == tag


@lru_cache(maxsize=65536)
def agency_id(code: str) -> str:
    """The id of the agency with this code, the same on every replica."""
    return str(uuid.uuid5(AGENCY_NAMESPACE, code.strip().upper()))


def looks_like_id(text: str) -> bool:
    return bool(_UUID_RE.match(text.strip().lower()))
