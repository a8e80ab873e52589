# SPDX-License-Identifier: GPL-3.0-or-later
"""Shipped reference data: NIMS resource types and NIFOG channels (core layer)."""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


def _resources() -> Path:
    """The shipped data: the top-level resources/ folder of a source checkout (and of an
    editable install), else the package fieldcoord.resources installed with fieldcoord (a
    wheel, or the desktop bundle)."""
    here = Path(__file__).resolve().parents[2] / "resources"
    if (here / "nims_types.json").is_file():
        return here
    import importlib.resources
    try:
        found = importlib.resources.files("fieldcoord.resources")
    except ModuleNotFoundError:
        raise FileNotFoundError("fieldcoord's data (fieldcoord.resources) is not installed; "
                                "reinstall fieldcoord") from None
    # a package of files on disk (a wheel's, the bundle's): its folder is read directly
    return Path(str(found))


RESOURCES = _resources()

_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4"}


@dataclass(frozen=True)
class NimsType:
    id: str
    name: str
    category: str
    kind: str
    levels: tuple[str, ...]
    status: str


@dataclass(frozen=True)
class LibraryChannel:
    name: str
    band: str
    function: str
    rx_freq: float
    rx_tone: str
    tx_freq: float
    tx_tone: str
    mode: str
    remarks: str


@lru_cache(maxsize=1)
def load_nims_types() -> list[NimsType]:
    """The FEMA RTLT resource types shipped in resources/nims_types.json."""
    entries = json.loads((RESOURCES / "nims_types.json").read_text(encoding="utf-8"))
    return [
        NimsType(
            id=e["id"],
            name=e["name"],
            category=e["category"],
            kind=e["kind"],
            levels=tuple(e["levels"]),
            status=e["status"],
        )
        for e in entries
    ]


@lru_cache(maxsize=1)
def load_nifog_channels() -> list[LibraryChannel]:
    """The national interoperability channels shipped in resources/nifog_channels.csv."""
    with open(RESOURCES / "nifog_channels.csv", encoding="utf-8", newline="") as f:
        return [
            LibraryChannel(
                name=row["name"],
                band=row["band"],
                function=row["function"],
                rx_freq=float(row["rx_freq"]),
                rx_tone=row["rx_tone"],
                tx_freq=float(row["tx_freq"]),
                tx_tone=row["tx_tone"],
                mode=row["mode"],
                remarks=row["remarks"],
            )
            for row in csv.DictReader(f)
        ]


def find_nims_type(text: str) -> NimsType | None:
    """The type with this exact id, or else with this name (case-insensitive)."""
    text = " ".join(text.split())
    for t in load_nims_types():
        if t.id == text:
            return t
    wanted = text.casefold()
    for t in load_nims_types():
        if t.name.casefold() == wanted:
            return t
    return None


def normalise_type_level(text: str) -> str | None:
    """'1', 'type 1', 'Type1', 'I' -> 'Type 1'; 'single' -> 'Single Type'; else None."""
    if not isinstance(text, str):
        return None
    s = re.sub(r"[\s_-]+", "", text.casefold())
    if s in ("single", "singletype"):
        return "Single Type"
    if s.startswith("type"):
        s = s[4:]
    s = _ROMAN.get(s, s)
    return f"Type {s}" if s in ("1", "2", "3", "4") else None


def find_channel(name: str) -> LibraryChannel | None:
    """The NIFOG channel with this name (case-insensitive)."""
    wanted = name.strip().casefold()
    for ch in load_nifog_channels():
        if ch.name.casefold() == wanted:
            return ch
    return None
