# SPDX-License-Identifier: GPL-3.0-or-later
"""The write benchmark's floor (bench/writes.py, "its statements alone") replays the statements
a Store write runs, so that what it measures stays the store's SQL as the store changes."""
import random
import re

from bench import data, writes

_LITERAL = re.compile(r"'(?:[^']|'')*'|\bNULL\b|(?<![\w\"])-?\d+(?:\.\d+)?")


def _shape(statement: str) -> str:
    """A statement as traced (values written in), its values made placeholders again."""
    return _LITERAL.sub("?", statement)


def _traced(variant, write) -> list[str]:
    got: list[str] = []
    conn = variant.store.conn
    conn.set_trace_callback(got.append)
    try:
        write()
    finally:
        conn.set_trace_callback(None)
    return [_shape(s) for s in got]


def test_the_floor_under_single_writes_runs_the_stores_own_statements(tmp_path):
    d = data.Directory(data.agencies(random.Random(1), 3), [])
    seeds = data.new_contacts(d, 20, 2)
    new = data.new_contacts(d, 4, 3)
    store = writes.Fieldcoord(tmp_path / "store.db", d)
    floor = writes.Statements(tmp_path / "floor.db", d)
    try:
        for v in (store, floor):
            v.seed(seeds)
            v.store.idle()
            v.insert(new[0])            # (a first write reads what later ones remember)
            v.edit(0, "Warm Up")
        for c, (k, title) in zip(new[1:], [(3, "Deputy Chief"), (5, "Medic"), (3, "Captain")]):
            made = _traced(store, lambda c=c: store.insert(c))
            assert made == _traced(floor, lambda c=c: floor.insert(c))
            assert any(s.startswith('INSERT INTO "contact"') for s in made)
            changed = _traced(store, lambda k=k, t=title: store.edit(k, t))
            assert changed == _traced(floor, lambda k=k, t=title: floor.edit(k, t))
            assert any(s.startswith('UPDATE "contact"') for s in changed)
        # the rows the floor writes are rows the store reads as its own
        rid = floor.ids[3]
        rec = floor.store.get(rid)
        assert rec.values["title"] == "Captain"
        assert floor.store.conn.execute("SELECT count(*) FROM change_recent WHERE rid = ?",
                                        (rid,)).fetchone()[0] >= 2
    finally:
        store.close()
        floor.close()
