# SPDX-License-Identifier: GPL-3.0-or-later
"""Replicas of two agencies for the sync tests."""
import pytest
from region import Region


@pytest.fixture
def replicas(tmp_path):
    region = Region()

    def make(name, agency="CCF", agency_name=None):
        return region.make(tmp_path / f"{name}.db", agency, device=name, agency_name=agency_name)
    yield make
    for s in region.replicas:
        s.close()
