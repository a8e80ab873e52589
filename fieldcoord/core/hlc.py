# SPDX-License-Identifier: GPL-3.0-or-later
"""Hybrid logical clock: 48-bit milliseconds and a 16-bit counter in one integer (core layer)."""
from __future__ import annotations

import time
from functools import lru_cache

COUNTER_BITS = 16
COUNTER_MASK = (1 << COUNTER_BITS) - 1


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def pack(ms: int, counter: int = 0) -> int:
    return (ms << COUNTER_BITS) | (counter & COUNTER_MASK)


def millis(hlc: int) -> int:
    return hlc >> COUNTER_BITS


def counter(hlc: int) -> int:
    return hlc & COUNTER_MASK


def tick(last: int, now_ms: int | None = None) -> int:
    """The next local timestamp: wall clock when it is ahead, else last + 1 (counter)."""
    now = pack(wall_ms() if now_ms is None else now_ms)
    return now if now > last else last + 1


def receive(last: int, remote: int, now_ms: int | None = None) -> int:
    """The local clock after seeing a remote timestamp: above both, never behind the wall clock."""
    now = pack(wall_ms() if now_ms is None else now_ms)
    return max(now, last + 1, remote + 1)


@lru_cache(maxsize=64)
def _iso_second(second: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))


def to_iso(hlc: int) -> str:
    """UTC time of a timestamp, ISO 8601 to the second."""
    return _iso_second(millis(hlc) // 1000)
