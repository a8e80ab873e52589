# SPDX-License-Identifier: GPL-3.0-or-later
"""What the FEMA ICS forms 205, 205A, 213 RR and 214 say for an operation (interop layer).

`build_forms(store, form, operation)` reads an operation and what belongs to it (comms plan rows
and their channels, members and their people's contact methods, resource requests, activity log)
and returns the forms' content: header blocks, numbered blocks with the FEMA titles and tables.
It is plain data with no notion of pages; fieldcoord.ui.paper lays it out as a PDF or on a
printer, paginating the tables.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..core import ids, workflow
from ..core import kinds as K
from ..core.errors import NotFound, ValidationError
from ..core.format import display_number, display_phone, local_time

FORMS = {"ics205": "ICS 205", "ics205a": "ICS 205A", "ics213rr": "ICS 213 RR",
         "ics214": "ICS 214"}

METHOD_LABELS = {"phone": "Phone", "mobile": "Cell", "satellite_phone": "Sat phone",
                 "email": "Email", "call_sign": "Radio", "pager": "Pager", "fax": "Fax",
                 "other": "Other"}
MODE_LETTERS = {"analog": "A", "digital": "D", "mixed": "M"}


# ---------------------------------------------------------------------------- content model
@dataclass
class Entry:
    """A labelled blank of a block ("Date From: ____"); with `choices`, a row of check boxes."""
    label: str
    value: str = ""
    choices: tuple[str, ...] = ()


@dataclass
class Block:
    """A bordered, numbered box of the form ("1. Incident Name: ...").

    `value` follows the title on its line; `entries` are laid out below it in `columns`
    columns; `text` is a paragraph below the title, given at least `lines` lines of room.
    `width` is the block's share of its row.
    """
    number: str
    title: str
    value: str = ""
    entries: list[Entry] = field(default_factory=list)
    columns: int = 2
    text: str = ""
    lines: int = 0
    width: float = 1.0

    @property
    def heading(self) -> str:
        return f"{self.number}. {self.title}:" if self.number else f"{self.title}:"


@dataclass
class Row:
    """Blocks side by side; `band` puts a section name (REQUESTOR, LOGISTICS...) on the left.
    A `grow` row takes the room left at the end of the form's last page."""
    blocks: list[Block]
    band: str = ""
    grow: bool = False


@dataclass
class Column:
    label: str
    width: float                  # share of the table's width
    center: bool = False


@dataclass
class Table:
    """A numbered block holding a grid; it continues over pages with its heading repeated."""
    number: str
    title: str
    columns: list[Column]
    rows: list[list[str]]
    min_rows: int = 0             # blank rows drawn when the data leaves room, as on paper
    band: str = ""

    @property
    def heading(self) -> str:
        return f"{self.number}. {self.title}:" if self.number else f"{self.title}:"


Item = Row | Table


@dataclass
class Form:
    """One filled form; the printer repeats `header` and `footer` on every page of it."""
    form: str                     # ics205 ...
    code: str                     # ICS 205 ...
    title: str                    # INCIDENT RADIO COMMUNICATIONS PLAN
    header: list[Row]
    body: list[Item]
    footer: list[Row] = field(default_factory=list)
    footer_note: str = ""         # printed beside "ICS 205, Page N of M"
    rows: int = 0                 # records listed (comms rows, contacts, requests, log entries)
    incident: str = ""            # the operation's name

    def texts(self) -> list[str]:
        """Every title and value on the form, in reading order (for checks and previews)."""
        out = [f"{self.title} ({self.code})"]
        for item in [*self.header, *self.body, *self.footer]:
            if isinstance(item, Table):
                out.append(item.heading)
                out += [c.label for c in item.columns]
                out += [cell for row in item.rows for cell in row if cell]
                continue
            for b in item.blocks:
                out += [b.heading] + [t for t in (b.value, b.text) if t]
                for e in b.entries:
                    out += [e.label] + ([e.value] if e.value else []) + list(e.choices)
        return out


