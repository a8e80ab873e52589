# SPDX-License-Identifier: GPL-3.0-or-later
"""What a replica has and what it sends: version vectors, outgoing changes in time order, and
applying a received batch in one transaction (store layer)."""
from __future__ import annotations

import heapq
import json
from collections.abc import Iterator

from ..core.validate import may_see
from .merge import Entry, Merger, Report

BATCH_BYTES = 1_000_000


def vector(conn) -> dict[tuple[str, str], int]:
    """{(origin site UUID, audience): highest contiguous sequence number held}."""
    return {(origin, aud): seq for origin, aud, seq in conn.execute(
        "SELECT s.uuid, t.audience, t.seq FROM stream t JOIN site s ON s.ord = t.origin "
        "WHERE t.seq > 0")}


def visible_vector(conn, agency: str | None) -> dict[tuple[str, str], int]:
    """The part of the vector an agency may see (all of it for None)."""
    return {k: v for k, v in vector(conn).items() if agency is None or may_see(agency, k[1])}


def lacking(mine: dict, theirs: dict, agency: str | None) -> dict[tuple[str, str], int]:
    """Streams where `theirs` is behind `mine`, for an agency: {stream: their seq}."""
    return {k: theirs.get(k, 0) for k, seq in mine.items()
            if seq > theirs.get(k, 0) and (agency is None or may_see(agency, k[1]))}


def _sites(conn) -> dict[int, tuple[str, str, str]]:
    return {o: (u, a, d) for o, u, a, d in conn.execute("SELECT ord, uuid, agency, device FROM site")}


def _wire_cell(cell: list, sites: dict) -> list:
    out = list(cell)
    for i in (2, 4):
        if len(out) > i and isinstance(out[i], int):
            out[i] = sites[out[i]][0]
    if len(out) > 5 and out[5]:
        out[5] = [[h, sites[s][0]] for h, s in out[5]]
    return out


def _wire_seen(cells: dict, sites: dict) -> dict:
    seen = cells.get("_seen")
    if seen:
        cells["_seen"] = [{c: [v[0], sites[v[1]][0] if isinstance(v[1], int) else v[1]]
                           for c, v in seen[0].items()}]
    return cells


def outgoing(conn, since: dict[tuple[str, str], int], max_bytes: int | None = None
             ) -> Iterator[list[Entry]]:
    """Batches of the entries after `since` (a {stream: seq} map), about max_bytes each.

    Entries of all streams come in time order, each stream in sequence order, so a receiver
    meets a record's creation before the changes made after it.
    """
    max_bytes = max_bytes or BATCH_BYTES
    sites = _sites(conn)
    ids = {(u, a): sid for sid, u, a in conn.execute(
        "SELECT t.id, s.uuid, t.audience FROM stream t JOIN site s ON s.ord = t.origin")}

    def stream_rows(key, after):
        cur = conn.cursor()
        cur.execute("SELECT hlc, seq, tx, tbl, rid, site, cells, status FROM change "
                    "WHERE stream = ? AND seq > ? ORDER BY seq", (ids[key], after))
        for hlc, seq, tx, tbl, rid, site, cells, status in cur:
            yield hlc, key, seq, tx, tbl, rid, site, cells, status

    streams = [stream_rows(k, after) for k, after in sorted(since.items()) if k in ids]
    batch, size = [], 0
    for hlc, (origin, aud), seq, tx, tbl, rid, site, cells, status in heapq.merge(
            *streams, key=lambda r: (r[0], r[1], r[2])):
        raw = json.loads(cells)
        wire = {c: (_wire_cell(v, sites) if len(v) > 2 and c != "_seen" else v)
                for c, v in raw.items()}
        if "_seen" in wire:
            _wire_seen(wire, sites)
        batch.append(Entry(origin, aud, seq, tx, tbl, rid, hlc, sites[site][0],
                           {} if status else wire, status))
        size += len(cells) + len(rid) + 40
        if size >= max_bytes:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def more_after(conn, since: dict[tuple[str, str], int], batch: list[Entry]) -> bool:
    """Whether the streams of `since` hold entries beyond both `since` and this batch."""
    reached = dict(since)
    for e in batch:
        key = (e.origin, e.audience)
        if e.seq > reached.get(key, 0):
            reached[key] = e.seq
    held = vector(conn)
    return any(held.get(key, 0) > seq for key, seq in reached.items())


def sites_of(conn, entries: list[Entry]) -> dict[str, tuple[str, str]]:
    """{site UUID: (agency, device)} of every site an entry names."""
    wanted = set()
    for e in entries:
        wanted.update((e.origin, e.site))
        for c, cell in e.cells.items():
            if c == "_seen":
                wanted.update(v[1] for v in cell[0].values())
                continue
            for i in (2, 4):
                if len(cell) > i and isinstance(cell[i], str):
                    wanted.add(cell[i])
            if len(cell) > 5 and cell[5]:
                wanted.update(s for _, s in cell[5])
    return {u: (a, d) for u, a, d in conn.execute("SELECT uuid, agency, device FROM site")
            if u in wanted}


def apply_batch(store, entries: list[Entry], sites: dict[str, tuple[str, str]],
                now_ms: int | None = None, skew_ms: int | None = None) -> Report:
    """Apply a received batch in one transaction: data and vector commit together."""
    with store.transaction():
        kwargs = {} if skew_ms is None else {"skew_ms": skew_ms}
        merger = Merger(store, sites, now_ms=now_ms, **kwargs)
        merger.prefetch(entries)
        merger.apply_all(entries)
        return merger.finish()
