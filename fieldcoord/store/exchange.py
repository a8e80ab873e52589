# SPDX-License-Identifier: GPL-3.0-or-later
"""What a replica has and what it sends: version vectors, outgoing changes in time order, and
applying a received batch in one transaction (store layer)."""
from __future__ import annotations

import heapq
import json
import sqlite3
from collections.abc import Iterable, Iterator
from hashlib import blake2b as _blake2b
from itertools import islice
from typing import TYPE_CHECKING

from ..core import compact, gcpause
from ..core.validate import audience as audience_of
from ..core.validate import may_see
from . import byref, identity, trust
from .changelog import OWN_POSITION_HERE
from .incoming import REFUSED, SKEW_MS, Entry, Report, SiteInfo, StreamKey
from .merge import Merger
from .records import Cell, Cells

if TYPE_CHECKING:
    from .store import Store

BATCH_BYTES = 1_000_000
# cells a record's old audience still receives once it is narrowed: who sees it now
_SHARING_CELLS = frozenset(("owner", "scope", "_scope", "_cl"))

# the signed heads of streams: {(origin, audience): [(seq, signature), ...]}
Heads = dict[StreamKey, list[tuple[int, bytes]]]
# where a stream then stands: (seq, chain hash, head signature)
Advance = tuple[int, bytes, bytes]
# site number -> (UUID, agency, device)
_Sites = dict[int, tuple[str, str | None, str | None]]
# a change as it goes out: (hlc, stream, seq, tx, tbl, rid, site number, cells, status, made),
# cells as stored (text), or made from the record's row (a creation logged by reference: the
# record is held, its cells name no versions), `made` then the record's owner and scope and
# about the length of the cells' text, else None
_OutRow = tuple[int, StreamKey, int, int, str, str, int, "str | Cells", int,
                "tuple[str, str, int] | None"]


class Batch(list[Entry]):
    """Entries as they travel, with the signed heads of their streams: {(origin, audience):
    [(seq, signature), ...]}."""

    def __init__(self, entries: Iterable[Entry] = (), heads: Heads | None = None):
        super().__init__(entries)
        self.heads = heads if heads is not None else {}
        # the sites its entries name, when outgoing made it (else sites_of reads them)
        self.sites_named: set[str] | None = None


def vector(conn: sqlite3.Connection) -> dict[StreamKey, int]:
    """{(origin site UUID, audience): highest contiguous sequence number held} (this replica's
    own streams at their newest entry, which small local writes leave the rows behind, except
    where every write settles them: a regional hub's)."""
    return {(origin, aud): seq for origin, aud, seq in conn.execute(
        _VECTOR if getattr(conn, "settled_streams", False) else _VECTOR_OWN)}


_VECTOR = ("SELECT s.uuid, t.audience, t.seq FROM stream t JOIN site s ON s.ord = t.origin "
           "WHERE t.seq > 0")
_VECTOR_OWN = (f"SELECT uuid, audience, pos FROM (SELECT s.uuid, t.audience, {OWN_POSITION_HERE} "
               "AS pos FROM stream t JOIN site s ON s.ord = t.origin) AS v WHERE pos > 0")


def visible_vector(conn: sqlite3.Connection, agency: str | None) -> dict[StreamKey, int]:
    """The part of the vector an agency may see (all of it for None)."""
    return {k: v for k, v in vector(conn).items() if agency is None or may_see(agency, k[1])}


def lacking(mine: dict[StreamKey, int], theirs: dict[StreamKey, int],
            agency: str | None) -> dict[StreamKey, int]:
    """Streams where `theirs` is behind `mine`, for an agency: {stream: their seq}."""
    return {k: theirs.get(k, 0) for k, seq in mine.items()
            if seq > theirs.get(k, 0) and (agency is None or may_see(agency, k[1]))}


def _sites(conn: sqlite3.Connection) -> _Sites:
    return {o: (u, a, d)
            for o, u, a, d in conn.execute("SELECT ord, uuid, agency, device FROM site")}


def _wire_cell(cell: Cell, sites: _Sites) -> Cell:
    out = list(cell)
    for i in (2, 4):
        if len(out) > i and isinstance(out[i], int):
            out[i] = sites[out[i]][0]
    if len(out) > 5 and out[5]:
        out[5] = [[h, sites[s][0]] for h, s in out[5]]
    return out


