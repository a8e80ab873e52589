# SPDX-License-Identifier: GPL-3.0-or-later
"""The record kinds of the field-coordination domain and their fields (core layer, pure Python)."""
from __future__ import annotations

from dataclasses import dataclass, field

# Field types understood by core.validate.
TEXT, INT, REAL, DATE, DATETIME, ENUM, REF, REFS, EMAIL, URL, CODE, LAT, LON = (
    "text", "int", "real", "date", "datetime", "enum", "ref", "refs", "email", "url",
    "code", "lat", "lon")

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
class Kind:
    name: str                     # CLI name: agency, contact, method, ...
    table: str                    # SQLite table
    fields: tuple[Field, ...]
    title_field: str              # field shown as the record's title
    label: str = ""
    parent: str | None = None     # field naming the record this one belongs to (scope is inherited)
    default_scope: str = "all"
    aliases: tuple[str, ...] = ()
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
TYPE_LEVELS = ("Type 1", "Type 2", "Type 3", "Type 4", "Single Type")
RESOURCE_STATUSES = ("available", "assigned", "out_of_service", "demobilized")
REQUEST_PRIORITIES = ("urgent", "routine", "low")
REQUEST_STATUSES = ("requested", "offered", "committed", "en_route", "on_scene", "released",
                    "returned", "cancelled")
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

F = Field

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
    ), title_field="name", label="agency", aliases=("agencies",)),
    Kind("contact", "contact", (
        F("name", required=True),
        F("agency", REF, ref="agency"),
        F("title"),
        F("ics_position", label="ICS position"),
        F("languages"),
        F("notes"),
    ), title_field="name", label="contact", parent="agency", aliases=("contacts", "person")),
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
    ), title_field="value", label="contact method", parent="contact",
        aliases=("methods", "contact_method", "line")),
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
    ), title_field="name", label="resource", parent="agency", aliases=("resources",)),
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
        F("notes"),
    ), title_field="description", label="resource request", parent="operation",
        default_scope="all+edit", aliases=("requests", "resource_request")),
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
    ), title_field="title", label="agreement", aliases=("agreements", "mou")),
    Kind("party", "agreement_party", (
        F("agreement", REF, ref="agreement", required=True),
        F("agency", REF, ref="agency", required=True),
        F("signatory"),
        F("signed_on", DATE),
    ), title_field="agency", label="agreement party", parent="agreement", aliases=("parties",)),
    Kind("operation", "operation", (
        F("name", required=True),
        F("kind", ENUM, choices=OPERATION_KINDS, default="incident"),
        F("purpose"),
        F("lead_agency", REF, ref="agency"),
        F("start", DATETIME),
        F("end", DATETIME),
        F("status", ENUM, choices=OPERATION_STATUSES, default="active"),
    ), title_field="name", label="operation", default_scope="all+edit",
        aliases=("operations", "task_force", "incident")),
    Kind("member", "operation_member", (
        F("operation", REF, ref="operation", required=True),
        F("agency", REF, ref="agency", required=True),
        F("role"),
        F("activation_status", ENUM, choices=ACTIVATION_STATUSES, default="alerted"),
        F("assigned_people"),
    ), title_field="agency", label="operation member", parent="operation", aliases=("members",)),
    Kind("plan", "plan", (
        F("name", required=True),
        F("hazard", label="Hazard or scenario"),
        F("version"),
        F("objectives"),
        F("activation_triggers"),
    ), title_field="name", label="plan", default_scope="all+edit", aliases=("plans",)),
    Kind("role", "plan_role", (
        F("plan", REF, ref="plan", required=True),
        F("agency", REF, ref="agency", required=True),
        F("function", ENUM, choices=ROLE_FUNCTIONS, required=True),
        F("responsibilities"),
    ), title_field="agency", label="plan role", parent="plan", aliases=("roles", "plan_role")),
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
    ), title_field="name", label="channel", parent="agency", aliases=("channels",)),
    Kind("comms", "comms_plan_row", (
        F("operation", REF, ref="operation", required=True),
        F("channel", REF, ref="channel", required=True),
        F("zone", label="Zone/group"),
        F("number", INT, label="Channel number"),
        F("assignment"),
        F("remarks"),
    ), title_field="assignment", label="comms plan row", parent="operation",
        aliases=("comms_row", "commsrow", "comms_plan")),
    Kind("event", "event", (
        F("title", required=True),
        F("kind", ENUM, choices=EVENT_KINDS, required=True),
        F("start", DATETIME, required=True),
        F("end", DATETIME),
        F("host_agency", REF, ref="agency"),
        F("location"),
        F("notes"),
    ), title_field="title", label="event", default_scope="all+edit",
        aliases=("events", "exercise", "training", "meeting")),
    Kind("participant", "event_participant", (
        F("event", REF, ref="event", required=True),
        F("agency", REF, ref="agency", required=True),
        F("role"),
    ), title_field="agency", label="event participant", parent="event",
        aliases=("participants",)),
    Kind("action", "action_item", (
        F("event", REF, ref="event", required=True),
        F("text", required=True, label="Lesson learned"),
        F("assigned_to"),
        F("due_date", DATE),
        F("status", ENUM, choices=ACTION_STATUSES, default="open"),
    ), title_field="text", label="after-action item", parent="event",
        aliases=("actions", "action_item")),
    Kind("log", "log_entry", (
        F("operation", REF, ref="operation"),
        F("author"),
        F("text", required=True),
        F("happened_at", DATETIME, label="Happened at"),
        F("recorded_at", DATETIME, label="Recorded at", immutable=True),
    ), title_field="text", label="log entry", parent="operation",
        aliases=("logs", "log_entry", "activity")),
)}

KIND_BY_TABLE = {k.table: k for k in KINDS.values()}

# Kinds whose records appear in the full-text search.
SEARCHABLE = ("agency", "contact", "method", "resource", "channel")


def kind_named(name: str) -> Kind | None:
    """The kind called `name` (case-insensitive, aliases and plurals accepted)."""
    key = name.strip().lower().replace("-", "_")
    if key in KINDS:
        return KINDS[key]
    for k in KINDS.values():
        if key in k.aliases:
            return k
    return None