@dataclass
class Options:
    """What the user may fill in before printing (all optional)."""
    prepared_by: str = ""
    position: str = ""            # prepared by: position/title (ICS 205A, 214)
    prepared_at: dt.datetime | None = None
    period_from: str = ""         # operational period, ISO date and time
    period_to: str = ""
    special_instructions: str = ""
    request: str = ""             # ICS 213 RR: print only this request (id or number)


# ---------------------------------------------------------------------------- helpers
def _split(value: str | None) -> tuple[str, str]:
    """('2026-11-23', '05:40') from a stored date-time; blanks when absent."""
    if not value:
        return "", ""
    text = str(value).strip().replace(" ", "T", 1)
    date, _, time = text.partition("T")
    return date, time[:5]


def _when(value: str | None) -> str:
    date, time = _split(value)
    return f"{date} {time}".strip()


def _label(value: str | None) -> str:
    return (value or "").replace("_", " ")


def _freq(value) -> str:
    return display_number(value) if value not in (None, "") else ""


class _Context:
    """Reads the records a form needs, remembering agencies and people already read."""

    def __init__(self, store, operation, options: Options):
        self.store = store
        self.op = operation
        self.options = options
        self._agencies: dict[str, object] = {}
        self._contacts: dict[str, list] = {}

    def agency(self, rid: str | None):
        if not rid:
            return None
        if rid not in self._agencies:
            try:
                self._agencies[rid] = self.store.get(rid, "agency")
            except NotFound:
                self._agencies[rid] = None
        return self._agencies[rid]

    def agency_text(self, rid: str | None, code_only: bool = False) -> str:
        a = self.agency(rid)
        if a is None:
            return ""
        code, name = a.values.get("code") or "", a.values.get("name") or ""
        return code if code_only else (f"{name} ({code})" if code else name)

    def contacts_of(self, agency_id: str) -> list:
        if agency_id not in self._contacts:
            self._contacts[agency_id] = self.store.children("contact", "agency", agency_id)
        return self._contacts[agency_id]

    def methods(self, column: str, rid: str) -> list:
        found = [m for m in self.store.children("method", column, rid)
                 if column == "contact" or not m.values.get("contact")]
        return sorted(found, key=lambda m: (m.values.get("priority") is None,
                                            m.values.get("priority") or 0, m.id))

    @staticmethod
    def method_text(m) -> str:
        v = m.values
        value = display_phone(v["value"]) if v["kind"] in K.PHONE_KINDS else v["value"]
        label = v.get("label") or METHOD_LABELS.get(v["kind"], _label(v["kind"]).capitalize())
        duty = f" ({_label(v['duty'])})" if v.get("duty") else ""
        return f"{label}: {value}{duty}"

    # ------------------------------------------------------------ common blocks
    def period(self) -> tuple[str, str, str, str]:
        o = self.options
        start = o.period_from or self.op.values.get("start")
        end = o.period_to or self.op.values.get("end")
        return (*_split(start), *_split(end))

    def period_entries(self) -> list[Entry]:
        d_from, t_from, d_to, t_to = self.period()
        return [Entry("Date From", d_from), Entry("Date To", d_to),
                Entry("Time From", t_from), Entry("Time To", t_to)]

    def prepared_at(self) -> str:
        moment = self.options.prepared_at or dt.datetime.now()
        return moment.strftime("%Y-%m-%d %H:%M")

    def incident(self, width: float = 1.0) -> Block:
        return Block("1", "Incident Name", self.op.values.get("name") or "", width=width)

    def home_agency(self) -> str:
        rid = self.store.agency_id(self.store.home)
        return self.agency_text(rid) if rid else self.store.home


