# SPDX-License-Identifier: GPL-3.0-or-later
"""What arrives from other replicas, before it is merged: entries and their reports, the checks
of a change's shape and of who may create a record, and a field's history (store layer).

The merge itself is store/merge.py; it reads rows in batches (merge_rows.py), recomputes a
field's heads (heads.py) and judges who may write what (judging.py).
"""
from __future__ import annotations

import enum
import sqlite3
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Final

from ..core import compact, ids
from ..core import hlc as clock
from ..core import kinds as K
from ..core.errors import ValidationError
from ..core.validate import normalise_scope
from . import byref
from .records import Cell, Cells, RowDict, WireCell

dumps = compact.dumps
first = itemgetter(0)


class _Unread(enum.Enum):
    UNREAD = 0


UNREAD: Final = _Unread.UNREAD     # a record whose row this batch has not read yet
# columns a change never writes directly
BOOKKEEPING = frozenset(("id", "_cl", "_ver", "_extra", "created_at", "updated_at", "device"))

SKEW_MS = 5 * 60 * 1000           # an incoming clock this far ahead of ours is reported
MS_SHIFT = clock.COUNTER_BITS
PSEUDO = frozenset(("_cl", "_seen", "_copy", "_scope"))

# a stream: (origin site UUID, audience)
StreamKey = tuple[str, str]
# what a batch tells of a site: (agency, device, certificate)
SiteInfo = tuple[str | None, str | None, bytes | None]
# a field version as the change log gives it: (hlc, site UUID, or the site's number where
# this replica has no UUID for it)
Version = tuple[int, str | int]
# a change-log row as inserted: (stream, seq, tx, tbl, rid, hlc, site, cells, status)
ChangeRow = tuple[int, int, int, str, str, int, int, str, int]
# a row of a new record of a table, the columns a creation writes as they come, the columns
# holding a list of references (see Merger._layout)
Layout = tuple[RowDict, frozenset[str], frozenset[str]]


# A change's status in the log (the change table's `status`): applied; refused (kept for its
# place in the stream, passed on as its digest only); waiting for the version it replaced
# (a resource request's status move, transitions.py: passed on whole, not applied yet).
APPLIED, REFUSED, WAITING = 0, 1, 2


@dataclass
class Entry:
    """One change as it travels: sites are UUIDs; cells as in the change log."""
    origin: str
    audience: str
    seq: int
    tx: int
    tbl: str
    rid: str
    hlc: int
    site: str
    cells: Cells
    status: int = 0
    # the cells as compact JSON, when a receiver made it already (to check the signature)
    text: str | None = field(default=None, compare=False, repr=False)


@dataclass
class Report:
    """What applying a batch did, for the user and for the next round."""
    applied: int = 0
    duplicates: int = 0
    fields: int = 0
    refused: list[tuple[Entry, str]] = field(default_factory=list)    # (entry, reason)
    invisible: int = 0                                # entries this agency may not hold
    gaps: set[StreamKey] = field(default_factory=set)  # (origin, audience) not contiguous
    skewed: dict[str, int] = field(default_factory=dict)  # site uuid -> ms ahead of our clock
    conflicts: int = 0
    overridden: int = 0                               # own edits kept against skewed clocks
    # (origin, audience, seq, what) refused
    tampered: list[tuple[str, str, int, str]] = field(default_factory=list)
    unverified: dict[str, int] = field(default_factory=dict)  # origin uuid -> not verifiable
    held: int = 0                                     # changes waiting for a verified head

    def merge(self, other: Report) -> None:
        self.applied += other.applied
        self.duplicates += other.duplicates
        self.fields += other.fields
        self.refused += other.refused
        self.invisible += other.invisible
        self.gaps |= other.gaps
        self.conflicts += other.conflicts
        self.overridden += other.overridden
        self.tampered += other.tampered
        self.held += other.held
        for site, n in other.unverified.items():
            self.unverified[site] = self.unverified.get(site, 0) + n
        for site, ahead in other.skewed.items():
            self.skewed[site] = max(ahead, self.skewed.get(site, 0))


class HeldRow:
    """A record's row as this batch sees it, and whether it must be written."""
    __slots__ = ("row", "in_db", "dirty", "gone", "shape")

    def __init__(self, row: RowDict, in_db: bool, shape: tuple[str, ...] | None = None):
        self.row, self.in_db, self.dirty, self.gone = row, in_db, False, False
        # the columns an insert must write (the others are empty); None: all of them
        self.shape = shape


def widened(before: str, after: str) -> bool:
    """Whether an audience grew: some agency may now see what it could not before."""
    if before == "all":
        return False
    return after == "all" or bool(set(after.split(",")) - set(before.split(",")))


_SCALAR = (str, int, float, bool, type(None))
_BIG = 1 << 63


def _version_ok(cell: Cell) -> bool:
    return all(x is None or isinstance(x, (int, str)) for x in cell[1:5]) and (
        len(cell) < 6 or cell[5] is None or isinstance(cell[5], list) and all(
            isinstance(v, list) and len(v) == 2 for v in cell[5]))


_PLAIN = frozenset((str, int, float, bool, type(None)))
_REFS_OF = {k.name: frozenset(f.name for f in k.fields if f.type == K.REFS)
            for k in K.KINDS.values()}


