# SPDX-License-Identifier: GPL-3.0-or-later
"""Store.write: a write made of several calls is one transaction, and says what it changed."""
import pytest

from fieldcoord.core.errors import ValidationError


def test_write_returns_the_result_and_every_record_it_changed(store):
    cid, changes = store.write(lambda: store.add(
        "contact", {"name": "Dana Whitfield", "agency": "CCF", "phone": "360 555 0100"}))
    line = store.children("method", "contact", cid)[0].id
    assert changes.kinds == {"contact", "method"} and changes.ids == {cid, line}
    _, changes = store.write(lambda: store.delete(cid))
    assert changes.ids == {cid, line}, "the contact's number went with it"


def test_a_write_that_fails_half_way_leaves_nothing_behind(store):
    before = store.dump()

    def two_then_refused():
        store.add("contact", {"name": "First", "agency": "CCF"})
        store.add("contact", {"name": "Second", "agency": "CCF"})
        store.add("contact", {"name": "", "agency": "CCF"})
    with pytest.raises(ValidationError, match="contact name: is required"):
        store.write(two_then_refused)
    assert store.dump() == before


def test_write_is_not_nested_in_another_transaction(store):
    with store.transaction(), pytest.raises(RuntimeError):
        store.write(lambda: None)