# ---------------------------------------------------------------------------- forms
def _ics205(ctx: _Context) -> list[Form]:
    rows = []
    comms = ctx.store.children("comms", "operation", ctx.op.id)
    comms.sort(key=lambda r: ((r.values.get("zone") or "").lower(),
                              r.values.get("number") is None, r.values.get("number") or 0,
                              (r.values.get("assignment") or "").lower(), r.id))
    for row in comms:
        v = row.values
        try:
            ch = ctx.store.get(v["channel"], "channel").values
        except NotFound:
            ch = {}
        name = ch.get("name") or ""
        if ch.get("system") and ch.get("rx_freq") is None and ch.get("tx_freq") is None:
            name = f"{name} / {ch['system']}"          # a trunked talkgroup
        remarks = [t for t in (v.get("remarks"), ch.get("remarks")) if t]
        if ch.get("encryption"):
            remarks.append(f"Encryption: {ch['encryption']}")
        rows.append([v.get("zone") or "", "" if v.get("number") is None else str(v["number"]),
                     _label(ch.get("function")).capitalize(), name, v.get("assignment") or "",
                     _freq(ch.get("rx_freq")), ch.get("rx_tone") or "", _freq(ch.get("tx_freq")),
                     ch.get("tx_tone") or "", MODE_LETTERS.get(ch.get("mode") or "", ""),
                     "; ".join(remarks)])
    d_from, t_from, d_to, t_to = ctx.period()
    header = [Row([ctx.incident(1.3), Block("2", "Date/Time Prepared", width=0.9, entries=[
        Entry("Date", ctx.prepared_at()[:10]), Entry("Time", ctx.prepared_at()[11:])],
        columns=1), Block("3", "Operational Period", width=1.6, entries=ctx.period_entries())])]
    table = Table("4", "Basic Radio Channel Use", [
        Column("Zone Grp.", 0.8, True), Column("Ch #", 0.45, True), Column("Function", 0.95),
        Column("Channel Name/Trunked Radio System Talkgroup", 1.6), Column("Assignment", 1.6),
        Column("RX Freq N or W", 0.85, True), Column("RX Tone/NAC", 0.65, True),
        Column("TX Freq N or W", 0.85, True), Column("TX Tone/NAC", 0.65, True),
        Column("Mode (A, D, or M)", 0.55, True), Column("Remarks", 1.35)], rows, min_rows=12)
    special = Block("5", "Special Instructions", text=ctx.options.special_instructions, lines=3)
    body: list[Item] = [table, Row([special], grow=True)]
    footer = [Row([Block("6", "Prepared by (Communications Unit Leader)", entries=[
        Entry("Name", ctx.options.prepared_by), Entry("Signature")])])]
    return [Form("ics205", "ICS 205", "INCIDENT RADIO COMMUNICATIONS PLAN", header, body,
                 footer, f"IAP Page ____   Date/Time: {ctx.prepared_at()}", rows=len(rows))]


def _people(ctx: _Context) -> list[tuple[str, str, str, object | None]]:
    """(name, position, agency id, contact or None) for the people assigned to the operation."""
    out = []
    members = ctx.store.children("member", "operation", ctx.op.id)
    for m in members:
        v = m.values
        names = [n.strip() for n in (v.get("assigned_people") or "").replace("\n", ";").split(";")
                 if n.strip()]
        by_name = {c.values["name"].casefold(): c for c in ctx.contacts_of(v["agency"])}
        for name in names:
            contact = by_name.get(name.casefold())
            position = (contact.values.get("ics_position") if contact else None) or \
                v.get("role") or ""
            out.append((name, position, v["agency"], contact))
        if not names:
            out.append(("", v.get("role") or "", v["agency"], None))
    return out