def malformed(kind: K.Kind, cells: Cells) -> str | None:
    """Why a change's cells cannot be applied to a record of this kind, or None. A signed
    change is its writer's; one that does not fit is refused rather than left to fail every
    receiver's sync."""
    refs = _REFS_OF.get(kind.name, ())
    if "@" in cells or "_was" in cells:
        # (names a replica keeps to itself: store.byref)
        return "a malformed change (a field named @ or _was)"
    for col in _SHARING:
        # who may see the record is read from these: a value no replica can read would fail
        # every receiver's sync of the stream from there on
        cell = cells.get(col)
        if cell is not None and not _sharing_ok(col, cell):
            return f"a malformed change (field {col})"
    for col, c in cells.items():
        # the usual cell: a plain value written with the change's own version
        if type(c) is list and len(c) == 1 and type(c[0]) in _PLAIN and col[0] != "_" \
                and col not in refs and (type(c[0]) is not int or -_BIG < c[0] < _BIG) \
                or col == "_cl" and c == [1]:
            continue
        if not isinstance(c, list) or len(c) not in (1, 3, 5, 6) or not _version_ok(c):
            return f"a malformed change (field {col})"
        v = c[0]
        if col == "_cl":
            ok = isinstance(v, int) and not isinstance(v, bool) and 0 < v < 1 << 62
        elif col == "_seen":
            ok = isinstance(v, dict) and all(isinstance(x, list) and len(x) == 2
                                             and isinstance(x[0], int) for x in v.values())
        elif col == "_copy":
            ok = isinstance(v, list) and all(isinstance(x, str) for x in v)
        elif col in ("_scope", "owner", "scope"):
            ok = v is None or isinstance(v, str)
        else:
            f = kind.field_map.get(col)
            if f is None:
                ok = True                   # a field this version does not know: kept as JSON
            elif f.type == K.REFS:
                ok = v is None or isinstance(v, list) and all(isinstance(x, str) for x in v)
            else:
                ok = isinstance(v, _SCALAR) and not (isinstance(v, int) and abs(v) >= 1 << 63)
        if not ok:
            return f"a malformed change (field {col})"
    return None


_SHARING = ("owner", "scope", "_scope")


def _sharing_ok(col: str, cell: Any) -> bool:
    """Whether an owner's or a scope's cell holds what the sharing of a record is read from:
    a text, and for a scope one `parse_scope` reads (or nothing: a value withheld)."""
    if not isinstance(cell, list) or not cell:
        return True                 # (judged with the other cells below)
    v = cell[0]
    if v is None:
        return True
    if not isinstance(v, str):
        return False
    if col == "owner":
        return True
    try:
        normalise_scope(v)
    except ValidationError:
        return False
    return True


def creator_ok(kind: K.Kind, rid: str, cells: Cells, site: str) -> bool:
    """Whether a creation may come from `site`: an agency's record has the id of its code, and
    a record with a bound id (ids.new_bound_id) is created only by the site its id names, for
    the owner its id names."""
    if kind.name == "agency":
        code = (cells.get("code") or [None])[0]
        return not isinstance(code, str) or ids.agency_id(code) == rid
    return not ids.is_bound(rid) or ids.made_by(rid, site, (cells.get("owner") or [None])[0])


def proven_owner(rid: str, cells: Cells, writer: str) -> str | None:
    """The owner a change of a record with a bound id proves: a creation by the site the id
    names, or a history copy of that creation (its `_cl` cell carries the creation's version,
    hence the creating site), naming the owner the id names. None when it proves nothing."""
    owner = (cells.get("owner") or [None])[0]
    raw = cells.get("_cl")
    if not owner or not raw:
        return None
    cl = WireCell.of(raw)
    if cl.value != 1:
        return None
    if cl.own is not None:
        site = cl.own[1]
    elif len(raw) == 1:
        site = writer
    else:
        return None
    return owner if isinstance(site, str) and ids.made_by(rid, site, owner) else None


def quoted(name: str) -> str:
    return f'"{name}"'


def field_history(conn: sqlite3.Connection, tbl: str, rid: str, col: str,
                  uuid: dict[int, str]) -> tuple[dict[Version, Any], set[Version]]:
    """({version: value}, superseded versions) of one field of a record, from the change log;
    versions name their site by UUID (`uuid` maps this replica's site numbers). A merge and a
    local write judge a field's heads from this same history."""
    versions: dict[Version, Any] = {}
    superseded: set[Version] = set()
    for hlc, site, cells in conn.execute(
            "SELECT hlc, site, fc_cells(site, hlc, tbl, rid, cells) FROM change WHERE "
            f"{byref.of_record()} AND tbl = ? AND status = 0",
            (*byref.record_args(rid, tbl), tbl)):
        cells = compact.loads(cells)
        raw = cells.get(col)
        if raw is None:
            continue
        c = WireCell.of(raw)
        v = (c.own[0], as_uuid(c.own[1], uuid)) if c.own else (hlc, uuid.get(site, ""))
        withheld = col in (cells.get("_copy") or [[]])[0]
        if not withheld or v not in versions:
            versions[v] = None if withheld else c.value
        for h, si in (c.prev, *c.replaced) if c.prev else c.replaced:
            superseded.add((h, as_uuid(si, uuid)))
    return versions, superseded


def as_uuid(site: int | str, uuid: dict[int, str]) -> int | str:
    """A site as a UUID: a number of this replica's mapped, a UUID (or unknown number) kept."""
    return uuid.get(site, site) if isinstance(site, int) else site
