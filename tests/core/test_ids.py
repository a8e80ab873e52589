# SPDX-License-Identifier: GPL-3.0-or-later
"""Bound record ids: every replica can tell the site and the owner a record's id was made for,
from the id alone; an id with any part changed (its time, its counter, its tag) names nobody."""
import uuid

from hypothesis import given
from hypothesis import strategies as st

from fieldcoord.core import ids

_CODES = st.from_regex(r"[A-Z][A-Z0-9]{1,5}", fullmatch=True)


def _flip(rid: str, at: int) -> str:
    """The id with the hex digit at `at` (of the 32, dashes left out) changed."""
    digits = rid.replace("-", "")
    d = format((int(digits[at], 16) + 1) % 16, "x")
    digits = digits[:at] + d + digits[at + 1:]
    return str(uuid.UUID(digits))


@given(st.uuids(), _CODES, st.integers(0, 31))
def test_an_id_names_its_site_and_owner_and_an_altered_one_names_none(site, owner, at):
    site = str(site)
    rid = ids.new_bound_id(site, owner)
    assert ids.is_bound(rid) and ids.made_by(rid, site, owner)
    assert not ids.made_by(rid, str(uuid.uuid4()), owner)
    assert not ids.made_by(rid, site, owner + "X")
    if at in (12, 16):
        return                  # the version digit, and the digit that holds the variant bits
    assert not ids.made_by(_flip(rid, at), site, owner)


def test_text_that_is_not_an_id_names_nobody():
    site = str(uuid.uuid4())
    for text in ("", "not-an-id", "zz" + ids.new_bound_id(site, "CCF")[2:]):
        assert not ids.made_by(text, site, "CCF")
