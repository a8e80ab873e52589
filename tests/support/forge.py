# SPDX-License-Identifier: GPL-3.0-or-later
"""Changes made by hand, as a hostile replica would: entries in any stream, with a head signed
by whatever key the attacker holds."""
from fieldcoord.core import hlc as clock
from fieldcoord.store import trust
from fieldcoord.store.exchange import Batch, entry_digest
from fieldcoord.store.incoming import Entry


def position(store, origin: str, audience: str) -> tuple[int, bytes]:
    """(sequence number, chain hash) of a stream as `store` holds it (its own streams settled
    first, as before sending)."""
    if origin == store.site_uuid:
        store.sign_heads()
    row = store.conn.execute("SELECT t.seq, t.hash FROM stream t JOIN site s ON "
                             "s.ord = t.origin WHERE s.uuid = ? AND t.audience = ?",
                             (origin, audience)).fetchone()
    return (row[0], bytes(row[1])) if row and row[1] else (0, trust.ZERO)


def signed(store, audience: str, items: list, origin: str | None = None,
           seed: bytes | None = None, start: tuple | None = None) -> Batch:
    """Entries (table, record id, cells) in a stream (by default `store`'s own for `audience`),
    after `start` (by default what `store` holds of it), with a head signed by `seed` (by
    default `store`'s device key: what its device can genuinely sign)."""
    origin = origin or store.site_uuid
    seq, h = start if start is not None else position(store, origin, audience)
    hlc = clock.pack(clock.wall_ms())
    out = []
    for tbl, rid, cells in items:
        seq += 1
        hlc += 1
        e = Entry(origin, audience, seq, hlc, tbl, rid, hlc, origin, cells)
        h = trust.chain(h, entry_digest(e))
        out.append(e)
    sig = trust.sign_head(seed or store.device_seed(), origin, audience, seq, h)
    return Batch(out, {(origin, audience): [(seq, sig)]})
