# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes on the user's behalf (ui/ops.py): one transaction, what changed as the result, a
refusal told in plain words; slow writes on a worker thread with their own connection."""
from PySide6.QtWidgets import QMessageBox

from fieldcoord.ui import ops
from fieldcoord.ui.tasks import Task


def test_a_refused_write_is_told_once_and_changes_nothing(store, monkeypatch):
    told = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: told.append(
        (title, text)))
    before = store.dump()
    assert ops.run(store, "Delete", lambda s: s.delete("no-such-id")) is None
    assert len(told) == 1 and told[0][0] == "Delete" and "Traceback" not in told[0][1]
    assert store.dump() == before
    shown = []
    assert ops.run(store, "Add", lambda s: s.add("contact", {"name": ""}),
                   on_error=shown.append) is None
    assert shown == ["contact name: is required"] and len(told) == 1


def test_an_operation_returns_its_value_and_changes(store):
    outcome = ops.run(store, "Add", lambda s: s.add("agency", {"name": "Metro Police",
                                                                  "code": "MPD"}))
    assert outcome is not None and outcome.changes.ids == {outcome.value}
    assert outcome.changes.kinds == {"agency"}


def test_a_slow_write_runs_on_its_own_connection_and_reports_its_changes(store, qtbot):
    def write(s, progress, cancelled):
        progress("adding", 0, 2)
        return [s.add("contact", {"name": f"Person {i}", "agency": "CCF"}) for i in range(2)]
    task = Task(ops.in_background(store.path, write), "Adding")
    with qtbot.waitSignal(task.succeeded, timeout=10000) as got:
        task.start()
    outcome = got.args[0]
    assert set(outcome.value) == outcome.changes.ids
    assert sorted(r.title for r in store.list("contact")) == ["Person 0", "Person 1"]
