# SPDX-License-Identifier: GPL-3.0-or-later
"""Import benchmarks: the 8,077-row USFA fire department registry (CSV) and a generated file of
10,000 vCards, each imported into a fresh directory and then again (every card a duplicate).

Each import runs in a child process of its own, so its peak memory (ru_maxrss) is its own; the
child reports the time of the import alone and its resident size before and after it.
"""
from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

from .cases import ROOT, Config, log
from .report import Results, Row

USFA = ROOT.parent / "shared" / "corpus" / "agencies" / "usfa-registry-station.csv"
CARDS = 10_000
TARGETS = {"usfa_s": 30.0, "vcard_s": 60.0, "peak_mb": 500.0}

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from fieldcoord.store import Store
from fieldcoord.interop.runner import run_import
db, fmt, path, options = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
def rss_mb():
    # this process's own high-water mark (ru_maxrss would include the parent it was forked from)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
store = Store.create(db, "Bench County Emergency Management", "BCEM")
base = rss_mb()
out = {}
for run in ("first", "again"):
    t0 = time.perf_counter()
    report = run_import(store, fmt, [path], options)
    out[run] = {"s": time.perf_counter() - t0, "added": dict(report.added),
                "updated": dict(report.updated), "unchanged": dict(report.unchanged),
                "skipped": len(report.skipped)}
out["base_mb"], out["peak_mb"] = base, rss_mb()
print(json.dumps(out))
"""

_GIVEN = ("Ana", "Ben", "Chloé", "Dmitri", "Elif", "Farid", "Grace", "Hiro", "Inés", "Jonas",
          "Kwame", "Léa", "Mateo", "Nadia", "Owen", "Priya", "Quinn", "Rosa", "Sven", "Tomás")
_FAMILY = ("Lima", "Ode", "Müller", "Nguyen", "Okafor", "Petrov", "Quiroga", "Rossi", "Sato",
           "Tanaka", "Underwood", "Vargas", "Weiß", "Xu", "Yilmaz", "Zielinski", "García",
           "Haddad", "Ivanova", "Johansson")
_ORGS = ("Police Department", "Fire Rescue", "Emergency Medical Services", "Public Works",
         "Sheriff's Office", "Health District", "Water Utility", "Red Cross Chapter")
_TOWNS = ("Port City", "Harbor View", "Elm Falls", "Cedar Bluff", "North Bay", "Lakeside",
          "Stonebridge", "Maple Grove", "Riverton", "Westfield")


def make_vcards(path: Path, n: int, seed: int) -> None:
    """n cards as phones and mail clients write them: vCard 3.0 with grouped labels and folded
    notes, and one in five in 2.1 with quoted-printable; about 80 organisations."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        # a different person on every card: name, middle initial and family name vary
        given, family = _GIVEN[i % 20], _FAMILY[(i // 20) % 20]
        given = f"{given} {chr(65 + (i // 400) % 26)}."
        org = f"{rnd.choice(_TOWNS)} {rnd.choice(_ORGS)}"
        area = 200 + i % 700
        work = f"({area}) 555-{i % 10_000:04d}"
        mobile = f"+1 {area} 6{i % 100:02d} {(i * 7) % 10_000:04d}"
        email = f"{given.lower()[:-3]}.{family.lower()}.{i}@example.org".encode(
            "ascii", "ignore").decode()
        if i % 5 == 0:
            def qp(text):
                return "".join(f"={b:02X}" if b > 126 or b == 61 else chr(b)
                               for b in text.encode("utf-8"))
            out += ["BEGIN:VCARD", "VERSION:2.1",
                    f"N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:{qp(family)};{qp(given)};;;",
                    f"FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:{qp(given + ' ' + family)}",
                    f"ORG:{org}", f"TEL;WORK;VOICE:{work}", f"TEL;CELL:{mobile}",
                    f"EMAIL;INTERNET:{email}", "END:VCARD"]
        else:
            note = ("Liaison for mutual aid and shelter operations; call the duty line "
                    "after hours, radio on VTAC11 during incidents.")
            out += ["BEGIN:VCARD", "VERSION:3.0", f"FN:{given} {family}",
                    f"N:{family};{given};;;", f"ORG:{org}", "TITLE:Liaison Officer",
                    f"TEL;TYPE=WORK,VOICE:{work}", f"item1.TEL:{mobile}",
                    "item1.X-ABLabel:_$!<Mobile>!$_", f"EMAIL;TYPE=INTERNET,WORK:{email}",
                    f"ADR;TYPE=WORK:;;{i} Main St;{rnd.choice(_TOWNS)};WA;98{i % 1000:03d};USA",
                    f"NOTE:{note[:60]}", f" {note[60:]}", "END:VCARD"]
    path.write_bytes(("\r\n".join(out) + "\r\n").encode("utf-8"))


def _run(tmp: Path, name: str, fmt: str, path: Path, options: dict) -> dict:
    db = tmp / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    r = subprocess.run([sys.executable, "-c", _CHILD, str(db), fmt, str(path),
                        json.dumps(options)], capture_output=True, text=True, cwd=ROOT,
                       timeout=1800)
    if r.returncode:
        raise RuntimeError(f"{name} import failed:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def _rows(res: Results, what: str, got: dict, target_s: float) -> None:
    first, again = got["first"], got["again"]
    added = ", ".join(f"{n:,} {k}" for k, n in sorted(first["added"].items()))
    res.add(Row(f"import {what} ({added})", "s", first["s"], None, None,
                f"< {target_s:g} s", "yes" if first["s"] < target_s else "NO"))
    same = ", ".join(f"{n:,} {k}" for k, n in sorted(again["unchanged"].items()))
    res.add(Row(f"import {what} again (unchanged: {same})", "s", again["s"], None, None,
                "adds nothing", "yes" if not again["added"] else "NO"))
    res.add(Row(f"import {what}: peak resident memory (before: {got['base_mb']:.0f} MB)", "MB",
                got["peak_mb"], None, None, f"< {TARGETS['peak_mb']:g} MB",
                "yes" if got["peak_mb"] < TARGETS["peak_mb"] else "NO"))


def bench_import(cfg: Config, res: Results) -> None:
    tmp = cfg.out / "tmp" / "interop"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if USFA.exists():
        log("import: USFA registry ...")
        got = _run(tmp, "usfa", "csv", USFA, {"kind": "agency"})
        _rows(res, "USFA registry, 8,077 rows", got, TARGETS["usfa_s"])
    else:
        res.notes.append(f"USFA registry not found at {USFA}: its import was not measured")
    n = max(1, int(CARDS * cfg.scale))
    cards = tmp / "cards.vcf"
    make_vcards(cards, n, cfg.seed)
    log(f"import: {n:,} generated vCards ...")
    got = _run(tmp, "vcards", "vcard", cards, {})
    _rows(res, f"{n:,} generated vCards ({cards.stat().st_size / 1e6:.1f} MB)", got,
          TARGETS["vcard_s"] * n / CARDS)
    res.notes.append("Imports: each in a fresh directory in a child process (peak memory is "
                     "its ru_maxrss, Python and SQLite included); the second import of the "
                     "same file matches every record and adds nothing.")
