# SPDX-License-Identifier: GPL-3.0-or-later
"""Whole-record checks that need the database: references, ownership, sharing scopes (store layer).

Field-level normalising lives in core.validate; this module applies it to a whole record and
adds what depends on other records. Every check raises ValidationError before anything is written.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

from ..core import ids, workflow
from ..core import kinds as K
from ..core.errors import ValidationError
from ..core.library import find_nims_type
from ..core.request_number import next_request_number
from ..core.validate import (
    audience,
    check_dates_in_order,
    normalise_field,
    normalise_method_value,
    normalise_scope,
    parse_scope,
)
from .records import RowDict, StoredRow

if TYPE_CHECKING:
    from .replica import Replica

_TONE_RE = re.compile(r"^(\d{2,3}(\.\d)?|D\d{3}[NI]?|\$?[0-9A-F]{3}|CSQ)$", re.I)

# (causal length, scope, agency id) of a record
Summary = tuple[int, str, str | None]


class _Plan:
    """What checking a record of one kind needs, worked out once: its fields' defaults, the
    required fields, the references to resolve."""
    __slots__ = ("defaults", "required", "immutable", "refs")

    def __init__(self, kind: K.Kind):
        self.defaults = {f.name: f.default for f in kind.fields}
        self.required = tuple(f.name for f in kind.fields if f.required)
        self.immutable = tuple(f.name for f in kind.fields if f.immutable)
        self.refs = tuple(f for f in kind.fields if f.type in (K.REF, K.REFS))


_PLANS = {k.name: _Plan(k) for k in K.KINDS.values()}
# what a user typed as a field's name -> the field's name (" Call-Sign " -> "call_sign")
_NAMES: dict[str, str] = {}


def _name(key: str) -> str:
    got = _NAMES.get(key)
    if got is None:
        got = key.strip().lower().replace("-", "_")
        if len(_NAMES) < 10_000:
            _NAMES[key] = got
    return got


def _target(fld: K.Field) -> K.Kind:
    """The kind a REF or REFS field refers to (each names one: kinds.py)."""
    assert fld.ref is not None
    return K.KINDS[fld.ref]


class RowChecker:
    """Turns user input into a valid stored row, resolving references against the store."""

    def __init__(self, store: Replica):
        self.store = store
        # record id -> (its kind's name, its summary or None)
        self._summaries: dict[str, tuple[str, Summary | None]] = {}

    # ------------------------------------------------------------------ helpers
    def forget(self, rid: str | None = None) -> None:
        """Drop cached summaries: of one record after it was written, or all (new transaction)."""
        if rid is None:
            self._summaries.clear()
        else:
            self._summaries.pop(rid, None)

    def remember(self, kind: K.Kind, rid: str, row: RowDict) -> None:
        """Cache the summary of a record just inserted (it is read next by its parts)."""
        self._summaries[rid] = (kind.name, (1, row["scope"], row.get("agency")))

    def summary(self, kind: K.Kind, rid: str) -> Summary | None:
        """(causal length, scope, agency id) of a record, or None; cached within a transaction."""
        got = self._summaries.get(rid)
        if got is None or got[0] != kind.name:
            agency = '"agency"' if "agency" in kind.field_map else "NULL"
            row = self.store.conn.execute(
                f'SELECT _cl, scope, {agency} FROM "{kind.table}" WHERE id = ?', (rid,)).fetchone()
            got = (kind.name, row)
            self._summaries[rid] = got
        return got[1]

    def _live(self, kind: K.Kind, rid: str) -> bool:
        row = self.summary(kind, rid)
        return row is not None and row[0] % 2 == 1

    def resolve_ref(self, target: K.Kind, text: str) -> str | None:
        """A live record's id from an id, or an agency code for agencies."""
        t = text.strip()
        if ids.looks_like_id(t):
            return t.lower() if self._live(target, t.lower()) else None
        if target.name == "agency":
            rid = ids.agency_id(t)
            return rid if self._live(target, rid) else None
        return None

    def _ref(self, kind: K.Kind, fld: K.Field, value: str) -> str:
        target = _target(fld)
        rid = self.resolve_ref(target, value)
        if rid is None:
            how = "code or id" if target.name == "agency" else "id"
            raise ValidationError(f"{kind.label} {fld.name}: no {target.label} with {how} "
                                  f"'{value}'", fld.name)
        return rid

    def agency_code(self, rid: str | None) -> str | None:
        if not rid:
            return None
        row = self.store.conn.execute("SELECT code FROM agency WHERE id = ?", (rid,)).fetchone()
        return row[0] if row else None

    def audience(self, row: Mapping[str, Any]) -> str:
        return audience(row["owner"], row["scope"])

    def _known_code(self, code: str) -> bool:
        return self._live(K.KINDS["agency"], ids.agency_id(code))

    # ------------------------------------------------------------------ fields
    def _normalise(self, kind: K.Kind, values: Mapping[str, Any]) -> RowDict:
        out: RowDict = {}
        fields = kind.field_map
        for key, value in values.items():
            fld = fields.get(key)
            if fld is not None and type(value) is str:
                out[key] = normalise_field(kind, fld, value)    # (a field by its own name)
                continue
            name = _name(key)
            if name in ("owner", "scope"):
                if value is not None and not isinstance(value, str):
                    raise ValidationError(f"{name}: give one value such as "
                                          f"{'MPD' if name == 'owner' else 'all'}", name)
                out[name] = value
                continue
            fld = kind.field_map.get(name)
            if fld is None:
                if name in ("id", "created_at", "updated_at", "device"):
                    raise ValidationError(f"{name} is set by fieldcoord and cannot be written",
                                          name)
                raise ValidationError(f"{kind.label} has no field '{key}'; its fields are: "
                                      + ", ".join(f.name for f in kind.fields) + ", owner, scope",
                                      name)
            if isinstance(value, (list, tuple)) and fld.type != K.REFS:
                raise ValidationError(f"{kind.label} {name}: give one value, not "
                                      f"{len(value)}", name)
            out[name] = normalise_field(kind, fld, value)
        return out

    def _owner_scope(self, kind: K.Kind, row: RowDict, own_code: str | None) -> None:
        if own_code:
            # an agency's own record is maintained by that agency, whoever typed it in
            given = str(row.get("owner") or own_code).strip().upper()
            if given != own_code:
                raise ValidationError(f"owner: the record of agency {own_code} belongs to "
                                      f"{own_code} itself", "owner")
            row["owner"] = own_code
        owner = str(row.get("owner") or self.store.home).strip().upper()
        if owner not in (self.store.home, own_code) and not self._known_code(owner):
            raise ValidationError(f"owner: no agency with code '{owner}' in the directory", "owner")
        row["owner"] = owner
        scope = normalise_scope(row["scope"])
        _, codes, _ = parse_scope(scope)
        for code in codes:
            if code not in (self.store.home, own_code, owner) and not self._known_code(code):
                raise ValidationError(f"scope: no agency with code '{code}' in the directory",
                                      "scope")
        row["scope"] = scope

    def _default_scope(self, kind: K.Kind, row: RowDict) -> str:
        if kind.parent and row.get(kind.parent):
            parent_kind = _target(kind.field_map[kind.parent])
            got = self.summary(parent_kind, row[kind.parent])
            if got:
                return got[1]
        return kind.default_scope

    # ------------------------------------------------------------------ records
    def new_row(self, kind: K.Kind, values: Mapping[str, Any]) -> tuple[str, RowDict]:
        """(id, row) for a new record: every field of the kind plus owner and scope, checked."""
        given = self._normalise(kind, values)
        plan = _PLANS[kind.name]
        row: RowDict = dict(plan.defaults)
        row.update({k: v for k, v in given.items() if v is not None or k in row})
        for name in plan.required:
            if row.get(name) is None:
                raise ValidationError(f"{kind.label} {name}: is required", name)
        if kind.name == "log":
            now = dt.datetime.now().strftime("%Y-%m-%dT%H:%M:%S")
            row["recorded_at"] = now
            row["happened_at"] = row.get("happened_at") or now[:16]
        self._check(kind, row, None)
        if "scope" not in given or given.get("scope") is None:
            row["scope"] = self._default_scope(kind, row)
        own_code = row.get("code") if kind.name == "agency" else None
        self._owner_scope(kind, row, own_code)
        if kind.name == "agency":
            rid = ids.agency_id(row["code"])
            existing = self.store.conn.execute("SELECT _cl, name FROM agency WHERE id = ?",
                                               (rid,)).fetchone()
            if existing:
                if existing[0] % 2 == 1:
                    raise ValidationError(f"agency code {row['code']} is already used by "
                                          f"{existing[1]}", "code")
                raise ValidationError(f"agency code {row['code']} belongs to the deleted agency "
                                      f"{existing[1]}: restore it with fieldcoord restore {rid}",
                                      "code")
        else:
            rid = ids.new_bound_id(self.store.site_uuid, row["owner"])
        return rid, {"owner": row.pop("owner"), "scope": row.pop("scope"), **row}

    def changed_row(self, kind: K.Kind, old: RowDict, values: Mapping[str, Any],
                    rid: str) -> RowDict:
        """The full row after applying `values` to `old` (owner and scope included), checked."""
        given = self._normalise(kind, values)
        plan = _PLANS[kind.name]
        for name in plan.immutable:
            if name in given and given[name] != old.get(name):
                raise ValidationError(f"{kind.label} {name} cannot be changed once set", name)
        if given.get("owner") is not None and str(given["owner"]).strip().upper() != old["owner"]:
            raise ValidationError(f"owner: a record keeps the owner it was created with "
                                  f"({old['owner']}); change its scope to share it", "owner")
        row = {**old, **given}
        for name in plan.required:
            if row.get(name) is None:
                raise ValidationError(f"{kind.label} {name}: is required", name)
        if row.get("scope") is None:
            raise ValidationError("scope: is required", "scope")
        if kind.name == "resource" and "type_id" in given and given["type_id"] is None:
            row.update(type_name=None, type_category=None, type_kind=None)
        if kind.name == "request" and given.get("number") \
                and given["number"] != old.get("number"):
            self._request_number(kind, row, rid)
        if kind.name == "request" and "status" in given:
            new = row.get("status")
            why = workflow.refusal(old.get("status"), new,
                                   f"request {old.get('number') or old.get('description')}")
            if not why and new in workflow.LEGACY and new != old.get("status"):
                why = (f"'{new}' is a status of earlier versions; use "
                       f"'{workflow.LEGACY[new]}' instead")
            if why:
                raise ValidationError(why, "status")
        self._check(kind, row, rid, given)
        if kind.name == "agency" or "owner" in given or "scope" in given:
            # (a record's stored owner and scope stand as they are when neither is written)
            self._owner_scope(kind, row, old.get("code") if kind.name == "agency" else None)
        return row

    def _check(self, kind: K.Kind, row: RowDict, rid: str | None,
               given: Collection[str] | None = None) -> None:
        """Resolve references (all, or those in `given`) and check the record as a whole."""
        for f in _PLANS[kind.name].refs:
            v = row.get(f.name)
            if v is None or (given is not None and f.name not in given):
                continue
            if f.type == K.REF:
                row[f.name] = self._ref(kind, f, v)
            else:
                row[f.name] = [self._ref(kind, f, x) for x in v]
        for first, second in kind.in_order:
            check_dates_in_order(kind, row, first, second)
        rule = _RULES.get(kind.name)
        if rule is not None:
            rule(self, kind, row, rid)

    def _check_agency(self, kind: K.Kind, row: RowDict, rid: str | None) -> None:
        parent = row.get("parent")
        own = rid or ids.agency_id(row["code"])
        seen: set[str] = set()
        while parent:
            if parent == own:
                raise ValidationError("agency parent: an agency cannot be its own parent "
                                      "(directly or through its parents)", "parent")
            if parent in seen:
                break
            seen.add(parent)
            got = self.store.conn.execute("SELECT parent FROM agency WHERE id = ?",
                                          (parent,)).fetchone()
            parent = got[0] if got else None

    def _check_method(self, kind: K.Kind, row: RowDict, rid: str | None) -> None:
        if not row.get("contact") and not row.get("agency"):
            raise ValidationError("contact method: give the contact (contact=ID) or the agency "
                                  "(agency=CODE) it belongs to", "contact")
        if row.get("contact") and not row.get("agency"):
            got = self.summary(K.KINDS["contact"], row["contact"])
            row["agency"] = got[2] if got else None
        row["value"] = normalise_method_value(row["kind"], row["value"], self.store.region)

    def _check_resource(self, kind: K.Kind, row: RowDict, rid: str | None) -> None:
        if row.get("type_id"):
            t = find_nims_type(row["type_id"])
            if t is None:
                raise ValidationError(f"resource type_id: '{row['type_id']}' is not a resource "
                                      "type id or name in the NIMS catalog", "type_id")
            row.update(type_id=t.id, type_name=t.name, type_category=t.category, type_kind=t.kind)
            if row.get("type_level") and row["type_level"] not in t.levels:
                raise ValidationError(f"resource type_level: {t.name} ({t.id}) comes in "
                                      f"{', '.join(t.levels)}, not {row['type_level']}",
                                      "type_level")

    def _check_action(self, kind: K.Kind, row: RowDict, rid: str | None) -> None:
        if not row.get("event") and not row.get("operation"):
            raise ValidationError(f"{kind.label} event: say which exercise, event or operation "
                                  "it comes from (event= or operation=)", "event")
        if row.get("status") == "done" and not (row.get("closing_note") or "").strip():
            raise ValidationError(f"{kind.label} closing_note: say how it was closed before "
                                  "marking it done", "closing_note")

    def _check_request(self, kind: K.Kind, row: RowDict, rid: str | None) -> None:
        if rid is None:
            self._request_number(kind, row, None)
        status = row.get("status")
        if status in workflow.LEGACY and rid is None:
            raise ValidationError(f"{kind.label} status: '{status}' is a status of earlier "
                                  f"versions; use '{workflow.LEGACY[status]}'", "status")
        supplier = row.get("supplying_agency")
        if workflow.canonical(status) in workflow.NEEDS_SUPPLIER and not supplier:
            raise ValidationError(f"{kind.label} supplying_agency: a request that is "
                                  f"{workflow.label(status)} names the agency supplying it",
                                  "supplying_agency")
        for res in row.get("committed_resources") or ():
            got = self.store.conn.execute("SELECT agency, name FROM resource WHERE id = ?",
                                          (res,)).fetchone()
            if got is not None and supplier and got[0] != supplier:
                raise ValidationError(
                    f"{kind.label} committed_resources: {got[1]} belongs to "
                    f"{self.agency_code(got[0]) or 'another agency'}, not to the supplying "
                    f"agency {self.agency_code(supplier)}", "committed_resources")

    def _request_number(self, kind: K.Kind, row: RowDict, rid: str | None) -> None:
        """A new request without a number gets its agency's next one (CODE-YEAR-N); a number
        another request of the directory already has is refused."""
        number = (row.get("number") or "").strip()
        if not number:
            code = self.agency_code(row.get("requesting_agency"))
            if code:
                used = [n for (n,) in self.store.conn.execute(
                    "SELECT number FROM resource_request WHERE requesting_agency = ?",
                    (row["requesting_agency"],))]
                row["number"] = next_request_number(code, used)
            return
        got = self.store.conn.execute(
            "SELECT description FROM resource_request WHERE number = ? COLLATE NOCASE "
            "AND _cl % 2 = 1 AND id IS NOT ?", (number, rid)).fetchone()
        if got:
            raise ValidationError(f"{kind.label} number: {number} is already the number of "
                                  f"'{got[0]}'", "number")

    def _check_channel(self, kind: K.Kind, row: RowDict, rid: str | None) -> None:
        for name in ("rx_tone", "tx_tone"):
            tone = row.get(name)
            if tone and not _TONE_RE.match(tone.strip()):
                raise ValidationError(f"channel {name}: '{tone}' is not a CTCSS tone (such as "
                                      "156.7), a DCS code (D023) or a NAC ($293)", name)

    # ------------------------------------------------------------------ deleting
    def referrers(self, kind: K.Kind, rid: str,
                  skip: Collection[tuple[str, str]] = ()) -> list[tuple[K.Kind, str]]:
        """Live records that refer to `rid` (other than the kinds in `skip`), a few per kind."""
        found: list[tuple[K.Kind, str]] = []
        for k in K.KINDS.values():
            for f in k.fields:
                if f.ref != kind.name or (k.name, f.name) in skip:
                    continue
                if f.type == K.REF:
                    sql = f'SELECT {k.title_field}, id FROM "{k.table}" WHERE "{f.name}" = ?'
                    arg = rid
                else:
                    sql = f'SELECT {k.title_field}, id FROM "{k.table}" WHERE "{f.name}" LIKE ?'
                    arg = f'%"{rid}"%'
                for title, other in self.store.conn.execute(sql + " AND _cl % 2 = 1 LIMIT 3",
                                                            (arg,)):
                    if other != rid:
                        found.append((k, str(title or other)))
        return found

    def check_deletable(self, kind: K.Kind, row: StoredRow) -> None:
        users = self.referrers(kind, row["id"], skip=K.cascade(kind.name))
        if users:
            listed = ", ".join(f"{k.label} '{t}'" for k, t in users[:5])
            raise ValidationError(f"{kind.label} '{row[kind.title_field]}' is still used by "
                                  f"{listed}; change or delete those first")

    def check_restorable(self, kind: K.Kind, row: StoredRow) -> None:
        for f in kind.fields:
            v = row[f.name]
            if f.type == K.REF and v and not self._live(_target(f), v):
                target = _target(f)
                raise ValidationError(f"{kind.label} '{row[kind.title_field]}' refers to a "
                                      f"deleted {target.label} ({f.name}); restore that first")

    # ------------------------------------------------------------------ queries
    def where_value(self, kind: K.Kind, name: str, value: Any) -> tuple[str, Any]:
        """(column, stored value) for an equality filter given as the user typed it."""
        col = name.strip().lower().replace("-", "_")
        if col in ("owner", "id"):
            return col, str(value).strip().upper() if col == "owner" else str(value).strip()
        if col == "scope":
            return col, normalise_scope(value)
        fld = kind.field_map.get(col)
        if fld is None:
            raise ValidationError(f"{kind.label} has no field '{name}' to filter on")
        if value is None or str(value).strip() == "":
            return col, None
        if fld.type == K.REF:
            rid = self.resolve_ref(_target(fld), str(value))
            return col, rid or str(value).strip()
        norm = normalise_field(kind, K.Field(fld.name, fld.type if fld.type != K.REFS else K.TEXT,
                                             choices=fld.choices), value)
        if kind.name == "method" and col == "value":
            return col, str(value).strip()
        return col, norm


# Rules of a kind beyond its fields (a kind without any needs no entry): the agency tree has no
# cycles, a contact method's value fits its kind, and so on.
_RULES: dict[str, Callable[[RowChecker, K.Kind, RowDict, str | None], None]] = {
    "agency": RowChecker._check_agency, "method": RowChecker._check_method,
    "resource": RowChecker._check_resource, "channel": RowChecker._check_channel,
    "action": RowChecker._check_action, "request": RowChecker._check_request}
