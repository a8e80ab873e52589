# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the tests that start hubs as processes and regional hubs' many streams."""
from __future__ import annotations

import subprocess
import time


def wait_until_serving(url: str, proc: subprocess.Popen, seconds: float = 30,
                       **request) -> None:
    """Wait until the hub at `url` answers /v1/health; fail with its error output if the
    process ends first."""
    import requests
    deadline = time.monotonic() + seconds
    while True:
        try:
            requests.get(url + "/v1/health", timeout=2, **request)
            return
        except requests.ConnectionError:
            if proc.poll() is not None:
                err = proc.stderr.read() if proc.stderr else ""
                raise AssertionError(f"the hub ended: {err}") from None
            assert time.monotonic() < deadline, f"no answer from {url}"
            time.sleep(0.2)


def add_streams(db, sites) -> None:
    """Streams of many laptops, as a regional hub and its laptops hold them: (site UUID,
    sequence number) pairs, the rows of the vector only (hello reads nothing else)."""
    from fieldcoord.store import Store
    with Store.open(db) as s, s.transaction():
        base = s.conn.execute("SELECT max(ord) FROM site").fetchone()[0]
        s.conn.executemany("INSERT INTO site (ord, uuid, agency, device) VALUES (?, ?, 'CCF', ?)",
                           [(base + i + 1, u, f"laptop-{i}") for i, (u, _) in enumerate(sites)])
        s.conn.executemany("INSERT INTO stream (origin, audience, seq) VALUES (?, 'CCF', ?)",
                           [(base + i + 1, seq) for i, (_, seq) in enumerate(sites)])
