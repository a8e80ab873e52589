# SPDX-License-Identifier: GPL-3.0-or-later
"""The sites a batch names, noted by outgoing as it makes the batch, are those found by reading
every entry's cells: versions replaced, conflicts resolved, deletes' seen versions."""
from fieldcoord.store.exchange import outgoing, sites_of, vector
from fieldcoord.sync.engine import StorePeer, sync


def test_the_sites_a_batch_names_are_noted_as_it_is_made(replicas):
    hub, a, b = replicas("hub"), replicas("a"), replicas("b")
    cid = a.add("contact", {"name": "Dana", "agency": "CCF"})
    other = a.add("contact", {"name": "Sam", "agency": "CCF"})
    for r in (a, b):
        sync(r, StorePeer(hub))
    a.edit(cid, {"title": "Captain"})
    b.edit(cid, {"title": "Chief"})                 # a conflict, then resolved
    for r in (a, b, a):
        sync(r, StorePeer(hub))
    from fieldcoord.store.conflicts import open_conflicts, resolve
    found = open_conflicts(a)
    assert found
    resolve(a, found[0].id, "current")
    a.delete(other)                                 # a delete names the versions it saw
    sync(a, StorePeer(hub))
    hub.sign_heads()
    batches = list(outgoing(hub.conn, {k: 0 for k in vector(hub.conn)}, max_bytes=3000))
    for batch in batches:
        assert batch.sites_named is not None
        assert sites_of(hub.conn, batch) == sites_of(hub.conn, list(batch))
    assert set().union(*(sites_of(hub.conn, list(b)) for b in batches)) >= \
        {a.site_uuid, b.site_uuid}
