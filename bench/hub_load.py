# SPDX-License-Identifier: GPL-3.0-or-later
"""The hub under load: light clients (no local database, so the hub is what is measured) at
100, 500 and 1,000 at once against the SQLite hub and against 1 and 2 processes on PostgreSQL,
in one run, over HTTP on loopback.

A light client plays one of the region's laptops (real devices of CCF, enrolled, each with its
token). Its sync is a hello carrying digests of its vector, and, for the client that pushes
for its laptop (one in ten), the push of that laptop's next change: one signed edit, made and
signed beforehand in order. Clients keep one connection open and retry 502, 503 and 504 as
fieldcoord's own client does (3 tries, backoff from 0.5 s); an error is a sync that failed
after those. The hubs take up to 1,200 connections per process (`--max-connections`).
Figures: syncs per second, p50 and p95 of a sync, p95 of a sync with a push, errors, and the
memory of the hub's processes (resident, summed) at the end.

The load runs in a process of its own (asyncio, raw HTTP/1.1); on these 2-core machines the
clients, the hub's processes and PostgreSQL share the cores.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from fieldcoord.hub import tokens
from fieldcoord.store.exchange import sites_of, vector
from fieldcoord.sync import keyexchange, protocol
from fieldcoord.sync.engine import StorePeer, sync

from .cases import Config, log
from .report import Results, Row

CLIENTS = (100, 500, 1000)
LAPTOPS = 100
PUSHERS_EVERY = 10               # one client in ten pushes for its laptop
SECONDS = 12
MAX_CONNECTIONS = 1200
GOALS = {"errors": 0, "pg2_ratio": 1.6, "push_p95": 2.0}
ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------ the region
def _region(work: Path, changes: int):
    """A hub of CCF with LAPTOPS enrolled laptops; per laptop its token, its hello message and
    its next `changes` pushes (packed messages, in order)."""
    sys.path.insert(0, str(ROOT / "tests" / "support"))
    from region import Region
    region = Region()
    hub = region.make(work / "hub.db", "CCF", device="ccf-hub")
    laptops = []
    for i in range(LAPTOPS):
        s = region.make(work / f"laptop-{i}.db", "CCF", device=f"laptop-{i}")
        s.add("contact", {"name": f"Liaison {i}", "agency": "CCF"})
        laptops.append(s)
    for s in laptops:
        sync(s, StorePeer(hub))
    for s in laptops:
        sync(s, StorePeer(hub))
    plays = []
    with hub.transaction():
        for i in range(LAPTOPS):
            plays.append([tokens.issue(hub.conn, "CCF", f"laptop-{i}")[1]])
    for i, s in enumerate(laptops):
        mine = vector(s.conn)
        hello = protocol.pack({"site": s.site_uuid, "agency": "CCF",
                               "buckets": protocol.vector_digests(mine),
                               **keyexchange.offer(s)})
        rid = s.conn.execute("SELECT id FROM contact WHERE name = ?",
                             (f"Liaison {i}",)).fetchone()[0]
        own = {k: v for k, v in mine.items() if k[0] == s.site_uuid}
        pushes = []
        for n in range(changes):
            s.edit(rid, {"title": f"Watch {n}"})
            batch = next(s.outgoing(own, agency="CCF"))
            pushes.append(protocol.pack({"site": s.site_uuid, "batch": protocol.encode_batch(
                batch, sites_of(s.conn, batch))}))
            for e in batch:
                own[(e.origin, e.audience)] = max(own.get((e.origin, e.audience), 0), e.seq)
        plays[i] += [hello, pushes]
        s.close()
    hub.close()
    return plays


# ------------------------------------------------------------------------------ the clients
async def _post(reader, writer, path: str, token: str, body: bytes) -> int:
    writer.write(f"POST {path} HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer {token}\r\n"
                 f"Content-Type: application/x-fieldcoord\r\nContent-Length: {len(body)}\r\n"
                 "\r\n".encode() + body)
    await writer.drain()
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    length, close = 0, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
        elif name.lower() == "connection" and "close" in value.lower():
            close = True
    if length:
        await reader.readexactly(length)
    if close:
        raise ConnectionResetError("the hub closed the connection")
    return status


async def _client(port: int, play, pusher: bool, stop_at: float, out: dict) -> None:
    token, hello, pushes = play
    conn = None
    next_push = 0

    async def request(path: str, body: bytes) -> bool:
        nonlocal conn
        for attempt in range(4):
            try:
                if conn is None:
                    conn = await asyncio.open_connection("127.0.0.1", port)
                status = await _post(*conn, path, token, body)
                if status == 200:
                    return True
                if status not in (502, 503, 504):
                    return False
            except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError):
                if conn is not None:
                    conn[1].close()
                conn = None
            await asyncio.sleep(0.5 * 2 ** attempt)
        return False

    while time.monotonic() < stop_at:
        t0 = time.monotonic()
        ok = await request("/v1/hello", hello)
        pushed = False
        if ok and pusher and next_push < len(pushes):
            ok = await request("/v1/push", pushes[next_push])
            next_push += 1
            pushed = True
        took = time.monotonic() - t0
        if ok:
            out["times"].append(took)
            if pushed:
                out["push_times"].append(took)
        else:
            out["errors"] += 1
        await asyncio.sleep(random.uniform(0.0, 0.05))
    if conn is not None:
        conn[1].close()


def _load(port: int, plays, clients: int, seconds: float, queue) -> None:
    """Run `clients` light clients for `seconds` (in a process of its own); put the figures
    on `queue`."""
    out = {"times": [], "push_times": [], "errors": 0}

    async def main():
        stop_at = time.monotonic() + seconds
        tasks = []
        for i in range(clients):
            # one client in ten pushes for a laptop of its own; the others only say hello
            pusher = i % PUSHERS_EVERY == 0
            play = plays[(i // PUSHERS_EVERY) % len(plays)] if pusher else plays[i % len(plays)]
            tasks.append(_client(port, play, pusher, stop_at, out))
        await asyncio.gather(*tasks)
    t0 = time.monotonic()
    asyncio.run(main())
    out["wall"] = time.monotonic() - t0
    queue.put(out)


# ------------------------------------------------------------------------------ the hubs
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss(pid: int) -> int:
    """Resident bytes of a process and its children."""
    total = 0
    pids = [pid] + [int(d) for d in os.listdir("/proc") if d.isdigit() and _ppid(int(d)) == pid]
    for p in pids:
        try:
            for line in open(f"/proc/{p}/status"):
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def _ppid(pid: int) -> int:
    try:
        return int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1


def _serve(db: Path, port: int, url: str | None, workers: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "fieldcoord", "--db", str(db), "hub"]
    if url:
        cmd += ["--database-url", url]
    # (each process takes the clients' connections: 1,000 kept open at once)
    cmd += ["serve", "--port", str(port), "--workers", str(workers),
            "--max-connections", str(MAX_CONNECTIONS)]
    env = dict(os.environ, FIELDCOORD_KEYSTORE="database")
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the hub did not start")


def bench_hub(cfg: Config, res: Results) -> None:
    work = cfg.out / "tmp" / "hub"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    os.environ.setdefault("FIELDCOORD_KEYSTORE", "database")
    seconds = SECONDS / 3 if cfg.quick else SECONDS
    plays = _region(work, changes=100)
    sys.path.insert(0, str(ROOT / "tests" / "support"))
    from pgserver import PostgresServer

    from fieldcoord.store.postgres import import_sqlite
    server = PostgresServer().start()
    variants = [("SQLite hub, 1 process", None, 1), ("PostgreSQL, 1 process", "pg1", 1),
                ("PostgreSQL, 2 processes", "pg2", 2)]
    got: dict[tuple[str, int], dict] = {}
    try:
        for clients in CLIENTS:
            for name, pg, workers in variants:
                # a fresh copy of the hub for each run: the pushes start from the beginning
                db = work / f"run-{clients}-{workers}-{pg or 'lite'}.db"
                shutil.copy(work / "hub.db", db)
                url = None
                if pg:
                    url = server.create_database(f"hub_{clients}_{pg}")
                    import_sqlite(db, url)
                port = _free_port()
                proc = _serve(db, port, url, workers)
                try:
                    queue: multiprocessing.Queue = multiprocessing.Queue()
                    load = multiprocessing.Process(target=_load,
                                                   args=(port, plays, clients, seconds, queue))
                    load.start()
                    out = queue.get(timeout=seconds + 300)
                    load.join(30)
                    out["rss"] = _rss(proc.pid)
                finally:
                    proc.send_signal(signal.SIGTERM)
                    try:
                        proc.wait(30)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                got[(name, clients)] = out
                n = len(out["times"])
                log(f"  hub: {name}, {clients} clients: {n / out['wall']:.1f} syncs/s, "
                    f"{out['errors']} errors")
    finally:
        server.stop()
    _report(res, got, variants)
    shutil.rmtree(work, ignore_errors=True)


def _pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def _report(res: Results, got, variants) -> None:
    lines = []
    for (name, clients), out in got.items():
        rate = len(out["times"]) / out["wall"]
        lines.append([name, f"{clients:,}", f"{rate:,.1f}",
                      f"{statistics.median(out['times']):.3f}" if out["times"] else "—",
                      f"{_pct(out['times'], 0.95):.3f}", f"{_pct(out['push_times'], 0.95):.3f}",
                      str(out["errors"]), f"{out['rss'] / 1e6:,.0f}"])
    res.tables.append(("The hub under load: light clients on loopback (a sync: hello, and one "
                       "client in ten pushes one change)",
                       ["hub", "clients", "syncs/s", "p50 s", "p95 s", "p95 with a push, s",
                        "errors", "memory MB"], lines))
    errors_1000 = sum(got[(n, 1000)]["errors"] for n, _, _ in variants if (n, 1000) in got)
    res.add(Row("errors at 1,000 clients, all hubs", "", errors_1000, None, None, "0",
                "yes" if errors_1000 == 0 else "NO"))
    for clients in CLIENTS:
        lite = got.get(("SQLite hub, 1 process", clients))
        pg2 = got.get(("PostgreSQL, 2 processes", clients))
        if lite and pg2 and lite["times"]:
            ratio = (len(pg2["times"]) / pg2["wall"]) / (len(lite["times"]) / lite["wall"])
            res.add(Row(f"syncs/s, 2 processes on PostgreSQL / SQLite hub, {clients:,} clients",
                        "x", ratio, None, None, f">= {GOALS['pg2_ratio']}x",
                        "yes" if ratio >= GOALS["pg2_ratio"] else "NO"))
    for name, _, _ in variants:
        out = got.get((name, 500))
        if out:
            p95 = _pct(out["push_times"], 0.95)
            res.add(Row(f"p95 of a sync with a small push at 500 clients, {name}", "s", p95,
                        None, None, f"< {GOALS['push_p95']:g} s",
                        "yes" if p95 < GOALS["push_p95"] else "NO"))