def _ics205a(ctx: _Context) -> list[Form]:
    rows = []
    for name, position, agency_id, contact in _people(ctx):
        code = ctx.agency_text(agency_id, code_only=True)
        if not name:            # a member agency with nobody named yet: its duty lines
            name = ctx.agency_text(agency_id)
            methods = [m for m in ctx.methods("agency", agency_id)
                       if m.values.get("duty") == "24/7"] or ctx.methods("agency", agency_id)
        else:
            name = f"{name} ({code})" if code else name
            methods = ctx.methods("contact", contact.id) if contact else []
        rows.append([position, name, "; ".join(ctx.method_text(m) for m in methods)])
    rows.sort(key=lambda r: (r[1].casefold(), r[0].casefold()))
    header = [Row([ctx.incident(1.0), Block("2", "Operational Period", width=1.2,
                                            entries=ctx.period_entries())])]
    table = Table("3", "Basic Local Communications Information", [
        Column("Incident Assigned Position", 1.5), Column("Name (Alphabetized)", 1.4),
        Column("Method(s) of Contact (phone, pager, cell, etc.)", 2.6)], rows, min_rows=16)
    footer = [Row([Block("4", "Prepared by", entries=[
        Entry("Name", ctx.options.prepared_by), Entry("Position/Title", ctx.options.position),
        Entry("Signature")], columns=3)])]
    return [Form("ics205a", "ICS 205A", "COMMUNICATIONS LIST", header, [table], footer,
                 f"IAP Page ____   Date/Time: {ctx.prepared_at()}", rows=len(rows))]


def _supplier_lines(ctx: _Context, agency_id: str | None) -> str:
    if not agency_id:
        return ""
    lines = ctx.methods("agency", agency_id)
    lines.sort(key=lambda m: m.values.get("duty") != "24/7")
    picked, kinds = [], set()
    for m in lines:
        if m.values["kind"] not in kinds:
            kinds.add(m.values["kind"])
            picked.append(ctx.method_text(m))
    return "; ".join(picked[:3])


