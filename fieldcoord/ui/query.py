# SPDX-License-Identifier: GPL-3.0-or-later
"""Windowed, sorted and filtered reads of one record kind for the app's lists (UI layer, no Qt).

A list never loads a whole table: it reads a page of rows after the last one it holds (keyset
paging on the sort key and the id), so scrolling 100,000 contacts costs one small query per
page, and a record added or edited elsewhere can be put at its place without reloading.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from ..core import kinds as K
from ..core import workflow
from ..core.format import display_number, display_phone

PHONE_KINDS_SQL = "('phone', 'mobile', 'satellite_phone', 'pager')"
# Computed columns some lists show besides the kind's own fields.
EXTRA_COLUMNS = {
    "contact": {
        "best_number": ("Number", f"(SELECT m.value FROM contact_method m WHERE m.contact = t.id "
                                  f"AND m._cl % 2 = 1 AND m.kind IN {PHONE_KINDS_SQL} ORDER BY "
                                  "m.duty = '24/7' DESC, coalesce(m.priority, 99) LIMIT 1)"),
        "call_sign": ("Call sign", "(SELECT m.value FROM contact_method m WHERE m.contact = t.id "
                                   "AND m._cl % 2 = 1 AND m.kind = 'call_sign' LIMIT 1)"),
        "last_verified": ("Verified", "(SELECT max(m.verified_on) FROM contact_method m "
                                      "WHERE m.contact = t.id AND m._cl % 2 = 1)"),
    },
    "agency": {
        "duty_line": ("24/7 line", f"(SELECT m.value FROM contact_method m WHERE m.agency = t.id "
                                   "AND m.contact IS NULL AND m._cl % 2 = 1 AND m.duty = '24/7' "
                                   f"AND m.kind IN {PHONE_KINDS_SQL} "
                                   "ORDER BY coalesce(m.priority, 99) LIMIT 1)"),
        "last_verified": ("Verified", "(SELECT max(m.verified_on) FROM contact_method m "
                                      "WHERE m.agency = t.id AND m.contact IS NULL "
                                      "AND m._cl % 2 = 1)"),
    },
}
EXTRA_COLUMNS["action"] = {
    "overdue": ("Overdue", "(CASE WHEN t.status = 'open' AND t.due_date < date('now', "
                           "'localtime') THEN 'overdue' END)"),
}
# The lines whose verification dates a contact's or agency's "last verified" reads.
_LINES_OF = {"contact": "m.contact = t.id", "agency": "m.agency = t.id AND m.contact IS NULL"}
# The filter of contacts and agencies by the date their lines were last verified: its value is
# the day before which a record is stale (a record without lines is never stale).
VERIFIED_FILTER = "verified"
# Column headings shorter than the fields' labels, where those are long.
SHORT_TITLES = {"rx_freq": "RX MHz", "tx_freq": "TX MHz", "rx_tone": "RX tone",
                "tx_tone": "TX tone", "type_name": "NIMS type", "type_level": "Type",
                "ics_position": "ICS position", "system": "System", "number": "No.",
                "requesting_agency": "Requested by", "supplying_agency": "Supplied by",
                "happened_at": "Happened", "effective_date": "Effective",
                "review_date": "Review", "expiry_date": "Expires", "lead_agency": "Lead",
                "host_agency": "Host", "needed_by": "Needed by", "quantity": "Qty"}
# Filter choices that stand for several values of a field.
FILTER_GROUPS = {
    ("event", "kind"): (("training (courses)", ("course",)),
                        ("exercises (all kinds)", ("tabletop", "functional", "full_scale",
                                                   "drill")),
                        ("meetings", ("meeting",))),
    ("request", "status"): (("open (not yet returned)", tuple(
        s for s in workflow.ALL if workflow.canonical(s) not in workflow.ENDED)),),
}
SCOPE_FILTERS = {"private": "t.scope = 'private'",
                 "all": "t.scope IN ('all', 'all+edit')",
                 "partners": "t.scope NOT IN ('private', 'all', 'all+edit')"}


@dataclass(frozen=True)
class ListSpec:
    """What one list shows: its kind, its columns (fields or extra columns) and its filters."""
    kind: str
    columns: tuple[str, ...]
    filters: tuple[str, ...] = ()       # field names (enums, agency references) offering a filter
    default_sort: str = ""              # column sorted on at first (the title field if empty)
    descending: bool = False


@dataclass
class Row:
    """One list row: the record's id, whether it is deleted, owner, scope and shown values."""
    id: str
    deleted: bool
    owner: str
    scope: str
    values: tuple
    key: object                          # the sort key, for paging and placing edited rows
    extra: dict = field(default_factory=dict)