def _wire_seen(cells: Cells, sites: _Sites) -> Cells:
    seen = cells.get("_seen")
    if seen:
        cells["_seen"] = [{c: [v[0], sites[v[1]][0] if isinstance(v[1], int) else v[1]]
                           for c, v in seen[0].items()}]
    return cells


def _digest_cells(tx: int, tbl: str, rid: str, hlc: int, site_uuid: str,
                  cells: str | Cells, sites: _Sites) -> Cell:
    """The `_d` cell that stands for an entry whose cells are not sent: its digest."""
    parsed: Cells = compact.loads(cells) if isinstance(cells, str) else cells
    if "_d" in parsed:
        return parsed["_d"]
    wire = compact.dumps(identity.wire_cells(parsed, lambda o: sites[o][0]))
    return [trust.entry_digest(tx, tbl, rid, hlc, site_uuid, wire).hex()]


def _withheld(conn: sqlite3.Connection, batch: list[_OutRow], agency: str | None) -> set[int]:
    """Indexes of the entries of `batch` about records that this replica no longer holds, or
    that `agency` may no longer see (narrowed since): only their place and digest may go out."""
    by_table: dict[str, dict[str, list[int]]] = {}
    for i, (_, _, _, _, tbl, rid, _, _, status, made) in enumerate(batch):
        if status:
            continue
        if made is not None:
            # (its row was read with its owner and scope: the record is held)
            owner, scope = made[0], made[1]
            if agency is None or not (owner and scope) \
                    or may_see(agency, audience_of(owner, scope)):
                continue
        by_table.setdefault(tbl, {}).setdefault(rid, []).append(i)
    out: set[int] = set()
    from ..core.kinds import KIND_BY_TABLE
    for tbl, rids in by_table.items():
        if tbl not in KIND_BY_TABLE:
            continue
        ids = list(rids)
        held: set[str] = set()
        for n in range(0, len(ids), 500):
            chunk = ids[n:n + 500]
            for rid, owner, scope in conn.execute(
                    f'SELECT id, owner, scope FROM "{tbl}" WHERE id IN '
                    f'({",".join("?" * len(chunk))})', chunk):
                if agency is None or not (owner and scope) \
                        or may_see(agency, audience_of(owner, scope)):
                    held.add(rid)
        for rid, where in rids.items():
            if rid not in held and not _still_visible(conn, tbl, rid, agency):
                out.update(where)
    return out


def _still_visible(conn: sqlite3.Connection, tbl: str, rid: str, agency: str | None) -> bool:
    """Whether `agency` may see a record this replica does not hold (dropped when it was
    narrowed out of this agency's sight), by the last owner and scope its log tells of: the
    owner, say, may still see its own record, and must get the changes of it that went by."""
    if agency is None:
        return False
    owner = scope = None
    best = -1
    for hlc, text in conn.execute(
            "SELECT hlc, fc_cells(site, hlc, tbl, rid, cells) FROM change WHERE "
            f"{byref.of_record()} AND tbl = ? AND status = 0 "
            "AND (cells LIKE '%\"owner\"%' OR cells LIKE '%\"scope\"%' OR cells = ?)",
            (*byref.record_args(rid, tbl), tbl, byref.BYREF)):
        cells = json.loads(text)
        own = (cells.get("owner") or [None])[0]
        if own:
            owner = own
        cell = cells.get("scope")
        if cell and cell[0]:
            version = cell[3] if len(cell) >= 5 and cell[3] is not None else hlc
            if version > best:
                best, scope = version, cell[0]
    return bool(owner and scope) and may_see(agency, audience_of(owner, scope))


def _size(row: _OutRow) -> int:
    """About the bytes an entry takes in a batch."""
    made = row[9]
    return (made[2] if made is not None else len(row[7])) + len(row[5]) + 40


def _trim_to_heads(conn: sqlite3.Connection, rows: list[_OutRow], ids: dict[StreamKey, int]
                   ) -> tuple[list[_OutRow], list[_OutRow], Heads]:
    """(rows up to each stream's last signed head in them, the rows after it, the heads)."""
    last: dict[StreamKey, int] = {}
    first: dict[StreamKey, int] = {}
    for r in rows:
        key = r[1]
        last[key] = r[2]
        first.setdefault(key, r[2])
    upto: dict[StreamKey, int] = {}
    heads: Heads = {}
    for key, seq in last.items():
        got = conn.execute("SELECT seq, sig FROM head WHERE stream = ? AND seq <= ? "
                           "ORDER BY seq DESC LIMIT 1", (ids[key], seq)).fetchone()
        if got and got[0] >= first[key]:
            upto[key] = got[0]
            heads[key] = [(got[0], bytes(got[1]))]
    keep = [r for r in rows if r[2] <= upto.get(r[1], 0)]
    rest = [r for r in rows if r[2] > upto.get(r[1], 0)]
    return keep, rest, heads


