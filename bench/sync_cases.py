# SPDX-License-Identifier: GPL-3.0-or-later
"""Sync benchmarks: apply throughput (signed changes verified, against the same changes applied
without verification), first sync of a 100,000-contact hub over loopback HTTP, a no-op sync, ten
edits synced, and bytes on the wire per changed field (with and without signatures)."""
from __future__ import annotations

import gc
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import requests

from fieldcoord.hub import tokens
from fieldcoord.store import Store, identity
from fieldcoord.store.exchange import apply_batch, outgoing, sites_of, vector
from fieldcoord.store.incoming import Report
from fieldcoord.store.merge import Merger
from fieldcoord.sync import protocol

from .cases import Config, ensure_cache, log
from .report import Results, Row, median

# the write path's goals (issue 18): apply at least 150,000 user fields a second, read plus
# apply of the directory in under 5 s, at most 12 B per changed field on the wire, a first sync
# of 100,000 contacts in at most 10 s and 300 MB
TARGETS = {"apply_fields_s": 150_000, "read_apply_s": 5.0, "first_sync_s": 10.0,
           "first_sync_mb": 300, "noop_trips": 1, "noop_bytes": 8192, "edits_ms": 300,
           "bytes_per_field": 12, "verify_ratio": 1.10, "signed_extra_bytes": 2.0}
APPLY_RUNS = 5              # timed runs of each variant, interleaved: signed, unsigned, signed, ...


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
    """User fields in entries: every cell but the bookkeeping ones (causal length included)."""
    return sum(len([c for c in e.cells if not c.startswith("_")]) for e in entries)


def apply_unsigned(store, entries, sites) -> Report:
    """apply_batch without its verification (bench only): the same Merger work in one
    transaction, without check_batch and without the chain hashes and heads it keeps. Every
    entry goes to the Merger as received, as before changes were signed."""
    with store.transaction():
        report = Report()
        merger = Merger(store, sites, report=report)
        merger.prefetch(entries)
        merger.apply_all(entries)
        merger.finish()
        return report


def _apply_signed(store, entries, sites) -> Report:
    return apply_batch(store, entries, sites)


