# SPDX-License-Identifier: GPL-3.0-or-later
"""The record kinds of the field-coordination domain and their fields (core layer, pure Python)."""
from __future__ import annotations

from dataclasses import dataclass, field

from . import workflow

# Field types understood by core.validate.
TEXT, INT, REAL, DATE, DATETIME, ENUM, REF, REFS, EMAIL, URL, CODE, LAT, LON, PHONE = (
    "text", "int", "real", "date", "datetime", "enum", "ref", "refs", "email", "url",
    "code", "lat", "lon", "phone")

# Columns every record carries besides its own fields.
SYSTEM_FIELDS = ("id", "owner", "scope", "created_at", "updated_at", "device")


@dataclass(frozen=True)
class Field:
    name: str
    type: str = TEXT
    required: bool = False
    choices: tuple[str, ...] = ()
    ref: str | None = None        # kind referenced by REF / REFS fields
    default: object = None
    label: str = ""
    immutable: bool = False       # may be set on create only

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Part:
    """Records of kind `kind` that point at the kind declaring the part through `field`.

    `cascade`: they belong to it, deleted and restored along with it. `add`: the words of the
    menu entry that adds one from the record's details ("" = not offered there). `heading`: the
    heading of their list among the record's related records ("" = not listed there).
    """
    kind: str
    field: str
    cascade: bool = False
    add: str = ""
    heading: str = ""


@dataclass(frozen=True)
class Page:
    """The list a kind has in the app: its page (one page may hold several kinds, in tabs),
    the sidebar group the page sits in, the columns shown and the filters offered."""
    name: str
    title: str
    group: str
    columns: tuple[str, ...]
    filters: tuple[str, ...] = ()
    tab: str = ""                 # the tab's label when the page holds several kinds
    default_sort: str = ""        # column sorted on at first (the title field if empty)
    descending: bool = False


@dataclass(frozen=True)
class Search:
    """How a kind's records appear in the full-text search.

    `subtitle` and `body` name fields in order. A reference to an agency gives its name and
    code; `field.name` or `field.code` one of them; a tuple of number fields, their distinct
    values joined by " / ". `lines`: the record's own contact methods are part of its document.
    `number`: the field holding a line's number or address, shown formatted and searched by its
    digits when the line is a phone. `within`: a record with this reference set is searched as
    part of the record it names, not on its own.
    """
    group: str
    subtitle: tuple[str | tuple[str, ...], ...] = ()
    body: tuple[str, ...] = ()
    lines: bool = False
    number: str = ""
    within: str = ""
    boost: float = 1.0            # ranking weight: a person or agency before the line that matched
    title: tuple[str, ...] = ()   # fields of the result's title, joined (default: the title field)


@dataclass(frozen=True)
class Kind:
    name: str                     # CLI name: agency, contact, method, ...
    table: str                    # SQLite table
    fields: tuple[Field, ...]
    title_field: str              # field shown as the record's title
    label: str = ""
    parent: str | None = None     # field naming the record this one belongs to (scope is inherited)
    default_scope: str = "all"
    aliases: tuple[str, ...] = ()
    parts: tuple[Part, ...] = ()  # records of other kinds pointing here (see Part)
    list_columns: tuple[str, ...] = ()     # `fieldcoord list` columns after the title
    page: Page | None = None      # None: shown and edited within its parent's details
    search: Search | None = None  # None: not in the full-text search
    in_order: tuple[tuple[str, str], ...] = ()  # (first, second) date fields that must not swap
    imports: tuple[str, ...] = ()  # file formats that import records of this kind
    sorted_index: bool = False    # an index orders the table by its title (large lists)
    deferrable: tuple[str, ...] = ()  # reference fields whose index a large pull builds last
    local_columns: tuple[tuple[str, str], ...] = ()  # (column, SQL type) never replicated
    # indexes of some rows only, for the queries that look for few of many:
    # (name suffix, indexed columns, WHERE condition), in SQL
    partial_indexes: tuple[tuple[str, str, str], ...] = ()
    field_map: dict[str, Field] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.field_map.update({f.name: f for f in self.fields})

    @property
    def plural(self) -> str:
        lab = self.label or self.name
        return lab[:-1] + "ies" if lab.endswith("y") else lab + "s"


