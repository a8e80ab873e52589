# SPDX-License-Identifier: GPL-3.0-or-later
"""Statistics, the machine's description and the results tables (text and markdown)."""
from __future__ import annotations

import math
import os
import platform
import re
import sqlite3
import statistics
import sys
from dataclasses import dataclass, field

_NUMBER_RE = re.compile(r"^(—|[\d.,]+x?)$")


def median(xs) -> float:
    return statistics.median(xs) if xs else float("nan")


def p95(xs) -> float:
    """95th percentile, nearest rank."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[max(0, math.ceil(0.95 * len(s)) - 1)]


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu or "unknown",
            "python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version,
            "os": f"{platform.system()} {platform.release()}"}


@dataclass
class Row:
    """One figure for the store against the baselines; None where a baseline does not apply."""
    name: str
    unit: str
    store: float
    plain: float | None = None
    plain_fts: float | None = None
    target: str = ""
    met: str = ""

    def ratio(self, base: float | None) -> float | None:
        return self.store / base if base else None


@dataclass
class Results:
    title: str
    info: dict
    rows: list = field(default_factory=list)
    tables: list = field(default_factory=list)   # (heading, header, lines) extra tables
    notes: list = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row


def fmt(x, unit: str = "") -> str:
    if x is None:
        return "—"
    if isinstance(x, str):
        return x
    if unit == "x":
        return f"{x:.2f}x"
    if x >= 1000:
        return f"{x:,.0f}"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


HEADER = ["Benchmark", "Unit", "Store", "Plain", "Plain+FTS", "Store/plain", "Store/plain+FTS",
          "Target", "Met"]


def main_lines(res: Results) -> list[list[str]]:
    return [[r.name, r.unit, fmt(r.store), fmt(r.plain), fmt(r.plain_fts),
             fmt(r.ratio(r.plain), "x"), fmt(r.ratio(r.plain_fts), "x"), r.target, r.met]
            for r in res.rows]


def text_table(header: list[str], lines: list[list[str]]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]

    def line(cells):
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(x) for x in lines)])


def md_table(header: list[str], lines: list[list[str]]) -> str:
    def esc(c):
        return str(c).replace("|", "\\|")
    numeric = [all(_NUMBER_RE.match(str(x[i])) for x in lines) for i in range(len(header))]
    out = ["| " + " | ".join(esc(h) for h in header) + " |",
           "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    out += ["| " + " | ".join(esc(c) for c in x) + " |" for x in lines]
    return "\n".join(out)


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def machine_line(info: dict) -> str:
    line = (f"{info['nproc']} cores ({info['cpu']}), {info['os']}, Python {info['python']}, "
            f"SQLite {info['sqlite']}")
    if "load_before" in info:
        line += (f"; load average (1, 5, 15 min) {info['load_before']} before, "
                 f"{info.get('load_after', '?')} after")
    return line


def to_text(res: Results) -> str:
    parts = [res.title, machine_line(res.info), "", text_table(HEADER, main_lines(res))]
    for heading, header, lines in res.tables:
        parts += ["", heading, text_table(header, lines)]
    if res.notes:
        parts += [""] + [f"* {n}" for n in res.notes]
    return "\n".join(parts) + "\n"


def to_markdown(res: Results) -> str:
    parts = [f"# {res.title}", "", f"Machine: {machine_line(res.info)}.", "",
             md_table(HEADER, main_lines(res))]
    for heading, header, lines in res.tables:
        parts += ["", f"## {heading}", "", md_table(header, lines)]
    if res.notes:
        parts += ["", "## Notes", ""] + [f"- {n}" for n in res.notes]
    return "\n".join(parts) + "\n"
