# SPDX-License-Identifier: GPL-3.0-or-later
"""A converged laptop's no-op sync against a hub holding many laptops' streams: round trips and
bytes (request plus answer, compressed) at 100, 1,000 and 10,000 streams, with the hello of
digests (this release) and with whole vectors (the hello of earlier releases, which a hub still
answers), over real HTTP on loopback.

The extra streams are rows of the vector only (site and stream), the same on hub and laptop:
hello reads nothing else, and a converged pair pulls and pushes nothing.
"""
from __future__ import annotations

import random
import shutil
import sys
import uuid
from pathlib import Path

from fieldcoord.hub import tokens
from fieldcoord.hub.server import start_in_thread
from fieldcoord.store import Store, identity
from fieldcoord.sync import protocol
from fieldcoord.sync.engine import sync
from fieldcoord.sync.http import HttpPeer, answer_keys

from .cases import Config, log
from .report import Results, Row

STREAMS = (100, 1_000, 10_000)
GOAL_BYTES = 4096


class WholeVectorPeer(HttpPeer):
    """A caller that sends its whole vector in hello, as earlier releases did."""

    def hello(self, site, agency, vector, keys=None):
        self.site = site
        m = self._post("/v1/hello", {"site": site, "agency": agency,
                                     "vector": protocol.encode_vector(vector), **(keys or {})})
        from fieldcoord.sync.engine import Hello
        return Hello(m["site"], m["agency"], m["epoch"], protocol.decode_vector(m["vector"]),
                     answer_keys(m))


def bench_hello(cfg: Config, res: Results) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))
    from serving import add_streams
    work = cfg.out / "tmp" / "hello"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    lines = []
    rng = random.Random(cfg.seed)
    for n in STREAMS:
        hub, laptop = work / f"hub-{n}.db", work / f"laptop-{n}.db"
        Store.create(hub, "Clark County Fire", "CCF", device="hub").close()
        with Store.open(hub) as h, h.transaction():
            token = tokens.issue(h.conn, "CCF", "laptop-a")[1]
            fingerprint = identity.describe(h)["agency_fingerprint"]
        url, stop = start_in_thread(hub)
        try:
            with Store.create(laptop, "Clark County Fire", "CCF", device="laptop-a") as s:
                s.add("contact", {"name": "Dana Whitfield", "agency": "CCF"})
                first = HttpPeer(url, token, "hub")
                first.key_fingerprint = fingerprint
                sync(s, first)
            sites = [(str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                      rng.randrange(1, 5000)) for _ in range(n)]
            add_streams(hub, sites)
            add_streams(laptop, sites)
            got = {}
            for kind in (HttpPeer, WholeVectorPeer):
                with Store.open(laptop) as s:
                    p = kind(url, token, "hub")
                    p.key_fingerprint = fingerprint
                    sync(s, p)
                got[kind] = (p.round_trips, p.bytes_sent + p.bytes_received)
        finally:
            stop()
        trips, size = got[HttpPeer]
        lines.append([f"{n:,}", str(trips), f"{size:,}", f"{got[WholeVectorPeer][1]:,}"])
        res.add(Row(f"no-op sync with {n:,} streams on the hub: bytes (request + answer)", "B",
                    size, None, None, f"<= {GOAL_BYTES} B, 1 round trip",
                    "yes" if size <= GOAL_BYTES and trips == 1 else "NO"))
        log(f"  hello: {n:,} streams: {trips} round trip(s), {size:,} B "
            f"(whole vectors {got[WholeVectorPeer][1]:,} B)")
    res.tables.append(("A converged laptop's no-op sync (loopback HTTP, compressed bytes)",
                       ["streams on the hub", "round trips", "bytes: digests",
                        "bytes: whole vectors"], lines))
    shutil.rmtree(work, ignore_errors=True)
