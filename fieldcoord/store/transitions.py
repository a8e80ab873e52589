# SPDX-License-Identifier: GPL-3.0-or-later
"""The resource request workflow, kept by every replica from the change log (store layer; the
fourth layer of the Merger, see merge.py).

A change of a request's status names the version it replaced. The receiver looks that version
up in its own log and judges the move (core.workflow) from its value, never from what the
sender says it was. A move that follows a refused one is refused too. When the version replaced
has not arrived yet (it travels in another replica's stream), the change **waits**: it is kept
in the log and passed on whole, but not applied, until that version arrives (a version that
never existed keeps it waiting for good). Every request touched by a batch is judged again from
its whole log, so the order of arrival never decides, and replicas that hold the same changes
hold the same verdicts.

The same log gives each request its history: every step with when, and the device and agency
that made it (from their certificates).
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from ..core import hlc as clock
from ..core import kinds as K
from ..core import workflow
from . import byref
from .incoming import APPLIED, REFUSED, WAITING, Entry, as_uuid
from .judging import Judging
from .records import Version, WireCell

REQUEST = K.KINDS["request"]
OK, UNKNOWN = "ok", "unknown"
MAX_DEPTH = 200          # versions judged through at once; a longer chain is refused


@dataclass
class Node:
    """One version of a request's status, as the log holds it."""
    value: Any
    prevs: tuple[Version, ...]       # the versions it replaced (none: the record's creation)
    creation: bool
    refused: bool                    # its change was refused (for any reason)
    waiting: bool                    # its change waits for the version it replaced
    withheld: bool                   # a copy of history whose value was withheld
    hlc: int
    site: int                        # the writing site's number here
    keys: list[tuple[int, int, int]]  # (stream, seq, status) of the changes carrying it
    clash: bool = False              # changes carrying it give it different values


def status_nodes(conn: sqlite3.Connection, rid: str,
                 uuid_of: dict[int, str]) -> dict[Version, Node]:
    """Every version of request `rid`'s status in the log, by version (site as UUID)."""
    nodes: dict[Version, Node] = {}
    for stream, seq, hlc, site, text, status in conn.execute(
            "SELECT stream, seq, hlc, site, fc_cells(site, hlc, tbl, rid, cells), status "
            f"FROM change WHERE {byref.of_record()} AND tbl = ?",
            (*byref.record_args(rid, REQUEST.table), REQUEST.table)):
        cells = json.loads(text)
        raw = cells.get("status")
        cl = cells.get("_cl")
        creation = False
        own: Version | None = None
        if isinstance(cl, list) and cl and cl[0] == 1:
            first = WireCell.of(cl)
            creation = first.prev is None
            own = first.own
        if raw is None and not creation:
            if status == REFUSED and "_d" in cells:
                # refused where it came from and passed on as its digest only: what names it
                # as replaced follows a refused change here too
                nodes.setdefault((hlc, uuid_of.get(site, "")), Node(
                    None, (), False, True, False, False, hlc, site, []))
            continue
        c = WireCell.of(raw) if raw is not None else None
        mine = (c.own if c is not None and c.own else own)
        version: Version = ((mine[0], as_uuid(mine[1], uuid_of)) if mine
                            else (hlc, uuid_of.get(site, "")))
        prevs: tuple[Version, ...] = ()
        if c is not None:
            prevs = tuple((h, as_uuid(s, uuid_of)) for h, s in
                          ((c.prev, *c.replaced) if c.prev else c.replaced))
        withheld = "status" in ((cells.get("_copy") or [[]])[0] or ())
        node = Node(c.value if c is not None and not withheld else None, prevs,
                    creation and not prevs, status == REFUSED, status == WAITING, withheld,
                    hlc, site, [(stream, seq, status)])
        held = nodes.get(version)
        if held is None or not held.keys:
            nodes[version] = node
            continue
        held.keys.append((stream, seq, status))
        if not (held.withheld or node.withheld or held.refused or node.refused) \
                and held.value != node.value:
            held.clash = True        # one version, two values: only a forger writes that
        if held.withheld and not node.withheld:
            held.value, held.withheld = node.value, False
        held.refused = held.refused and node.refused
        held.waiting = held.waiting and node.waiting
        held.creation = held.creation or node.creation
    return nodes


def verdicts(nodes: dict[Version, Node]) -> dict[Version, tuple[str, str]]:
    """{version: (OK, "") | (UNKNOWN, "") | ("refused", why)} for every version in `nodes`.

    Judged oldest first (a write is stamped above what it replaces, so what a version replaced
    is usually judged already), in an order every replica shares; a chain that a forger made
    to run the other way is cut at MAX_DEPTH."""
    out: dict[Version, tuple[str, str]] = {}

    def judge(v: Version, depth: int) -> tuple[str, str]:
        got = out.get(v)
        if got is not None:
            return got
        node = nodes.get(v)
        if node is None:
            return UNKNOWN, ""
        if depth > MAX_DEPTH:
            return "refused", "its earlier statuses run back further than any request's"
        out[v] = ("refused", "its earlier statuses name each other")   # a cycle, while judged
        if node.refused:
            result = ("refused", "the change was refused")
        elif node.clash:
            result = ("refused", "two changes give the same version different statuses")
        elif node.creation:
            result = (OK, "")
        elif not node.prevs:
            result = ("refused", "a change of a request's status names the status it replaced; "
                                 "this one names none")
        else:
            result = _from_any(node, [(nodes.get(p), judge(p, depth + 1))
                                      for p in node.prevs])
        out[v] = result
        return result

    for v in sorted(nodes, key=lambda v: (v[0], str(v[1]))):
        judge(v, 0)
    return out


