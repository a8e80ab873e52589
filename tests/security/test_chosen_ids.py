# SPDX-License-Identifier: GPL-3.0-or-later
"""A partner chooses the ids of the records it creates (an id not bound to its maker is
accepted), so it can send thousands whose ids share everything but a few characters. Reading a
record's history, which every merge and every judged change does, must still go straight to
that record's entries: an index keyed on part of the id (its random end, say) would make each
of those reads walk all the partner's entries, and applying its batch cost the square of its
size."""
import uuid

from fieldcoord.store.incoming import field_history

HOSTILE = 3000


def _steps(conn, fn) -> int:
    """SQLite virtual machine steps (in hundreds) that fn() runs: a count, not a time."""
    steps = [0]

    def tick() -> int:
        steps[0] += 1
        return 0

    conn.set_progress_handler(tick, 100)
    try:
        fn()
    finally:
        conn.set_progress_handler(None, 100)
    return steps[0]


def test_ids_sharing_their_ends_do_not_slow_reading_a_records_history(store):
    mine = store.add("contact", {"name": "Renée Dubois"})
    store.edit(mine, {"title": "Chief"})
    store.take_recent()
    # what a partner's batch leaves in the log once received: its entries, kept in their
    # stream whether applied or refused, for records whose ids differ only at their start
    tail = mine[-12:]
    chosen = [f"{uuid.uuid4()}"[:24] + tail for _ in range(HOSTILE)]
    partner = str(uuid.uuid4())
    with store.transaction():
        site = store.conn.execute("INSERT INTO site (uuid, agency) VALUES (?, 'MPD')",
                                  (partner,)).lastrowid
        stream = store.conn.execute("INSERT INTO stream (origin, audience) VALUES (?, 'all')",
                                    (site,)).lastrowid
        store.conn.executemany(
            "INSERT INTO change (stream, seq, tx, tbl, rid, hlc, site, cells, status) "
            "VALUES (?, ?, 1, 'contact', ?, ?, ?, '{\"title\":[\"x\"]}', 0)",
            [(stream, n, rid, (1 << 50) + n, site) for n, rid in enumerate(chosen, 1)])
    uuids = {store.self_ord: store.site_uuid, site: partner}
    for rid in (mine, chosen[HOSTILE // 2]):
        steps = _steps(store.conn, lambda rid=rid: field_history(
            store.conn, "contact", rid, "title", uuids))
        # a walk through the partner's entries takes hundreds of hundreds of steps
        assert steps < 10, (rid, steps)
    versions, _ = field_history(store.conn, "contact", mine, "title", uuids)
    assert list(versions.values()) == ["Chief"]
