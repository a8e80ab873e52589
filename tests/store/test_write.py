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


def test_an_edit_leaves_a_stored_scope_it_does_not_write_as_it_is(store):
    """A record received with a scope naming an agency this directory lacks can still have its
    other fields edited; writing such a scope is refused."""
    rid = store.add("contact", {"name": "Jo Park", "agency": "CCF", "scope": "all"})
    with store.transaction():
        store.conn.execute("UPDATE contact SET scope = 'CCF,ZZQ' WHERE id = ?", (rid,))
    assert store.edit(rid, {"title": "Captain"}).values["title"] == "Captain"
    assert store.get(rid).scope == "CCF,ZZQ"
    with pytest.raises(ValidationError, match="no agency with code 'ZZQ'"):
        store.edit(rid, {"scope": "CCF,ZZQ+edit"})
    assert store.get(rid).scope == "CCF,ZZQ"
