# SPDX-License-Identifier: GPL-3.0-or-later
"""What the detail pane and the contact card show, read from the store (UI layer, no Qt).

Plain functions over `Store`, so the card's order of lines and its stale rule are tested
without a window.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..core import kinds as K
from ..core.errors import ValidationError
from ..core.format import display_number, display_phone
from ..store.alerts import Thresholds

STALE_DAYS = Thresholds.stale_days        # the default; the database keeps the one in force
RELATED_LIMIT = 50
_KIND_ORDER = {k: i for i, k in enumerate(("phone", "mobile", "satellite_phone", "pager",
                                           "call_sign", "email", "fax", "other"))}


@dataclass
class Line:
    """One contact method as the card shows it."""
    id: str
    kind: str
    value: str            # as stored (E.164 for phones)
    shown: str            # as displayed
    label: str
    duty: str | None
    verified_on: str | None
    verified_by: str | None
    owner: str
    scope: str = "all"

    @property
    def is_phone(self) -> bool:
        return self.kind in K.PHONE_KINDS

    @property
    def copy_text(self) -> str:
        return self.shown if self.is_phone else self.value


def line_order(rec) -> tuple:
    v = rec.values
    return (v.get("duty") != "24/7", v.get("kind") not in K.PHONE_KINDS,
            v.get("priority") or 99, _KIND_ORDER.get(v.get("kind"), 9), v.get("value") or "")


def lines_of(store, rid: str, column: str = "contact") -> list[Line]:
    """A contact's (or an agency's own) contact methods: 24/7 lines first, phones before
    email, then by priority."""
    where = {column: rid}
    if column == "agency":
        where["contact"] = None
    recs = sorted(store.list("method", where), key=line_order)
    out = []
    for r in recs:
        v = r.values
        value = v.get("value") or ""
        shown = display_phone(value) if v.get("kind") in K.PHONE_KINDS else value
        out.append(Line(r.id, v.get("kind") or "other", value, shown, v.get("label") or "",
                        v.get("duty"), v.get("verified_on"), v.get("verified_by"), r.owner,
                        r.scope))
    return out


def last_verified(lines: list[Line]) -> str | None:
    """The most recent verification date among the lines (None when never verified)."""
    dates = [ln.verified_on for ln in lines if ln.verified_on]
    return max(dates) if dates else None


def days_since(date_text: str | None, today: dt.date | None = None) -> int | None:
    if not date_text:
        return None
    try:
        day = dt.date.fromisoformat(date_text[:10])
    except ValueError:
        return None
    return ((today or dt.date.today()) - day).days


def is_stale(date_text: str | None, stale_days: int = STALE_DAYS,
             today: dt.date | None = None) -> bool:
    """Never verified, or verified more than `stale_days` days ago."""
    n = days_since(date_text, today)
    return n is None or n > stale_days


def mark_verified(store, line_ids: list[str], by: str, today: dt.date | None = None) -> None:
    """Set every line's last-verified date to today (one write: run it as an operation)."""
    day = (today or dt.date.today()).isoformat()
    for lid in line_ids:
        store.edit(lid, {"verified_on": day, "verified_by": by})


class Namer:
    """Titles of referenced records (agencies by code), cached for one rendering."""

    def __init__(self, store):
        self.store = store
        self._cache: dict = {}

    def title(self, rid: str, kind: str | None = None) -> tuple[str, bool]:
        key = (kind, rid)
        if key not in self._cache:
            try:
                rec = self.store.get(rid, kind)
                label = rec.values.get("code") if rec.kind == "agency" else rec.title
                self._cache[key] = (str(label or rid), rec.deleted)
            except ValidationError:
                self._cache[key] = (rid, False)
        return self._cache[key]

    def value(self, kind: K.Kind, fld: K.Field, value) -> str:
        """A field's value as text (references by their title)."""
        if value is None or value == "":
            return ""
        if fld.type == K.REF:
            return self.title(value, fld.ref)[0]
        if fld.type == K.REFS:
            return ", ".join(self.title(v, fld.ref)[0] for v in value)
        if fld.type == K.PHONE or (fld.name == "value" and kind.name == "method"):
            return display_phone(value)
        if isinstance(value, float):
            return display_number(value)
        if fld.type == K.ENUM:
            return str(value).replace("_", " ")
        if fld.type == K.DATETIME:
            return str(value).replace("T", " ")
        return str(value)


def related(store, rec) -> list[tuple[str, list, int]]:
    """(heading, records, total) a liaison wants next to this record; at most RELATED_LIMIT
    records per heading are read."""
    groups = [(p.heading, p.kind, {p.field: rec.id}) for p in K.KINDS[rec.kind].parts
              if p.heading]
    out = []
    for heading, kind, where in groups:
        recs = store.list(kind, where, limit=RELATED_LIMIT + 1)
        total = len(recs)
        if total > RELATED_LIMIT:
            k = K.KINDS[kind]
            col, val = next(iter(where.items()))
            total = store.conn.execute(f'SELECT count(*) FROM "{k.table}" WHERE "{col}" = ? '
                                       "AND _cl % 2 = 1", (val,)).fetchone()[0]
            recs = recs[:RELATED_LIMIT]
        out.append((heading, recs, total))
    return out


# For a record that links two others (an agreement's party: agreement and agency), shown in a
# related list: its required references, in order; the first one not pointing back at the
# record being shown says most about it.
LINK_FIELDS = {k.name: refs for k in K.KINDS.values()
               for refs in (tuple(f.name for f in k.fields if f.type == K.REF and f.required),)
               if len(refs) >= 2}


def link_field(rec, shown_id: str) -> str | None:
    for name in LINK_FIELDS.get(rec.kind, ()):
        if rec.values.get(name) and rec.values[name] != shown_id:
            return name
    return None