def outgoing(conn: sqlite3.Connection, since: dict[StreamKey, int], max_bytes: int | None = None,
             agency: str | None = None) -> Iterator[Batch]:
    """Batches of the entries after `since` (a {stream: seq} map), about max_bytes each, each
    ending at a signed head of every stream in it (the rest comes in the next batch).

    Entries of all streams come in time order, each stream in sequence order, so a receiver
    meets a record's creation before the changes made after it. For a receiver of `agency`,
    entries about records narrowed out of its sight since go as their place and digest only,
    as refused ones do.
    """
    max_bytes = max_bytes or BATCH_BYTES
    sites = _sites(conn)
    ids: dict[StreamKey, int] = {}
    held: dict[StreamKey, int] = {}
    for sid, u, a, seq in conn.execute(
            "SELECT t.id, s.uuid, t.audience, t.seq FROM stream t JOIN site s ON s.ord = t.origin"):
        ids[(u, a)], held[(u, a)] = sid, seq

    def made(rows: list[_OutRow]) -> Batch:
        hidden = _withheld(conn, rows, agency)
        out = Batch()
        named: set[str] = set()
        for i, (hlc, (origin, aud), seq, tx, tbl, rid, site, cells, status, made_from) \
                in enumerate(rows):
            raw = cells if isinstance(cells, dict) else compact.loads(cells)
            writer = sites[site][0]
            named.add(origin)
            named.add(writer)
            # a narrowed record's old audience still learns who sees it now, nothing more
            # (a change waiting here for what it replaced goes whole: the receiver judges it)
            if status == REFUSED or (i in hidden and not raw.keys() <= _SHARING_CELLS):
                out.append(Entry(origin, aud, seq, tx, tbl, rid, hlc, writer,
                                 {"_d": _digest_cells(tx, tbl, rid, hlc, writer, cells,
                                                      sites)}, REFUSED))
                continue
            wire = raw
            if made_from is None and ("_seen" in raw or any(len(v) > 2 for v in raw.values())):
                # cells naming other versions (most entries are creations, which name none)
                wire = {c: (_wire_cell(v, sites) if len(v) > 2 and c != "_seen" else v)
                        for c, v in raw.items()}
                if "_seen" in wire:
                    _wire_seen(wire, sites)
                named.update(_named_in(wire))
            out.append(Entry(origin, aud, seq, tx, tbl, rid, hlc, writer, wire))
        out.sites_named = named
        return out

    def stream_rows(key: StreamKey, after: int) -> Iterator[_OutRow]:
        cur = conn.cursor()
        cur.execute("SELECT hlc, seq, tx, tbl, rid, site, cells, status FROM change "
                    "WHERE stream = ? AND seq > ? ORDER BY seq", (ids[key], after))
        rows = iter(cur)
        while chunk := list(islice(rows, 500)):
            # (the creations logged by reference read a table at a time: byref.to_send)
            held: dict[int, tuple[str, str, int]] = {}
            texts = byref.to_send(conn, [(r[5], r[0], r[3], r[4], r[6]) for r in chunk], held)
            for i, ((hlc, seq, tx, tbl, rid, site, _, status), cells) in enumerate(
                    zip(chunk, texts)):
                yield hlc, key, seq, tx, tbl, rid, site, cells, status, held.get(i)

    # (a stream the receiver holds to its end is not read)
    streams = [stream_rows(k, after) for k, after in sorted(since.items())
               if k in ids and held[k] > after]
    rows: list[_OutRow] = []
    size = 0
    last: Batch | None = None
    # A batch is some thousands of new objects, none of them in a cycle: while one is made the
    # garbage collector's passes, which would walk them again and again, wait (about a quarter
    # of reading a whole directory went there). The caller's work on a batch runs as usual.
    gcpause.pause()
    try:
        for row in heapq.merge(*streams, key=lambda r: (r[0], r[1], r[2])):
            rows.append(row)
            size += _size(row)
            if size >= max_bytes:
                keep, rows, heads = _trim_to_heads(conn, rows, ids)
                size = sum(_size(r) for r in rows)
                if keep:
                    batch = made(keep)
                    batch.heads = heads
                    gcpause.resume()
                    try:
                        yield batch
                    finally:
                        gcpause.pause()
        if rows:
            keep, _, heads = _trim_to_heads(conn, rows, ids)
            if keep:
                last = made(keep)
                last.heads = heads
    finally:
        gcpause.resume()
    if last is not None:
        yield last