AGENCY_LEVELS = ("federal", "state", "local", "tribal", "ngo", "private", "community")
DISCIPLINES = ("fire", "law_enforcement", "ems", "emergency_management", "public_health",
               "public_works", "utilities", "hospital", "military", "volunteer", "other")
METHOD_KINDS = ("phone", "mobile", "satellite_phone", "email", "call_sign", "pager", "fax", "other")
PHONE_KINDS = ("phone", "mobile", "satellite_phone", "pager", "fax")
DUTY_WINDOWS = ("24/7", "office_hours", "after_hours")
CHECK_FLAGS = ("wrong_number", "no_answer")      # what the last check call found
TYPE_LEVELS = ("Type 1", "Type 2", "Type 3", "Type 4", "Single Type")
RESOURCE_STATUSES = ("available", "assigned", "out_of_service", "demobilized")
REQUEST_PRIORITIES = ("urgent", "routine", "low")
# the workflow's states (core.workflow), then two of earlier versions that stored data may hold
REQUEST_STATUSES = workflow.ALL
AGREEMENT_KINDS = ("mutual_aid", "mou", "moa", "interagency_protocol", "data_sharing")
OPERATION_KINDS = ("task_force", "joint_operation", "incident", "planned_event")
OPERATION_STATUSES = ("planned", "active", "demobilizing", "closed")
ACTIVATION_STATUSES = ("alerted", "standing_by", "active", "deactivated", "unable")
ROLE_FUNCTIONS = ("lead", "support")
CHANNEL_FUNCTIONS = ("calling", "command", "tactical", "ground_to_air", "air_to_air", "support",
                     "dispatch")
CHANNEL_MODES = ("analog", "digital", "mixed")
EVENT_KINDS = ("course", "tabletop", "functional", "full_scale", "drill", "meeting")
ACTION_STATUSES = ("open", "done")

FACILITY_KINDS = ("shelter", "staging_area", "eoc", "hospital", "command_post", "base",
                  "point_of_distribution", "other")
FACILITY_STATUSES = ("open", "standby", "full", "closed")

F = Field
DIRECTORY, COORDINATION, FIELD = "Directory", "Coordination", "Field"

KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("agency", "agency", (
        F("name", required=True),
        F("code", CODE, required=True, immutable=True),
        F("level", ENUM, choices=AGENCY_LEVELS),
        F("discipline", ENUM, choices=DISCIPLINES),
        F("jurisdiction"),
        F("address"),
        F("lat", LAT, label="Latitude"),
        F("lon", LON, label="Longitude"),
        F("website", URL),
        F("parent", REF, ref="agency", label="Parent agency"),
        F("safecom_notes", label="SAFECOM maturity notes"),
        F("notes"),
    ), title_field="name", label="agency", aliases=("agencies",),
        parts=(Part("contact", "agency", add="contact", heading="Contacts"),
               Part("method", "agency", add="duty line or number"),
               Part("resource", "agency", add="resource", heading="Resources"),
               Part("facility", "agency", add="facility", heading="Facilities"),
               Part("channel", "agency", add="radio channel", heading="Radio channels"),
               Part("party", "agency", heading="Agreements (as party)"),
               Part("role", "agency", heading="Roles in plans"),
               Part("member", "agency", heading="Operations (as member)"),
               Part("agency", "parent", heading="Member agencies")),
        list_columns=("code", "level", "discipline", "jurisdiction"),
        page=Page("agencies", "Agencies", DIRECTORY,
                  ("name", "code", "level", "discipline", "jurisdiction", "duty_line",
                   "last_verified"),
                  ("level", "discipline", "verified", "scope")),
        search=Search("Agencies", ("code", "discipline", "jurisdiction"),
                      ("code", "level", "discipline", "jurisdiction", "address", "website",
                       "parent.name"), lines=True, boost=1.3),
        imports=("csv", "geojson"), sorted_index=True,
        # search puts an agency whose code begins with what was typed first
        partial_indexes=(("by_code", '"code"', "_cl % 2 = 1"),)),
    Kind("contact", "contact", (
        F("name", required=True),
        F("agency", REF, ref="agency"),
        F("title"),
        F("ics_position", label="ICS position"),
        F("languages"),
        F("notes"),
    ), title_field="name", label="contact", parent="agency", aliases=("contacts", "person"),
        parts=(Part("method", "contact", cascade=True, add="number or address"),
               Part("resource", "contact", heading="Resources (point of contact)"),
               Part("facility", "contact", heading="Facilities (point of contact)")),
        list_columns=("agency", "title", "ics_position"),
        page=Page("contacts", "Contacts", DIRECTORY,
                  ("name", "agency", "title", "best_number", "call_sign", "ics_position",
                   "last_verified"),
                  ("agency", "verified", "scope")),
        search=Search("Contacts", ("title", "agency"),
                      ("title", "ics_position", "agency", "languages"), lines=True,
                      boost=1.2),
        imports=("vcard", "csv"), sorted_index=True, deferrable=("agency",)),
    Kind("method", "contact_method", (
        F("contact", REF, ref="contact"),
        F("agency", REF, ref="agency"),
        F("kind", ENUM, required=True, choices=METHOD_KINDS),
        F("value", required=True),
        F("label"),
        F("duty", ENUM, choices=DUTY_WINDOWS, label="Duty window"),
        F("priority", INT),
        F("verified_on", DATE, label="Last verified"),
        F("verified_by"),
        F("notes"),
        F("check_flag", ENUM, choices=CHECK_FLAGS, label="Last check found"),
        F("checked_on", DATE, label="Last checked"),
    ), title_field="value", label="contact method", parent="contact",
        aliases=("methods", "contact_method", "line"),
        list_columns=("kind", "value", "contact", "agency", "duty"),
        # the 24/7 lines (alerts, freshness, the call list) and the lines a call flagged
        partial_indexes=(("duty_247", '"contact", "agency"', "\"duty\" = '24/7'"),
                         ("flagged", '"check_flag"', '"check_flag" IS NOT NULL')),
        search=Search("Duty lines", ("kind", "label", "agency", "duty"),
                      ("kind", "label", "duty", "agency"), number="value", within="contact",
                      boost=0.6),
        deferrable=("agency",)),
    Kind("resource", "resource", (
        F("name", required=True),
        F("agency", REF, ref="agency", required=True),
        F("type_id", label="NIMS type (RTLT id)"),
        F("type_name", label="NIMS type name"),
        F("type_category", label="NIMS category"),
        F("type_kind", label="NIMS kind"),
        F("type_level", ENUM, choices=TYPE_LEVELS),
        F("quantity", INT, default=1),
        F("status", ENUM, choices=RESOURCE_STATUSES, default="available"),
        F("location"),
        F("lat", LAT, label="Latitude"),
        F("lon", LON, label="Longitude"),
        F("contact", REF, ref="contact", label="Point of contact"),
        F("notes"),
    ), title_field="name", label="resource", parent="agency", aliases=("resources",),
        list_columns=("agency", "type_name", "type_level", "quantity", "status"),
        page=Page("resources", "Resources", COORDINATION,
                  ("name", "agency", "type_name", "type_level", "quantity", "status",
                   "location"), ("agency", "status", "type_level", "scope")),
        search=Search("Resources", ("type_name", "type_level", "agency", "status"),
                      ("agency", "type_name", "type_category", "type_kind", "type_level",
                       "type_id", "location", "status")),
        imports=("csv", "geojson"), sorted_index=True),
    Kind("facility", "facility", (
        F("name", required=True),
        F("kind", ENUM, choices=FACILITY_KINDS, required=True, default="other",
          label="Facility kind"),
        F("agency", REF, ref="agency", required=True, label="Operated by"),
        F("status", ENUM, choices=FACILITY_STATUSES, default="open"),
        F("capacity", INT, label="Capacity (people or beds)"),
        F("occupancy", INT, label="Occupied"),
        F("address"),
        F("lat", LAT, label="Latitude"),
        F("lon", LON, label="Longitude"),
        F("phone", PHONE, label="Main line"),
        F("contact", REF, ref="contact", label="Point of contact"),
        F("channel", REF, ref="channel", label="Radio channel"),
        F("notes"),
    ), title_field="name", label="facility", parent="agency",
        aliases=("facilities", "shelter", "shelters"),
        list_columns=("kind", "agency", "status", "capacity", "occupancy"),
        page=Page("facilities", "Facilities", COORDINATION,
                  ("name", "kind", "agency", "status", "capacity", "occupancy", "address"),
                  ("kind", "status", "agency", "scope")),
        search=Search("Facilities", ("kind", "agency", "status", "address"),
                      ("kind", "agency", "status", "address", "phone", "notes")),
        imports=("csv", "geojson"), sorted_index=True),
    Kind("request", "resource_request", (
        F("number", label="Request number"),
        F("requesting_agency", REF, ref="agency", required=True),
        F("operation", REF, ref="operation"),
        F("quantity", INT, default=1),
        F("kind", label="Resource kind"),
        F("type", label="Resource type"),
        F("description", required=True),
        F("needed_by", DATETIME),
        F("delivery_location"),
        F("priority", ENUM, choices=REQUEST_PRIORITIES, default="routine"),
        F("substitutes", label="Suitable substitutes"),
        F("status", ENUM, choices=REQUEST_STATUSES, default="requested"),
        F("supplying_agency", REF, ref="agency"),
        F("committed_resources", REFS, ref="resource"),
        F("agreement", REF, ref="agreement", label="Under agreement"),
        F("notes"),
    ), title_field="description", label="resource request", parent="operation",
        default_scope="all+edit", aliases=("requests", "resource_request"),
        list_columns=("number", "requesting_agency", "priority", "status", "supplying_agency"),
        page=Page("requests", "Requests", COORDINATION,
                  ("number", "description", "requesting_agency", "priority", "status",
                   "supplying_agency", "needed_by"),
                  ("status", "priority", "requesting_agency", "scope"), default_sort="number"),
        search=Search("Resource requests", ("number", "status", "priority", "requesting_agency"),
                      ("number", "kind", "type", "requesting_agency", "supplying_agency",
                       "delivery_location", "status", "priority"),
                      title=("number", "description")),
        imports=("csv",)),
    Kind("agreement", "agreement", (
        F("title", required=True),
        F("kind", ENUM, choices=AGREEMENT_KINDS, default="mutual_aid"),
        F("terms", label="Scope and terms"),
        F("reimbursement"),
        F("activation_procedure"),
        F("effective_date", DATE),
        F("review_date", DATE),
        F("expiry_date", DATE),
        F("document", label="Document reference"),
        F("notes"),
    ), title_field="title", label="agreement", aliases=("agreements", "mou"),
        parts=(Part("party", "agreement", cascade=True, add="party", heading="Parties"),
               Part("request", "agreement", heading="Resource requests under it")),
        list_columns=("kind", "effective_date", "expiry_date"),
        page=Page("agreements", "Agreements", COORDINATION,
                  ("title", "kind", "effective_date", "review_date", "expiry_date"),
                  ("kind", "scope")),
        search=Search("Agreements", ("kind", "effective_date", "expiry_date"),
                      ("kind", "document", "terms", "reimbursement")),
        in_order=(("effective_date", "expiry_date"), ("effective_date", "review_date")),
        imports=("csv",)),
    Kind("party", "agreement_party", (
        F("agreement", REF, ref="agreement", required=True),
        F("agency", REF, ref="agency", required=True),
        F("signatory"),
        F("signed_on", DATE),
    ), title_field="agency", label="agreement party", parent="agreement", aliases=("parties",),
        list_columns=("agreement", "signatory")),
    Kind("operation", "operation", (
        F("name", required=True),
        F("kind", ENUM, choices=OPERATION_KINDS, default="incident"),
        F("purpose"),
        F("lead_agency", REF, ref="agency"),
        F("start", DATETIME),
        F("end", DATETIME),
        F("status", ENUM, choices=OPERATION_STATUSES, default="active"),
    ), title_field="name", label="operation", default_scope="all+edit",
        aliases=("operations", "task_force", "incident"),
        parts=(Part("member", "operation", cascade=True, add="member agency",
                    heading="Member agencies"),
               Part("comms", "operation", cascade=True, add="comms plan row",
                    heading="Comms plan"),
               Part("request", "operation", add="resource request", heading="Resource requests"),
               Part("log", "operation", add="log entry", heading="Activity log"),
               Part("action", "operation", cascade=True, add="after-action item",
                    heading="After-action items")),
        list_columns=("kind", "lead_agency", "status", "start"),
        page=Page("operations", "Operations", COORDINATION,
                  ("name", "kind", "lead_agency", "status", "start", "end"),
                  ("status", "kind", "lead_agency", "scope")),
        search=Search("Operations", ("kind", "status", "lead_agency", "start"),
                      ("kind", "status", "lead_agency", "purpose")),
        in_order=(("start", "end"),), imports=("csv",)),
    Kind("member", "operation_member", (
        F("operation", REF, ref="operation", required=True),
        F("agency", REF, ref="agency", required=True),
        F("role"),
        F("activation_status", ENUM, choices=ACTIVATION_STATUSES, default="alerted"),
        F("assigned_people"),
    ), title_field="agency", label="operation member", parent="operation", aliases=("members",),
        list_columns=("operation", "role", "activation_status")),
    Kind("plan", "plan", (
        F("name", required=True),
        F("hazard", label="Hazard or scenario"),
        F("version"),
        F("objectives"),
        F("activation_triggers"),
    ), title_field="name", label="plan", default_scope="all+edit", aliases=("plans",),
        parts=(Part("role", "plan", cascade=True, add="agency role", heading="Roles"),),
        list_columns=("hazard", "version"),
        page=Page("plans", "Plans", COORDINATION, ("name", "hazard", "version"), ("scope",)),
        search=Search("Plans", ("hazard", "version"),
                      ("hazard", "version", "objectives", "activation_triggers")),
        imports=("csv",)),
    Kind("role", "plan_role", (
        F("plan", REF, ref="plan", required=True),
        F("agency", REF, ref="agency", required=True),
        F("function", ENUM, choices=ROLE_FUNCTIONS, required=True),
        F("responsibilities"),
    ), title_field="agency", label="plan role", parent="plan", aliases=("roles", "plan_role"),
        list_columns=("plan", "function")),
    Kind("channel", "channel", (
        F("name", required=True),
        F("function", ENUM, choices=CHANNEL_FUNCTIONS),
        F("rx_freq", REAL, label="RX frequency (MHz)"),
        F("rx_tone", label="RX tone/NAC"),
        F("tx_freq", REAL, label="TX frequency (MHz)"),
        F("tx_tone", label="TX tone/NAC"),
        F("mode", ENUM, choices=CHANNEL_MODES, default="analog"),
        F("system", label="System or talkgroup"),
        F("agency", REF, ref="agency"),
        F("encryption"),
        F("remarks"),
    ), title_field="name", label="channel", parent="agency", aliases=("channels",),
        parts=(Part("comms", "channel", heading="In comms plans"),),
        list_columns=("function", "rx_freq", "tx_freq", "rx_tone", "agency"),
        page=Page("comms", "Comms", FIELD,
                  ("name", "function", "rx_freq", "rx_tone", "tx_freq", "tx_tone", "mode",
                   "system", "agency"), ("function", "mode", "agency", "scope"),
                  tab="Radio channels"),
        search=Search("Radio channels", ("function", ("rx_freq", "tx_freq"), "system",
                                         "agency.code"),
                      ("function", "system", "agency", "remarks", "rx_freq", "tx_freq",
                       "rx_tone", "tx_tone", "mode")),
        imports=("csv", "chirp")),
    Kind("comms", "comms_plan_row", (
        F("operation", REF, ref="operation", required=True),
        F("channel", REF, ref="channel", required=True),
        F("zone", label="Zone/group"),
        F("number", INT, label="Channel number"),
        F("assignment"),
        F("remarks"),
    ), title_field="assignment", label="comms plan row", parent="operation",
        aliases=("comms_row", "commsrow", "comms_plan"),
        list_columns=("operation", "channel", "zone", "number"),
        page=Page("comms", "Comms", FIELD,
                  ("operation", "zone", "number", "channel", "assignment", "remarks"),
                  ("operation",), tab="Comms plans", default_sort="number")),
    Kind("event", "event", (
        F("title", required=True),
        F("kind", ENUM, choices=EVENT_KINDS, required=True),
        F("start", DATETIME, required=True),
        F("end", DATETIME),
        F("host_agency", REF, ref="agency"),
        F("location"),
        F("notes"),
    ), title_field="title", label="event", default_scope="all+edit",
        aliases=("events", "exercise", "training", "meeting"),
        parts=(Part("participant", "event", cascade=True, add="participant",
                    heading="Participants"),
               Part("action", "event", cascade=True, add="after-action item",
                    heading="After-action items")),
        list_columns=("kind", "start", "host_agency"),
        page=Page("calendar", "Calendar", FIELD,
                  ("start", "title", "kind", "host_agency", "location", "end"),
                  ("kind", "host_agency", "scope"), default_sort="start", descending=True),
        search=Search("Training and exercises", ("kind", "start", "host_agency", "location"),
                      ("kind", "host_agency", "location", "notes")),
        in_order=(("start", "end"),), imports=("ical", "csv")),
    Kind("participant", "event_participant", (
        F("event", REF, ref="event", required=True),
        F("agency", REF, ref="agency", required=True),
        F("role"),
    ), title_field="agency", label="event participant", parent="event",
        aliases=("participants",), list_columns=("event", "role")),
    Kind("action", "action_item", (
        F("event", REF, ref="event", label="From exercise or event"),
        F("text", required=True, label="Lesson learned"),
        F("assigned_to"),
        F("due_date", DATE),
        F("status", ENUM, choices=ACTION_STATUSES, default="open"),
        F("operation", REF, ref="operation", label="From operation"),
        F("closing_note", label="How it was closed"),
    ), title_field="text", label="after-action item", parent="event",
        aliases=("actions", "action_item", "improvement", "improvements"),
        list_columns=("event", "operation", "assigned_to", "due_date", "status"),
        page=Page("actions", "After-action", FIELD,
                  ("text", "event", "operation", "assigned_to", "due_date", "overdue",
                   "status"), ("status", "event", "operation", "scope"),
                  default_sort="due_date"),
        search=Search("After-action items", ("status", "due_date", "assigned_to"),
                      ("assigned_to", "status"), boost=0.8)),
    Kind("log", "log_entry", (
        F("operation", REF, ref="operation"),
        F("author"),
        F("text", required=True),
        F("happened_at", DATETIME, label="Happened at"),
        F("recorded_at", DATETIME, label="Recorded at", immutable=True),
    ), title_field="text", label="log entry", parent="operation",
        aliases=("logs", "log_entry", "activity"),
        list_columns=("operation", "author", "happened_at"),
        page=Page("log", "Log", FIELD, ("happened_at", "operation", "author", "text"),
                  ("operation",), default_sort="happened_at", descending=True),
        search=Search("Activity log", ("happened_at", "author"), ("author",), boost=0.8),
        # when this replica first received the entry from another
        local_columns=(("received_at", "TEXT"),)),
)}

