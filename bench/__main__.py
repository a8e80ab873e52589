# SPDX-License-Identifier: GPL-3.0-or-later
"""Run the store benchmarks: python -m bench [--quick] [--only NAME ...]."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import SEED, cases, sync_cases
from .report import Results, load_average, machine, to_markdown, to_text

BENCHMARKS = {
    "load": cases.bench_load,
    "search": cases.bench_search,
    "writes": lambda cfg, res: _lazy("writes", "run")(cfg, res),
    "size": cases.bench_size,
    "sync": sync_cases.bench_sync,
    "ui": lambda cfg, res: _lazy("ui_cases", "bench_ui")(cfg, res),
    "import": lambda cfg, res: _lazy("interop_cases", "bench_import")(cfg, res),
    "hello": lambda cfg, res: _lazy("hello_cases", "bench_hello")(cfg, res),
    "hub": lambda cfg, res: _lazy("hub_load", "bench_hub")(cfg, res),
}


def _lazy(module: str, name: str):
    """Benchmarks of the app and the formats load their modules only when they run."""
    import importlib
    return getattr(importlib.import_module(f"{__package__}.{module}"), name)


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the fieldcoord store against plain SQLite tables on a generated "
                    "directory of 100,000 contacts and 5,000 agencies.")
    p.add_argument("--quick", action="store_true", help="1/10 of the sizes (10,000 contacts)")
    p.add_argument("--only", action="append", metavar="NAME",
                   help=f"run only these benchmarks ({', '.join(BENCHMARKS)}); repeat or "
                        "separate with commas")
    p.add_argument("--out", type=Path, default=cases.ROOT / "bench" / "out",
                   help="where the cached databases and the markdown results go "
                        "(default: bench/out)")
    p.add_argument("--seed", type=int, default=SEED, help="seed of the generated data")
    args = p.parse_args(argv)
    names = []
    for item in args.only or []:
        names += [n.strip() for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        p.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    args.names = [n for n in BENCHMARKS if n in names] if names else list(BENCHMARKS)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    cfg = cases.Config(quick=args.quick, out=args.out, seed=args.seed)
    size = "quick, 1/10 sizes" if cfg.quick else "full size"
    res = Results(f"fieldcoord store benchmarks ({size}: {cfg.n('contacts'):,} contacts, "
                  f"{cfg.n('agencies'):,} agencies)", machine())
    res.info["load_before"] = load_average()
    t0 = time.perf_counter()
    for name in args.names:
        cases.log(f"{name} ...")
        t = time.perf_counter()
        BENCHMARKS[name](cfg, res)
        cases.log(f"{name} done in {time.perf_counter() - t:.1f} s")
    res.info["load_after"] = load_average()
    res.notes.append(
        f"Benchmarks run: {', '.join(args.names)}; wall time {time.perf_counter() - t0:.0f} s; "
        f"data seed {cfg.seed}; cached directory {cfg.key}.")
    text = to_text(res)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = ("-quick" if cfg.quick else "") + \
        ("" if args.names == list(BENCHMARKS) else "-" + "-".join(args.names))
    md = args.out / f"results{suffix}.md"
    md.write_text(to_markdown(res), encoding="utf-8")
    print(f"markdown: {md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
