# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the shipped NIMS type catalog, the NIFOG table and the RTLT cleaner (core layer)."""

import json
import re
from pathlib import Path

import pytest

from fieldcoord.core import library
from fieldcoord.core.library import (
    find_channel,
    find_nims_type,
    load_nifog_channels,
    load_nims_types,
    normalise_type_level,
)
from fieldcoord.interop.rtlt import KINDS, clean_rtlt, load_rtlt_file, main

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
RTLT_EXPORT = CORPUS / "nims" / "FEMA_RTLT_NQS_Database.json"
BAND_RANGES = {"VHF": (136, 174), "UHF": (400, 512), "700": (764, 806), "800": (806, 870)}
LEVELS = {"Type 1", "Type 2", "Type 3", "Type 4", "Single Type"}


def test_catalog_is_complete_and_well_formed():
    types = load_nims_types()
    assert len(types) >= 140
    ids = [t.id for t in types]
    assert len(set(ids)) == len(ids)
    for t in types:
        assert re.fullmatch(r"\d+-508-\d+", t.id), t.id
        assert t.kind in KINDS, t
        assert t.levels and set(t.levels) <= LEVELS, t
        assert t.name == t.name.strip() and t.category


def test_find_nims_type_by_id_and_name():
    aerial = find_nims_type("4-508-1273")
    assert aerial is not None
    assert aerial.name == "Aerial Apparatus – Fire"
    assert aerial.levels == ("Type 1", "Type 2")
    assert find_nims_type("  aerial apparatus – FIRE ") == aerial
    assert find_nims_type("no such resource") is None


@pytest.mark.skipif(not RTLT_EXPORT.is_file(), reason=f"RTLT corpus not present at {RTLT_EXPORT}")
def test_cleaning_the_corpus_gives_the_shipped_catalog(tmp_path):
    shipped = json.loads((library.RESOURCES / "nims_types.json").read_text(encoding="utf-8"))
    assert load_rtlt_file(RTLT_EXPORT) == shipped
    out = tmp_path / "types.json"
    assert main([str(RTLT_EXPORT), str(out)]) == 0
    assert out.read_bytes() == (library.RESOURCES / "nims_types.json").read_bytes()


def test_clean_rtlt_normalises_dedupes_and_sorts():
    rec = {"record_type": "Resource Typing Definition", "status": " Published ",
           "resource_category": "Fire/Hazardous Materials"}
    data = {"records": [
        {**rec, "fema_id": "10-508-1", "name": "B", "resource_kind": "TaskForce",
         "type_levels": ["Type 2", "type 1", "Type 2"]},
        {**rec, "fema_id": "9-508-7", "name": " A  team ", "resource_kind": "Vehicles/Team",
         "type_levels": ["Single Type"]},
        {**rec, "fema_id": "9-508-7", "name": "duplicate", "resource_kind": "Team",
         "type_levels": ["Type 1"]},
        {**rec, "fema_id": "9-999-7", "name": "bad id", "resource_kind": "Team",
         "type_levels": ["Type 1"]},
        {"record_type": "Position Qualification", "fema_id": "1-509-1", "name": "ignored"},
    ]}
    assert clean_rtlt(data) == [
        {"id": "9-508-7", "name": "A team", "category": "Fire/Hazardous Materials",
         "kind": "Vehicle", "levels": ["Single Type"], "status": "Published"},
        {"id": "10-508-1", "name": "B", "category": "Fire/Hazardous Materials",
         "kind": "Task Force", "levels": ["Type 1", "Type 2"], "status": "Published"},
    ]


@pytest.mark.parametrize("bad", [{}, {"metadata": {}}, {"records": "x"}, [], None])
def test_clean_rtlt_rejects_other_input(bad):
    with pytest.raises(ValueError, match="RTLT"):
        clean_rtlt(bad)


def test_nifog_calling_channels():
    call = find_channel("8call90")
    assert call is not None
    assert (call.band, call.rx_freq, call.tx_freq) == ("800", 851.0125, 806.0125)
    vcall = find_channel("VCALL10")
    assert (vcall.rx_freq, vcall.tx_freq, vcall.tx_tone) == (155.7525, 155.7525, "156.7")
    assert find_channel("8TAC94").rx_freq == 853.0125
    assert find_channel("8TAC94D").tx_freq == 853.0125
    assert find_channel("nope") is None


def test_nifog_table_is_consistent():
    channels = load_nifog_channels()
    names = [ch.name for ch in channels]
    assert len(set(names)) == len(names)
    for ch in channels:
        low, high = BAND_RANGES[ch.band]
        assert low <= ch.rx_freq <= high and low <= ch.tx_freq <= high, ch
        assert ch.mode in {"analog", "digital", "mixed"}, ch
        assert ch.function in {"calling", "tactical", "command", "dispatch",
                               "ground_to_air", "air_to_air", "support"}, ch
        if "repeater" in ch.remarks.lower():
            assert ch.tx_freq != ch.rx_freq, ch
        if ch.name.endswith("D") and find_channel(ch.name[:-1]):
            assert ch.tx_freq == ch.rx_freq == find_channel(ch.name[:-1]).rx_freq, ch


@pytest.mark.parametrize("text,expected", [
    ("1", "Type 1"), ("type 1", "Type 1"), ("Type1", "Type 1"), ("I", "Type 1"),
    ("TYPE-3", "Type 3"), ("iv", "Type 4"), ("single", "Single Type"),
    ("Single Type", "Single Type"), ("5", None), ("type", None), ("", None), ("heavy", None),
])
def test_normalise_type_level(text, expected):
    assert normalise_type_level(text) == expected