def more_after(conn: sqlite3.Connection, since: dict[StreamKey, int], batch: list[Entry]) -> bool:
    """Whether the streams of `since` hold entries beyond both `since` and this batch."""
    reached = dict(since)
    for e in batch:
        key = (e.origin, e.audience)
        if e.seq > reached.get(key, 0):
            reached[key] = e.seq
    held = vector(conn)
    return any(held.get(key, 0) > seq for key, seq in reached.items())


def _named_in(cells: Cells) -> Iterator[str]:
    """The site UUIDs a change's wire cells name (the versions they replaced, their own)."""
    for c, cell in cells.items():
        if c == "_seen":
            yield from (v[1] for v in cell[0].values())
            continue
        for i in (2, 4):
            if len(cell) > i and isinstance(cell[i], str):
                yield cell[i]
        if len(cell) > 5 and cell[5]:
            yield from (s for _, s in cell[5])


def sites_of(conn: sqlite3.Connection, entries: list[Entry]) -> dict[str, SiteInfo]:
    """{site UUID: (agency, device, certificate or None)} of every site an entry names (a
    batch made by outgoing knows them already)."""
    wanted: set[str] | None = getattr(entries, "sites_named", None)
    if wanted is None:
        wanted = set()
        for e in entries:
            wanted.update((e.origin, e.site))
            wanted.update(_named_in(e.cells))
    return {u: (a, d, bytes(c) if c is not None else None) for u, a, d, c in conn.execute(
        "SELECT uuid, agency, device, cert FROM site") if u in wanted}


def apply_batch(store: Store, entries: list[Entry], sites: dict[str, SiteInfo],
                now_ms: int | None = None, skew_ms: int | None = None,
                heads: Heads | None = None) -> Report:
    """Check a received batch's signatures and apply what holds, in one transaction: data,
    vector and chain hashes commit together. `heads` defaults to the batch's own."""
    if heads is None:
        heads = getattr(entries, "heads", {})
    with store.transaction():
        # this replica's own entries may come back (a restore): its streams' rows must be at
        # their newest entries to tell them apart
        if store.lazy_streams:
            store.log.settle()
        report = Report()
        checked, advance = check_batch(store, entries, sites, heads, report)
        merger = Merger(store, sites, now_ms=now_ms,
                        skew_ms=SKEW_MS if skew_ms is None else skew_ms, report=report)
        merger.prefetch(checked)
        merger.apply_all(checked)
        merger.finish()
        from .changelog import store_head
        for (origin, aud), (seq, h, sig) in advance.items():
            o = merger.ord_of.get(origin)
            got = merger.streams.get((o, aud)) if o is not None else None
            if got is not None and got[1] == seq:
                store.conn.execute("UPDATE stream SET hash = ? WHERE id = ?", (h, got[0]))
                store_head(store.conn, got[0], seq, h, sig)
        return report


def _label(conn: sqlite3.Connection, site: str) -> str:
    row = conn.execute("SELECT agency, device FROM site WHERE uuid = ?", (site,)).fetchone()
    if row and row[1]:
        return f"{row[1]}" + (f" of {row[0]}" if row[0] else "")
    return f"replica {site[:8]}"


def entry_digest(e: Entry) -> bytes:
    """The digest of an entry as it travelled (its `_d` cell when its cells were not sent).
    The cells' JSON is kept on the entry (`text`): applying it writes the same text."""
    if e.status:
        d = e.cells.get("_d")
        return bytes.fromhex(d[0]) if d and isinstance(d[0], str) and len(d[0]) == 64 \
            else b""
    text = e.text = compact.dumps(e.cells)
    return _blake2b(f"{e.tx}\0{e.tbl}\0{e.rid}\0{e.hlc}\0{e.site}\0{text}".encode(
        "utf-8", "surrogatepass"), digest_size=32).digest()


