# SPDX-License-Identifier: GPL-3.0-or-later
"""Replicas of two agencies for the sync tests."""
import pytest

from fieldcoord.store import Store


@pytest.fixture
def replicas(tmp_path):
    made = []

    def make(name, agency="CCF", agency_name=None):
        names = {"CCF": "Clark County Fire", "MPD": "Metro Police Department"}
        s = Store.create(tmp_path / f"{name}.db", agency_name or names.get(agency, agency),
                         agency, device=name)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()