def _request_form(ctx: _Context, req) -> Form:
    v = req.values
    priority = (v.get("priority") or "").capitalize()
    needed_date, needed_time = _split(v.get("needed_by"))
    committed = []
    poc = ""
    for rid in v.get("committed_resources") or []:
        try:
            res = ctx.store.get(rid, "resource")
        except NotFound:
            continue
        committed.append(f"{res.values['name']} ({ctx.agency_text(res.values['agency'], True)})")
        if not poc and res.values.get("contact"):
            try:
                poc = ctx.store.get(res.values["contact"], "contact").values["name"]
            except NotFound:
                pass
    # the blocks of times and names come from the request's history: each step as signed
    steps = ctx.store.request_history(req.id)
    requested_at = steps[0].at if steps else req.created_at
    approval = next((st for st in steps if st.status == workflow.COMMITTED), None)
    notes = [f"Status: {workflow.label(v.get('status')).capitalize()}."]
    if committed:
        notes.append("Committed: " + ", ".join(committed) + ".")
    if v.get("agreement"):
        try:
            notes.append(f"Under: {ctx.store.get(v['agreement'], 'agreement').title}.")
        except NotFound:
            pass
    moves = [f"{workflow.label(st.status).capitalize()} {local_time(st.at)} by {st.who}"
             for st in steps if st.before is not None]
    if moves:
        notes.append("Steps: " + "; ".join(moves) + ".")
    if v.get("notes"):
        notes.append(v["notes"])
    supplier = ctx.agency_text(v.get("supplying_agency"))
    header = [Row([ctx.incident(1.6),
                   Block("2", "Date/Time", local_time(requested_at), width=1.0),
                   Block("3", "Resource Request Number", v.get("number") or "", width=1.0)])]
    order = Table("4", "Order", [
        Column("Qty", 0.5, True), Column("Kind", 0.8), Column("Type", 1.3),
        Column("Detailed Item Description (vital characteristics, brand, specs, experience, "
               "size, etc.)", 2.4),
        Column("Arrival Date and Time: Requested", 0.9, True),
        Column("Arrival Date and Time: Estimated", 0.9, True), Column("Cost", 0.5, True)],
        [["" if v.get("quantity") is None else f"{v['quantity']:,}", v.get("kind") or "",
          v.get("type") or "", v.get("description") or "",
          f"{needed_date} {needed_time}".strip(), "", ""]], min_rows=10, band="REQUESTOR")
    body: list[Item] = [
        order,
        Row([Block("5", "Requested Delivery/Reporting Location",
                   v.get("delivery_location") or "")], band="REQUESTOR"),
        Row([Block("6", "Suitable Substitutes and/or Suggested Sources",
                   v.get("substitutes") or "")], band="REQUESTOR"),
        Row([Block("7", "Requested by Name/Position",
                   ctx.agency_text(v.get("requesting_agency")), width=1.4),
             Block("8", "Priority", entries=[Entry("", priority,
                                                    ("Urgent", "Routine", "Low"))], width=1.0),
             Block("9", "Section Chief Approval", width=1.0)], band="REQUESTOR"),
        Row([Block("10", "Logistics Order Number", width=1.0),
             Block("11", "Supplier Phone/Fax/Email", _supplier_lines(
                 ctx, v.get("supplying_agency")), width=2.0)], band="LOGISTICS"),
        Row([Block("12", "Name of Supplier/POC", f"{supplier} / {poc}" if poc else supplier)],
            band="LOGISTICS"),
        Row([Block("13", "Notes", text=" ".join(notes), lines=4)], band="LOGISTICS", grow=True),
        Row([Block("14", "Approval Signature of Auth Logistics Rep", width=2.0),
             Block("15", "Date/Time", local_time(approval.at) if approval else "", width=1.0)],
            band="LOGISTICS"),
        Row([Block("16", "Order placed by (check box)", entries=[
            Entry("", "", ("SPUL", "PROC", "OTHER"))])], band="LOGISTICS"),
        Row([Block("17", "Reply/Comments from Finance", lines=2)], band="FINANCE"),
        Row([Block("18", "Finance Section Signature", width=2.0),
             Block("19", "Date/Time", width=1.0)], band="FINANCE"),
    ]
    return Form("ics213rr", "ICS 213 RR", "RESOURCE REQUEST MESSAGE", header, body, [], "",
                rows=1)


def _ics213rr(ctx: _Context) -> list[Form]:
    want = ctx.options.request.strip()
    requests = ctx.store.children("request", "operation", ctx.op.id)
    requests.sort(key=lambda r: ((r.values.get("number") or "").casefold(), r.created_at, r.id))
    if want:
        requests = [r for r in requests
                    if r.id == want.lower() or (r.values.get("number") or "") == want]
        if not requests:
            raise ValidationError(f"operation '{ctx.op.title}' has no resource request '{want}'")
    if not requests:
        raise ValidationError(f"operation '{ctx.op.title}' has no resource requests to print "
                              "(add one with: fieldcoord add request ...)")
    return [_request_form(ctx, r) for r in requests]