def _from_any(node: Node, befores: list[tuple[Node | None, tuple[str, str]]]
              ) -> tuple[str, str]:
    """A move stands when it is allowed from one of the versions it replaced that stands."""
    unknown = False
    why = ""
    for before, (state, reason) in befores:
        if before is None or before.withheld:
            unknown = True
            continue
        if state == "refused":
            why = why or f"it follows a change that was refused ({reason})"
            continue
        wrong = workflow.refusal(before.value, node.value, "the request")
        if wrong:
            why = why or wrong
        elif state == OK:
            return OK, ""
        else:
            unknown = True
    return (UNKNOWN, "") if unknown else ("refused", why)


class Transitions(Judging):
    """Request moves the workflow does not allow refused, and those whose replaced version has
    not arrived kept waiting, judged after each batch."""

    def _judge_requests(self) -> None:
        """Judge again the status moves of every request the batch touched: refuse the ones
        the workflow does not allow, hold back those that cannot be judged yet, apply those
        that can now; rebuild each request whose changes moved."""
        touched = sorted(self._requests)
        self._requests.clear()
        if not touched:
            return
        self.flush()
        conn = self.conn
        for rid in touched:
            nodes = status_nodes(conn, rid, self.uuid_of)
            if all(n.creation for n in nodes.values()):
                continue
            moved = False
            for v, (state, why) in verdicts(nodes).items():
                node = nodes[v]
                if node.refused:
                    continue
                want = APPLIED if state == OK else WAITING if state == UNKNOWN else REFUSED
                for stream, seq, status in node.keys:
                    if status != want:      # (read and written again only when it moves)
                        moved = self._set_status(rid, stream, seq, want, why) or moved
            if moved:
                held = self._row(REQUEST.table, rid)
                if held is not None:
                    self._rebuild(REQUEST, rid, held)

    def _set_status(self, rid: str, stream: int, seq: int, want: int, why: str) -> bool:
        """Give a change of the log status `want`; whether it changed (a refusal reported)."""
        got = self.conn.execute(
            "SELECT c.status, s.uuid, t.audience, c.tx, c.hlc, w.uuid FROM change c "
            "JOIN stream t ON t.id = c.stream JOIN site s ON s.ord = t.origin "
            "JOIN site w ON w.ord = c.site WHERE c.stream = ? AND c.seq = ?",
            (stream, seq)).fetchone()
        if got is None or got[0] == want or got[0] == REFUSED:
            return False
        # an edit of this replica's may keep the creation's values (store.byref): the creation
        # is written out before the edit stops counting
        byref.materialize(self.conn, REQUEST.table, rid)
        self.conn.execute("UPDATE change SET status = ? WHERE stream = ? AND seq = ?",
                          (want, stream, seq))
        if want == REFUSED:
            _status, origin, aud, tx, hlc, writer = got
            self.report.refused.append((Entry(origin, aud, seq, tx, REQUEST.table, rid, hlc,
                                              writer, {}), why))
        return True


@dataclass(frozen=True)
class Step:
    """One step of a request's history: the status it moved to, when, and who made it."""
    status: str
    before: str | None               # None: the request was recorded in this status
    at: str                          # ISO time (UTC) of the change
    hlc: int
    agency: str
    device: str

    @property
    def who(self) -> str:
        return f"{self.agency} ({self.device})" if self.device else self.agency

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "from": self.before, "at": self.at,
                "agency": self.agency, "device": self.device}


def history(conn: sqlite3.Connection, rid: str) -> list[Step]:
    """The steps of request `rid` that stand here, oldest first."""
    uuid_of: dict[int, str] = {}
    who: dict[str, tuple[str, str]] = {}
    for o, u, a, d in conn.execute("SELECT ord, uuid, agency, device FROM site"):
        uuid_of[o] = u
        who[u] = (a or "", d or "")
    nodes = status_nodes(conn, rid, uuid_of)
    steps: list[Step] = []
    for (hlc, site), node in sorted(nodes.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        if node.refused or node.waiting:
            continue
        befores = [nodes[p] for p in node.prevs if p in nodes]
        before = None if node.creation else workflow.canonical(
            befores[0].value if befores else None)
        now = workflow.canonical(node.value)
        if before == now:
            continue                 # the same state again (a conflict resolved, a relabel)
        agency, device = who.get(str(site), ("", ""))
        steps.append(Step(now, before, clock.to_iso(hlc), hlc, agency, device))
    return steps