class RecordQuery:
    """Reads pages of one kind's records in a chosen order, under filters.

    Runs on the thread that owns `conn`; each call is one indexed or top-N query.
    """

    def __init__(self, conn: sqlite3.Connection, spec: ListSpec):
        self.conn = conn
        self.spec = spec
        self.kind = K.KINDS[spec.kind]
        self.filters: dict[str, object] = {}
        self.deleted = False
        self._joins: list[str] = []
        self._exprs: list[str] = []
        self.titles: list[str] = []
        self.fields: list[K.Field | None] = []
        extra = EXTRA_COLUMNS.get(spec.kind, {})
        for i, name in enumerate(spec.columns):
            fld = self.kind.field_map.get(name)
            if fld is None and name in extra:
                title, expr = extra[name]
                self._exprs.append(expr)
                self.titles.append(title)
                self.fields.append(None)
                continue
            if fld is None:
                raise KeyError(f"{spec.kind} has no column {name}")
            self.fields.append(fld)
            self.titles.append(SHORT_TITLES.get(name, fld.title))
            if fld.type == K.REF:
                target = K.KINDS[fld.ref]
                alias = f"j{i}"
                shown = "code" if target.name == "agency" else target.title_field
                self._joins.append(f'LEFT JOIN "{target.table}" {alias} '
                                   f'ON {alias}.id = t."{name}"')
                self._exprs.append(f'{alias}."{shown}"')
            else:
                self._exprs.append(f't."{name}"')
        sort = spec.default_sort or self.kind.title_field
        self.sort_column = list(spec.columns).index(sort) if sort in spec.columns else 0
        self.descending = spec.descending

    # ------------------------------------------------------------------ set-up
    def set_sort(self, column: int, descending: bool) -> None:
        self.sort_column, self.descending = column, descending

    def set_filter(self, name: str, value) -> None:
        if value in (None, ""):
            self.filters.pop(name, None)
        else:
            self.filters[name] = value

    def _sort_expr(self) -> str:
        fld = self.fields[self.sort_column]
        expr = self._exprs[self.sort_column]
        if fld is not None and fld.type in (K.INT, K.REAL, K.LAT, K.LON):
            return f"coalesce({expr}, -1e300)"
        return f"coalesce({expr}, '') COLLATE NOCASE"

    def _where(self) -> tuple[list[str], list]:
        clauses, args = [f"t._cl % 2 = {0 if self.deleted else 1}"], []
        for name, value in sorted(self.filters.items()):
            if name == "scope":
                clauses.append(SCOPE_FILTERS[value])
            elif name == "owner":
                clauses.append("t.owner = ?")
                args.append(value)
            elif name == VERIFIED_FILTER:
                lines = _LINES_OF[self.kind.name]
                clauses.append(f"EXISTS (SELECT 1 FROM contact_method m WHERE {lines} "
                               "AND m._cl % 2 = 1) AND coalesce((SELECT max(m.verified_on) "
                               f"FROM contact_method m WHERE {lines} AND m._cl % 2 = 1), '') < ?")
                args.append(value)
            else:
                if name not in self.kind.field_map:
                    raise KeyError(f"{self.kind.name} has no field {name}")
                if isinstance(value, (list, tuple)):       # one of several values
                    clauses.append(f't."{name}" IN ({", ".join("?" * len(value))})')
                    args.extend(value)
                else:
                    clauses.append(f't."{name}" = ?')
                    args.append(value)
        return clauses, args

    def sortable(self, column: int) -> bool:
        """Computed columns (a contact's best number) would cost a query per record to sort."""
        return self.fields[column] is not None

    def _from(self) -> str:
        joins = " ".join(self._joins) if self._sort_needs_join() else ""
        return f'FROM "{self.kind.table}" t {joins}'

    def _select(self, inner: str, order: str = "") -> str:
        """Rows of the ids `inner` selects (with their sort keys as _sk), columns computed only
        for those: a top-N sort then never evaluates a column's subquery for the whole table."""
        cols = ", ".join(self._exprs)
        return (f"SELECT t.id, t._cl, t.owner, t.scope, s._sk, {cols} FROM ({inner}) s "
                f'JOIN "{self.kind.table}" t ON t.id = s.id {" ".join(self._joins)} {order}')

    # ------------------------------------------------------------------ reading
    def fetch(self, after: Row | None = None, limit: int = 200) -> list[Row]:
        """The next `limit` rows in order, after `after` (from the start when None)."""
        clauses, args = self._where()
        if after is not None:
            clause, more = self._beyond(after, "<" if self.descending else ">")
            clauses.append(clause)
            args += more
        order = "DESC" if self.descending else "ASC"
        inner = (f"SELECT t.id, {self._sort_expr()} AS _sk {self._from()} "
                 f"WHERE {' AND '.join(clauses)} ORDER BY _sk {order}, t.id {order} "
                 f"LIMIT {int(limit)}")
        sql = self._select(inner, f"ORDER BY s._sk {order}, t.id {order}")
        return [self._row(r) for r in self.conn.execute(sql, args)]

    def get(self, rid: str) -> Row | None:
        """The row of record `rid` if it passes the filters, else None."""
        clauses, args = self._where()
        clauses.append("t.id = ?")
        inner = f"SELECT t.id, {self._sort_expr()} AS _sk {self._from()} " \
                f"WHERE {' AND '.join(clauses)}"
        got = self.conn.execute(self._select(inner), [*args, rid]).fetchone()
        return self._row(got) if got else None

    def position(self, row: Row) -> int:
        """How many rows come before `row` in the current order."""
        clauses, args = self._where()
        clause, more = self._beyond(row, ">" if self.descending else "<")
        clauses.append(clause)
        return self.conn.execute(
            f'SELECT count(*) {self._from()} WHERE {" AND ".join(clauses)}',
            [*args, *more]).fetchone()[0]

    def _beyond(self, row: Row, op: str) -> tuple[str, list]:
        """The rows after (`op` ">") or before ("<") `row` in (sort key, id) order, said so that
        the sort key's index reads from `row` on: SQLite reads the whole index for a
        comparison of the pair (sk, id) > (?, ?) (a page of a 20,000-contact list 13 ms
        against 0.5)."""
        sk = self._sort_expr()
        return (f"{sk} {op}= ? AND ({sk} {op} ? OR t.id {op} ?)",
                [row.key, row.key, row.id])

    def count(self) -> int:
        clauses, args = self._where()
        return self.conn.execute(f'SELECT count(*) FROM "{self.kind.table}" t '
                                 f'WHERE {" AND ".join(clauses)}', args).fetchone()[0]

    def _sort_needs_join(self) -> bool:
        fld = self.fields[self.sort_column]
        return fld is None or fld.type == K.REF

    def _row(self, r) -> Row:
        rid, cl, owner, scope, key, *values = r
        return Row(rid, cl % 2 == 0, owner, scope, tuple(values), key)

    # ------------------------------------------------------------------ display
    def display(self, column: int, value) -> str:
        """A stored value as the list shows it."""
        if value is None:
            return ""
        fld = self.fields[column]
        name = self.spec.columns[column]
        if fld is None:
            if name in ("last_verified", "overdue"):
                return str(value)[:10]
            return display_phone(value) if name != "call_sign" else str(value)
        if name == "value" and self.kind.name == "method":
            return display_phone(value)
        if fld.type == K.ENUM:
            return str(value).replace("_", " ")
        if isinstance(value, float):
            return display_number(value)
        if fld.type == K.DATETIME:
            return str(value).replace("T", " ")
        if fld.type == K.REFS:
            return str(value)
        return str(value)


def choices_for(conn: sqlite3.Connection, kind: str, name: str, limit: int = 20_000
                ) -> list[tuple[str, str]]:
    """(label, value) pairs a filter on field `name` of `kind` offers."""
    fld = K.KINDS[kind].field_map[name]
    if fld.type == K.ENUM:
        return [*FILTER_GROUPS.get((kind, name), ()),
                *((c.replace("_", " "), c) for c in fld.choices)]
    if fld.type == K.REF:
        target = K.KINDS[fld.ref]
        if target.name == "agency":
            return [(f"{code} — {nm}", rid) for rid, code, nm in conn.execute(
                "SELECT id, code, name FROM agency WHERE _cl % 2 = 1 "
                f"ORDER BY code LIMIT {int(limit)}")]
        return [(str(title or rid), rid) for rid, title in conn.execute(
            f'SELECT id, "{target.title_field}" FROM "{target.table}" WHERE _cl % 2 = 1 '
            f'ORDER BY "{target.title_field}" COLLATE NOCASE LIMIT {int(limit)}')]
    raise KeyError(f"no filter for {kind}.{name}")