def _ics214(ctx: _Context) -> list[Form]:
    d_from, t_from, d_to, t_to = ctx.period()
    low = f"{d_from}T{t_from or '00:00'}" if (ctx.options.period_from and d_from) else ""
    high = f"{d_to}T{t_to or '23:59'}" if (ctx.options.period_to and d_to) else ""
    entries = []
    for e in ctx.store.children("log", "operation", ctx.op.id):
        when = e.values.get("happened_at") or e.values.get("recorded_at") or ""
        key = when.replace(" ", "T")[:16]
        if (low and key < low) or (high and key > high):
            continue
        author = e.values.get("author") or ""
        text = e.values.get("text") or ""
        entries.append((key, e.id, [_when(when), f"{author}: {text}" if author else text]))
    entries.sort(key=lambda x: (x[0], x[1]))
    lead = ctx.op.values.get("lead_agency")
    people = sorted(_people(ctx), key=lambda p: (p[2] != lead, ctx.agency_text(p[2]).casefold()))
    resources = [[name or ctx.agency_text(agency_id), position, ctx.agency_text(agency_id)]
                 for name, position, agency_id, _contact in people]
    header = [
        Row([ctx.incident(1.0), Block("2", "Operational Period", width=1.2,
                                      entries=ctx.period_entries())]),
        Row([Block("3", "Name", ctx.options.prepared_by, width=1.0),
             Block("4", "ICS Position", ctx.options.position, width=1.0),
             Block("5", "Home Agency (and Unit)", ctx.home_agency(), width=1.2)]),
    ]
    body: list[Item] = [
        Table("6", "Resources Assigned", [Column("Name", 1.2), Column("ICS Position", 1.6),
                                          Column("Home Agency (and Unit)", 1.6)], resources,
              min_rows=8),
        Table("7", "Activity Log", [Column("Date/Time", 0.9, True),
                                    Column("Notable Activities", 4.5)],
              [row for _, _, row in entries], min_rows=12),
    ]
    footer = [Row([Block("8", "Prepared by", entries=[
        Entry("Name", ctx.options.prepared_by), Entry("Position/Title", ctx.options.position),
        Entry("Signature"), Entry("Date/Time", ctx.prepared_at())], columns=4)])]
    return [Form("ics214", "ICS 214", "ACTIVITY LOG", header, body, footer, "",
                 rows=len(entries))]


BUILDERS = {"ics205": _ics205, "ics205a": _ics205a, "ics213rr": _ics213rr, "ics214": _ics214}


# ---------------------------------------------------------------------------- entry points
def check_form(form: str) -> str:
    key = (form or "").strip().lower().replace(" ", "").replace("-", "").replace("_", "")
    if key not in FORMS:
        raise ValidationError(f"unknown ICS form '{form}'; forms are: {', '.join(FORMS)}")
    return key


def find_operation(store, ref: str, requests: bool = False):
    """The live operation named by `ref`: its id, or its name (case-insensitive).

    With `requests`, a resource request's id names its operation too (ICS 213 RR).
    """
    text = (ref or "").strip()
    if not text:
        raise ValidationError("give an operation's id or name")
    if ids.looks_like_id(text):
        try:
            rec = store.get(text)
        except NotFound:
            raise ValidationError(f"no operation with id {text}") from None
        if requests and rec.kind == "request" and rec.values.get("operation"):
            rec = store.get(rec.values["operation"], "operation")
        elif rec.kind != "operation":
            raise ValidationError(f"{text} is a {K.KINDS[rec.kind].label}, not an operation")
        if rec.deleted:
            raise ValidationError(f"operation '{rec.title}' is deleted (fieldcoord restore "
                                  f"{rec.id} brings it back)")
        return rec
    folded = text.casefold()
    found = [op for op in store.list("operation") if (op.title or "").casefold() == folded]
    if not found:
        raise ValidationError(f"no operation named '{text}' (fieldcoord list operation shows "
                              "them)")
    if len(found) > 1:
        raise ValidationError(f"{len(found)} operations are named '{text}'; give the id of "
                              "one: " + ", ".join(op.id for op in found))
    return found[0]


def build_forms(store, form: str, operation: str, options: Options | None = None) -> list[Form]:
    """The filled forms (one, or one per resource request for ICS 213 RR) of an operation.

    `operation` is the operation's id or name; for ICS 213 RR it may also be a request's id,
    which prints that request only. Raises ValidationError for an unknown form or operation.
    """
    key = check_form(form)
    options = options or Options()
    op = find_operation(store, operation, requests=key == "ics213rr")
    text = (operation or "").strip()
    if key == "ics213rr" and not options.request and ids.looks_like_id(text) \
            and text.lower() != op.id:
        options = Options(**{**options.__dict__, "request": text})
    forms = BUILDERS[key](_Context(store, op, options))
    for f in forms:
        f.incident = op.title
    return forms
