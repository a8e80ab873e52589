# SPDX-License-Identifier: GPL-3.0-or-later
"""After-action items from exercises and from operations, in one list; closing one needs a
note saying how it was closed."""
import pytest

from fieldcoord.core.errors import ValidationError


def test_an_item_comes_from_an_event_or_an_operation(store):
    op = store.add("operation", {"name": "Flood TF"})
    rid = store.add("action", {"operation": op, "text": "Sandbag stock ran out on day 2"})
    assert store.get(rid).values["operation"] == op
    with pytest.raises(ValidationError, match="which exercise, event or operation") as e:
        store.add("action", {"text": "From nowhere"})
    assert e.value.field == "event"


def test_closing_an_item_needs_a_note(store):
    ev = store.add("event", {"title": "TTX", "kind": "tabletop", "start": "2026-05-01 09:00"})
    rid = store.add("action", {"event": ev, "text": "Agree a shared warning template"})
    with pytest.raises(ValidationError, match="say how it was closed") as e:
        store.edit(rid, {"status": "done"})
    assert e.value.field == "closing_note"
    assert store.get(rid).values["status"] == "open"
    store.edit(rid, {"status": "done", "closing_note": "Template adopted by both EOCs"})
    assert store.get(rid).values["status"] == "done"


def test_deleting_an_operation_takes_its_items_along_and_restoring_brings_them_back(store):
    op = store.add("operation", {"name": "Flood TF"})
    rid = store.add("action", {"operation": op, "text": "Pump hoses too short"})
    store.delete(op)
    assert store.get(rid).deleted
    store.restore(op)
    assert not store.get(rid).deleted