def check_batch(store: Store, entries: list[Entry], sites: dict[str, SiteInfo], heads: Heads,
                report: Report) -> tuple[list[Entry], dict[StreamKey, Advance]]:
    """The entries of a batch that are proven to come from their stream's origin, and where
    each stream then stands: {(origin, audience): (seq, chain hash, head signature)}.

    Certificates in `sites` are checked against the agency keys trusted here. Per stream, the
    entries after the position held here are folded into its chain; a signed head of the
    origin's key vouches for every entry up to it. Entries after the last good head wait for a
    later batch (`report.held`); a head that does not verify, an entry claiming another writer
    than its stream's origin, or an entry differing from the one held at its position are
    tampering (`report.tampered`), and nothing of that stream from there on is applied.
    """
    conn = store.conn
    keys_by_code = identity.trusted_keys(conn)
    for site, info in sites.items():
        cert = info[2] if len(info) > 2 else None
        if not cert:
            continue
        row = conn.execute("SELECT cert, verified FROM site WHERE uuid = ?", (site,)).fetchone()
        if row and row[1] and row[0] is not None and bytes(row[0]) == cert:
            continue
        if identity.install_cert(conn, cert, keys_by_code) is None:
            identity.keep_cert(conn, site, cert)
    by_stream: dict[StreamKey, list[Entry]] = {}
    for e in entries:
        by_stream.setdefault((e.origin, e.audience), []).append(e)
    accepted: set[int] = set()                  # id() of the entries proven
    advance: dict[StreamKey, Advance] = {}
    uuids: dict[int, str] | None = None
    whole = True
    for (origin, aud), es in by_stream.items():
        row = conn.execute("SELECT t.id, t.seq, t.hash FROM stream t JOIN site s ON "
                           "s.ord = t.origin WHERE s.uuid = ? AND t.audience = ?",
                           (origin, aud)).fetchone()
        sid, held, h = (row[0], row[1], bytes(row[2]) if row[2] else trust.ZERO) if row \
            else (None, 0, trust.ZERO)
        dups = [e for e in es if e.seq <= held]
        forked = 0
        if dups and sid is not None:
            if uuids is None:
                uuids = dict(conn.execute("SELECT ord, uuid FROM site"))
            stored = {seq: (tx, tbl, rid, hlc, site, cells) for seq, tx, tbl, rid, hlc, site,
                      cells in conn.execute(
                          "SELECT seq, tx, tbl, rid, hlc, site, fc_cells(site, hlc, tbl, "
                          "rid, cells) FROM change WHERE "
                          "stream = ? AND seq BETWEEN ? AND ?",
                          (sid, dups[0].seq, dups[-1].seq))}
            for e in dups:
                mine = stored.get(e.seq)
                if mine is not None and identity.stored_digest(mine, uuids.get) \
                        != entry_digest(e):
                    report.tampered.append((origin, aud, e.seq, (
                        f"two different changes at position {e.seq} of the stream of "
                        f"{_label(conn, origin)}: the one held here is kept")))
                    forked = 1
                    break
        report.duplicates += len(dups) - forked
        fresh = [e for e in es if e.seq > held]
        whole = whole and not dups
        if not fresh:
            continue
        key, _ = identity.site_key(conn, origin)
        if key is None:
            report.unverified[origin] = report.unverified.get(origin, 0) + len(fresh)
            continue
        signed = dict(heads.get((origin, aud), ()))
        good: Advance | None = None
        pending: list[Entry] = []
        pos = held
        for e in fresh:
            if e.seq != pos + 1:
                report.gaps.add((origin, aud))
                break
            d = entry_digest(e)
            if e.site != origin or not d:
                report.tampered.append((origin, aud, e.seq, (
                    f"a change at position {e.seq} of the stream of {_label(conn, origin)} "
                    "names another writer or lacks its content")))
                pending = []
                break
            h = _blake2b(h + d, digest_size=32).digest()         # trust.chain, inline
            pos = e.seq
            pending.append(e)
            sig = signed.get(pos)
            if sig is not None:
                if not trust.verify_head(key, origin, aud, pos, h, sig):
                    report.tampered.append((origin, aud, pos, (
                        f"changes up to position {pos} of the stream of "
                        f"{_label(conn, origin)} do not match its signature: altered, forged "
                        "or reordered on the way")))
                    pending = []
                    break
                accepted.update(map(id, pending))
                pending = []
                good = (pos, h, sig)
        if good is not None:
            advance[(origin, aud)] = good
        report.held += len(fresh) - (good[0] - held if good else 0)
        whole = whole and good is not None and good[0] == es[-1].seq
    if whole:
        return entries, advance             # the usual case: every entry holds
    return [e for e in entries if id(e) in accepted], advance
