# SPDX-License-Identifier: GPL-3.0-or-later
"""Record ids: time-ordered UUIDv7 made locally; agency ids derived from the agency code (core layer)."""
from __future__ import annotations

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


@lru_cache(maxsize=65536)
def agency_id(code: str) -> str:
    """The id of the agency with this code, the same on every replica."""
    return str(uuid.uuid5(AGENCY_NAMESPACE, code.strip().upper()))


def looks_like_id(text: str) -> bool:
    return bool(_UUID_RE.match(text.strip().lower()))