KIND_BY_TABLE = {k.table: k for k in KINDS.values()}

# Kinds whose records appear in the full-text search.
SEARCHABLE = tuple(k.name for k in KINDS.values() if k.search)


def cascade(kind: str) -> list[tuple[str, str]]:
    """(kind, field) of the records that belong to a `kind` record: deleted and restored with it."""
    return [(p.kind, p.field) for p in KINDS[kind].parts if p.cascade]


def searched_with(target: str) -> list[tuple[str, str]]:
    """(kind, field) of the references to a `target` record whose words are in the search
    documents of the records holding them: renaming the target makes those documents stale."""
    out = []
    for k in KINDS.values():
        if k.search is None:
            continue
        named = {str(item).split(".")[0] for item in (*k.search.subtitle, *k.search.body)
                 if isinstance(item, str)}
        out += [(k.name, f.name) for f in k.fields
                if f.type == REF and f.ref == target and f.name in named]
    return out


def imported_by(fmt: str) -> tuple[str, ...]:
    """The kinds a file format imports, in the order the kinds are declared."""
    return tuple(k.name for k in KINDS.values() if fmt in k.imports)


def located() -> tuple[str, ...]:
    """The kinds whose records have a place on a map (latitude and longitude fields)."""
    return tuple(k.name for k in KINDS.values()
                 if any(f.type == LAT for f in k.fields) and any(f.type == LON for f in k.fields))


def home_of(kind: str) -> tuple[Page, str, str | None]:
    """Where a record of `kind` is shown: (page, kind listed there, field leading from the
    record to the listed one or None). A kind without a page of its own is shown in the details
    of the record its parent field names."""
    k = KINDS[kind]
    if k.page is not None:
        return k.page, kind, None
    assert k.parent is not None, f"kind {kind} has neither a page nor a parent"
    target = k.field_map[k.parent].ref
    assert target is not None
    page, shown, _ = home_of(target)
    return page, shown, k.parent


def kind_named(name: str) -> Kind | None:
    """The kind called `name` (case-insensitive, aliases and plurals accepted)."""
    key = name.strip().lower().replace("-", "_")
    if key in KINDS:
        return KINDS[key]
    for k in KINDS.values():
        if key in k.aliases:
            return k
    return None
