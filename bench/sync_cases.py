# SPDX-License-Identifier: GPL-3.0-or-later
"""Sync benchmarks: apply throughput, first sync of a 100,000-contact hub over loopback HTTP, a
no-op sync, ten edits synced, and bytes on the wire per changed field."""
from __future__ import annotations

import gc
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from fieldcoord.hub import tokens
from fieldcoord.store import Store
from fieldcoord.store.exchange import apply_batch, outgoing, sites_of, vector
from fieldcoord.sync import protocol

from .cases import Config, ensure_cache, log
from .report import Results, Row

TARGETS = {"apply_fields_s": 100_000, "first_sync_s": 20.0, "first_sync_mb": 300,
           "noop_trips": 1, "noop_bytes": 8192, "edits_ms": 300, "bytes_per_field": 20}


# `fieldcoord ...` that reports its own peak memory last on stderr ("VmHWM <kB>"): ru_maxrss of a
# child counts the memory of the process it was forked from.
_MEASURED_CLI = r"""
import sys
from fieldcoord.cli import main
code = main(sys.argv[1:])
hwm = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print("VmHWM", hwm, file=sys.stderr)
sys.exit(code)
"""


def _cli(db: Path, *args, env=None, stdin=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fieldcoord", "--db", str(db), *map(str, args)],
                          capture_output=True, text=True, env=env, input=stdin, timeout=900)


def _fields(entries) -> int:
    return sum(len([c for c in e.cells if not c.startswith("_") or c == "_cl"]) for e in entries)


def bench_apply(cfg: Config, res: Results, hub_db: Path, tmp: Path) -> None:
    """Changes of the whole directory applied into an empty replica, batch by batch."""
    with Store.open(hub_db) as hub:
        batches = [(b, sites_of(hub.conn, b)) for b in
                   outgoing(hub.conn, {k: 0 for k in vector(hub.conn)})]
    target = tmp / "apply.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    store = Store.create(target, "Bench County Fire", "BCF")
    fields = sum(_fields(b) for b, _ in batches)
    # The batches held here are input, several million objects a sync never holds at once (it
    # has one or two batches): kept out of the garbage collector's passes while timing.
    gc.collect()
    gc.freeze()
    t0 = time.perf_counter()
    store.defer_search(indexes=True)      # as a sync does that brings more than it holds
    for batch, sites in batches:
        apply_batch(store, batch, sites)
    store.catch_up_search()
    elapsed = time.perf_counter() - t0
    gc.unfreeze()
    store.close()
    rate = fields / elapsed
    res.add(Row(f"apply {fields:,} fields ({len(batches)} batches)", "fields/s", rate, None,
                None, f">= {TARGETS['apply_fields_s']:,} (cr-sqlite: 99,000)",
                "yes" if rate >= TARGETS["apply_fields_s"] else "NO"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_sync(cfg: Config, res: Results) -> None:
    ensure_cache(cfg)
    tmp = cfg.out / "tmp" / "sync"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    hub_db = tmp / "hub.db"
    shutil.copy(cfg.db("store"), hub_db)
    with Store.open(hub_db) as hub:
        with hub.transaction():
            _, token = tokens.issue(hub.conn, hub.home, "bench-laptop")
        contacts = hub.count("contact")
    port = _free_port()
    env = dict(os.environ, FIELDCOORD_TOKEN_HUB=token)
    server = subprocess.Popen([sys.executable, "-m", "fieldcoord", "--db", str(hub_db), "hub",
                               "serve", "--port", str(port)], stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if requests.get(url + "/v1/health", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        laptop = tmp / "laptop.db"
        _cli(laptop, "init", "--agency", "Bench County Fire", "--code", "BCF")
        # without a keyring the peer is still added; the token then comes from the environment
        _cli(laptop, "peer", "add", "hub", url, "--token-stdin", env=env, stdin=token)
        log(f"sync: first sync of {contacts:,} contacts over HTTP ...")
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-c", _MEASURED_CLI, "--db", str(laptop), "--json",
                            "sync"], capture_output=True, text=True, env=env, timeout=900)
        first = time.perf_counter() - t0
        if r.returncode:
            raise RuntimeError(r.stderr)
        peak_mb = int(r.stderr.strip().splitlines()[-1].split()[1]) / 1024
        line = json.loads(r.stdout)[0]
        res.add(Row(f"first sync of {contacts:,} contacts to an empty laptop (loopback HTTP)",
                    "s", first, None, None, f"<= {TARGETS['first_sync_s'] * cfg.scale:g} s",
                    "yes" if first <= TARGETS["first_sync_s"] * cfg.scale else "NO"))
        res.add(Row("first sync: peak memory of the laptop process", "MB", peak_mb, None, None,
                    f"<= {TARGETS['first_sync_mb']} MB",
                    "yes" if peak_mb <= TARGETS["first_sync_mb"] else "NO"))
        res.add(Row("first sync: bytes on the wire per change", "B",
                    line["bytes"] / max(line["received"], 1), None, None))
        r = _cli(laptop, "--json", "sync", env=env)
        noop = json.loads(r.stdout)[0]
        res.add(Row("no-op sync: round trips", "trips", noop["round_trips"], None, None,
                    "1", "yes" if noop["round_trips"] == 1 else "NO"))
        res.add(Row("no-op sync: bytes both ways", "B", noop["bytes"], None, None,
                    f"<= {TARGETS['noop_bytes']}",
                    "yes" if noop["bytes"] <= TARGETS["noop_bytes"] else "NO"))
        with Store.open(laptop) as s:
            ids = [row[0] for row in s.conn.execute("SELECT id FROM contact LIMIT 10")]
            for i, rid in enumerate(ids):
                s.edit(rid, {"title": f"Edited title {i}"})
        r = _cli(laptop, "--json", "sync", env=env)
        ten = json.loads(r.stdout)[0]
        res.add(Row("10 edits synced: time inside sync", "ms", ten["seconds"] * 1000, None, None,
                    f"<= {TARGETS['edits_ms']} ms",
                    "yes" if ten["seconds"] * 1000 <= TARGETS["edits_ms"] else "NO"))
        res.add(Row("10 edits synced: bytes both ways", "B", ten["bytes"], None, None))
    finally:
        server.terminate()
        server.wait(timeout=30)
    bench_bytes_per_field(res, tmp / "laptop.db")
    # last: it holds every batch in memory, which children forked after it would inherit
    log("sync: apply throughput ...")
    bench_apply(cfg, res, hub_db, tmp)


def bench_bytes_per_field(res: Results, laptop: Path) -> None:
    """A typical batch: 1,000 single-field edits of different contacts, as sent."""
    with Store.open(laptop) as s:
        ids = [r[0] for r in s.conn.execute("SELECT id FROM contact LIMIT 1000 OFFSET 100")]
        rnd = random.Random(7)
        before = {k: v for k, v in vector(s.conn).items()}
        with s.transaction():
            for rid in ids:
                s.edit(rid, {"title": rnd.choice(["Captain", "Chief", "Lieutenant", "Medic"])
                             + f" {rnd.randint(1, 99)}"})
        since = {k: before.get(k, 0) for k in vector(s.conn)}
        batch = next(outgoing(s.conn, since))
        body = protocol.pack(protocol.encode_batch(batch, sites_of(s.conn, batch)))
    fields = _fields(batch)
    per = len(body) / fields
    res.add(Row(f"bytes per changed field, batch of {fields:,} edits (zlib)", "B", per, None,
                None, f"<= {TARGETS['bytes_per_field']} B (cr-sqlite: 17 B)",
                "yes" if per <= TARGETS["bytes_per_field"] else "NO"))
