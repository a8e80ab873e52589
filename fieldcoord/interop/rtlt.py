# SPDX-License-Identifier: GPL-3.0-or-later
"""Clean a FEMA RTLT export into the NIMS resource-type catalog (interop layer)."""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from pathlib import Path

from fieldcoord.core.library import normalise_type_level

log = logging.getLogger(__name__)

RESOURCE_TYPE = "Resource Typing Definition"
KINDS = ("Team", "Equipment", "Aircraft", "Unit", "Task Force", "Facility", "Vehicle", "Crew")
LEVEL_ORDER = ("Type 1", "Type 2", "Type 3", "Type 4", "Single Type")
_ID = re.compile(r"\d+-508-\d+")


def _squash(text: object) -> str:
    return " ".join(str(text or "").split())


def _letters(text: str) -> str:
    return re.sub(r"[^a-z]", "", text.lower())


def normalise_kind(raw: object) -> str | None:
    """'TaskForce' -> 'Task Force', 'Aircraft/Team' -> 'Aircraft', 'Vehicles/Team' -> 'Vehicle'."""
    letters = _letters(_squash(raw))
    for kind in KINDS:
        if letters.startswith(_letters(kind)):
            return kind
    return None


def _levels(raw: object) -> list[str]:
    found = {normalise_type_level(str(v)) for v in raw or ()} if isinstance(raw, list) else set()
    return [level for level in LEVEL_ORDER if level in found]


def _clean(data: object) -> tuple[list[dict], int]:
    """The catalog entries and the number of resource-type records skipped as malformed."""
    records = data.get("records") if isinstance(data, dict) else None
    if not isinstance(records, list):
        raise ValueError("not a FEMA RTLT export: expected a JSON object with a 'records' list")
    entries: dict[str, dict] = {}
    skipped = 0
    for rec in records:
        if not isinstance(rec, dict) or _squash(rec.get("record_type")) != RESOURCE_TYPE:
            continue
        fema_id = _squash(rec.get("fema_id"))
        kind = normalise_kind(rec.get("resource_kind"))
        levels = _levels(rec.get("type_levels"))
        name = _squash(rec.get("name"))
        if not _ID.fullmatch(fema_id) or not kind or not levels or not name:
            skipped += 1
            continue
        entries.setdefault(fema_id, {
            "id": fema_id,
            "name": name,
            "category": _squash(rec.get("resource_category")),
            "kind": kind,
            "levels": levels,
            "status": _squash(rec.get("status")),
        })
    ordered = sorted(entries.values(),
                     key=lambda e: (tuple(int(p) for p in e["id"].split("-")), e["name"]))
    return ordered, skipped


def clean_rtlt(data: dict) -> list[dict]:
    """One clean entry per distinct fema_id of the RTLT resource typing definitions."""
    entries, skipped = _clean(data)
    if skipped:
        log.warning("skipped %d malformed RTLT resource-type records", skipped)
    return entries


def load_rtlt_file(path: str | Path) -> list[dict]:
    """Read and clean an RTLT JSON export."""
    return clean_rtlt(json.loads(Path(path).read_text(encoding="utf-8")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fieldcoord.interop.rtlt",
        description="Write the cleaned NIMS resource-type catalog of a FEMA RTLT export.")
    parser.add_argument("source", help="RTLT export (JSON)")
    parser.add_argument("target", help="catalog to write (JSON)")
    args = parser.parse_args(argv)
    try:
        entries, skipped = _clean(json.loads(Path(args.source).read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    text = json.dumps(entries, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    Path(args.target).write_text(text, encoding="utf-8")
    print(f"wrote {len(entries)} resource types to {args.target} ({skipped} skipped)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