def _fresh_target(path: Path, hub: Store, certs: list) -> Store:
    """A new replica of the hub's agency, enrolled by the hub (it trusts the agency's key).
    `certs`: certificates to install before the clock starts (the unsigned path, which skips
    check_batch, would otherwise hold every writer's agency as unverified)."""
    for suffix in ("", "-wal", "-shm", ".keys"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    store = Store.create(path, "Bench County Fire", "BCF", device=path.stem, founder=False)
    identity.enroll(store, hub)
    if certs:
        with store.transaction():
            trusted = identity.trusted_keys(store.conn)
            for cert in certs:
                identity.install_cert(store.conn, cert, trusted)
    return store


def _range(xs, f=lambda x: f"{x:,.0f}") -> str:
    return f"{f(min(xs))}-{f(max(xs))}"


def bench_apply(cfg: Config, res: Results, hub_db: Path, tmp: Path) -> None:
    """Changes of the whole directory applied into an empty replica, batch by batch: verified
    as received (apply_batch) and, in the same run, without verification (apply_unsigned),
    the two interleaved, each into a new replica."""
    hub = Store.open(hub_db)          # opened (and upgraded, if made before keys) untimed
    try:
        hub.sign_heads()
        # reading timed as a sync reads, a batch at a time (keeping every batch, as the runs
        # below need, would time the garbage collector walking them); what this process held
        # before (a directory built for the cache just now: several hundred thousand objects)
        # kept out of the collector's passes, as a syncing process does not hold it
        gc.collect()
        gc.freeze()
        t0 = time.perf_counter()
        for b in outgoing(hub.conn, {k: 0 for k in vector(hub.conn)}):
            sites_of(hub.conn, b)
        read_s = time.perf_counter() - t0
        gc.unfreeze()
        batches = [(b, sites_of(hub.conn, b)) for b in
                   outgoing(hub.conn, {k: 0 for k in vector(hub.conn)})]
        certs = list({info[2] for _, sites in batches for info in sites.values()
                      if len(info) > 2 and info[2]})
        fields = sum(_fields(b) for b, _ in batches)
        variants = {"signed": (_apply_signed, []), "unsigned": (apply_unsigned, certs)}
        times: dict = {name: [] for name in variants}
        cpu: dict = {name: [] for name in variants}     # this process's CPU seconds
        reports: dict = {}
        for run in range(APPLY_RUNS):
            for name, (apply, pre) in variants.items():
                target = _fresh_target(tmp / f"apply-{name}.db", hub, pre)
                total = Report()
                # a received entry carries no JSON text of its cells: checking the signature
                # makes it (and the merge reuses it), else the merge makes it
                for batch, _ in batches:
                    for e in batch:
                        e.text = None
                # The batches held here are input, several million objects a sync never holds
                # at once (it has one or two batches): kept out of the garbage collector's
                # passes while timing.
                gc.collect()
                gc.freeze()
                t0, c0 = time.perf_counter(), time.process_time()
                target.defer_search(indexes=True)   # as a sync that brings more than it holds
                for batch, sites in batches:
                    total.merge(apply(target, batch, sites))
                target.catch_up_search()
                elapsed = time.perf_counter() - t0
                cpu[name].append(time.process_time() - c0)
                gc.unfreeze()
                target.close()
                for suffix in ("", "-wal", "-shm", ".keys"):
                    Path(str(tmp / f"apply-{name}.db") + suffix).unlink(missing_ok=True)
                times[name].append(elapsed)
                reports.setdefault(name, total)
                log(f"  apply run {run + 1} {name}: {elapsed:.2f} s "
                    f"({cpu[name][-1]:.2f} s CPU), {fields / elapsed:,.0f} fields/s "
                    f"({total.applied:,} applied, {total.held:,} held, "
                    f"{sum(total.unverified.values()):,} unverified, "
                    f"{len(total.tampered)} tampered, {len(total.refused)} refused)")
    finally:
        hub.close()
    sig, uns = reports["signed"], reports["unsigned"]
    same = (sig.applied == uns.applied and not sig.held and not sig.unverified
            and not sig.tampered and len(sig.refused) == len(uns.refused))
    if not same:
        res.notes.append(
            f"apply: the variants did not apply the same changes (signed: {sig.applied:,} "
            f"applied, {sig.held:,} held, {sum(sig.unverified.values()):,} unverified, "
            f"{len(sig.tampered)} tampered; unsigned: {uns.applied:,} applied): the ratio is "
            "not meaningful")
    label = f"apply {fields:,} user fields ({len(batches)} batches)"
    whole = read_s + median(times["signed"])
    res.add(Row(f"read ({read_s:.2f} s) plus apply (median) of the directory, end to end",
                "s", whole, None, None, f"<= {TARGETS['read_apply_s']:g} s",
                "yes" if whole <= TARGETS["read_apply_s"] else "NO"))
    rates = {name: [fields / t for t in ts] for name, ts in times.items()}
    rate = median(rates["signed"])
    res.add(Row(f"{label}, signed (verified), median of {APPLY_RUNS}, "
                f"{_range(rates['signed'])}", "fields/s", rate, None, None,
                f">= {TARGETS['apply_fields_s']:,} (cr-sqlite: 99,000)",
                "yes" if rate >= TARGETS["apply_fields_s"] else "NO"))
    res.add(Row(f"{label}, unsigned (no check_batch), median of {APPLY_RUNS}, "
                f"{_range(rates['unsigned'])}", "fields/s", median(rates["unsigned"]), None,
                None))
    paired = [s_ / u_ for s_, u_ in zip(times["signed"], times["unsigned"])]
    ratio = median(times["signed"]) / median(times["unsigned"])
    ok = ratio <= TARGETS["verify_ratio"] and same
    res.add(Row(f"apply time signed / unsigned (medians; run by run "
                f"{_range(paired, lambda x: f'{x:.2f}')})", "x", ratio, None, None,
                f"<= {TARGETS['verify_ratio']:.2f}", "yes" if ok else "NO"))
    # CPU seconds of this process: what other work on the shared cores moves least
    paired_cpu = [s_ / u_ for s_, u_ in zip(cpu["signed"], cpu["unsigned"])]
    ratio_cpu = median(cpu["signed"]) / median(cpu["unsigned"])
    res.add(Row(f"apply CPU time signed / unsigned (medians; run by run "
                f"{_range(paired_cpu, lambda x: f'{x:.2f}')})", "x", ratio_cpu, None, None,
                f"<= {TARGETS['verify_ratio']:.2f}",
                "yes" if ratio_cpu <= TARGETS["verify_ratio"] and same else "NO"))
    res.tables.append((
        f"Apply throughput run by run ({fields:,} fields, {len(batches)} batches; variants "
        "interleaved, each into a new replica)",
        ["Run", "Variant", "Seconds", "CPU seconds", "Fields/s"],
        [[str(i + 1), name, f"{times[name][i]:.2f}", f"{cpu[name][i]:.2f}",
          f"{rates[name][i]:,.0f}"] for i in range(APPLY_RUNS) for name in variants]))


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
        # The directory was loaded by local writes, which leave their stream's row (position,
        # chain hash) to be brought up to date before the entries are first sent; a hub's log
        # comes from pushes, settled as each commits. Timed here, once, on its own.
        t0 = time.perf_counter()
        hub.sign_heads()
        settle_s = time.perf_counter() - t0
        held = hub.held_changes()
    res.add(Row(f"settling a replica's own {held:,} unsent entries (chain hashes, "
                "heads), once after the bulk load", "s", settle_s, None, None, "", ""))
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
        _cli(laptop, "init", "--agency", "Bench County Fire", "--code", "BCF", "--join")
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
        ro = sqlite3.connect(f"file:{laptop}?mode=ro", uri=True)
        try:            # a replica started from a snapshot is not site number 1 of its database
            ord_ = ro.execute("SELECT value FROM meta WHERE key = 'self_ord'").fetchone()
        finally:
            ro.close()
        log(f"  first sync: {first:.1f} s, {line['received']:,} changes, "
            f"{'from a snapshot' if ord_ and ord_[0] != '1' else 'without a snapshot'}")
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
    """A typical batch: 1,000 single-field edits of different contacts, as sent: with its
    signed heads and its sites' certificates, and without them (as before signing)."""
    with Store.open(laptop) as s:
        # (in the order of their names, spread over agencies and writers: contacts made one
        # after the other have ids that share their beginnings, which compress better)
        ids = [r[0] for r in s.conn.execute(
            "SELECT id FROM contact ORDER BY coalesce(name, '') COLLATE NOCASE, id "
            "LIMIT 1000 OFFSET 100")]
        rnd = random.Random(7)
        before = {k: v for k, v in vector(s.conn).items()}
        with s.transaction():
            for rid in ids:
                s.edit(rid, {"title": rnd.choice(["Captain", "Chief", "Lieutenant", "Medic"])
                             + f" {rnd.randint(1, 99)}"})
        since = {k: before.get(k, 0) for k in vector(s.conn)}
        s.sign_heads()
        batch = next(outgoing(s.conn, since))
        sites = sites_of(s.conn, batch)
    signed = protocol.pack(protocol.encode_batch(batch, sites))
    bare = protocol.pack(protocol.encode_batch(
        batch, {u: (info[0], info[1], None) for u, info in sites.items()}, heads={}))
    fields = _fields(batch)
    per, per_bare = len(signed) / fields, len(bare) / fields
    extra = per - per_bare
    res.add(Row(f"bytes per changed field, batch of {fields:,} edits (zlib), signed "
                f"({sum(len(v) for v in batch.heads.values())} heads, "
                f"{sum(1 for i in sites.values() if i[2])} certificates)", "B", per, None, None,
                f"<= {TARGETS['bytes_per_field']} B (cr-sqlite: 17 B)",
                "yes" if per <= TARGETS["bytes_per_field"] else "NO"))
    res.add(Row(f"bytes per changed field, batch of {fields:,} edits (zlib), unsigned "
                "(no heads, no certificates)", "B", per_bare, None, None))
    res.add(Row(f"bytes per changed field: signed - unsigned ({len(signed):,} - "
                f"{len(bare):,} B)", "B", extra, None, None,
                f"<= {TARGETS['signed_extra_bytes']:g} B",
                "yes" if extra <= TARGETS["signed_extra_bytes"] else "NO"))
