-- SPDX-License-Identifier: GPL-3.0-or-later
-- Schema version 1: the records of the field-coordination domain and the change log.
-- Every record table carries: id (UUID), owner (agency code), scope (sharing), times and device,
-- _cl (causal length: odd = live, even = deleted), _ver (JSON: per-column versions, key "" = the
-- version of columns not listed), _extra (JSON: fields from newer replicas, kept and forwarded).

CREATE TABLE meta (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT
);

-- Replicas this one knows of; ord 1 is this replica. Versions and the change log refer to ord.
CREATE TABLE site (
    ord INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    agency TEXT,
    device TEXT
);

-- The hybrid logical clock of this replica (one row).
CREATE TABLE clock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    hlc INTEGER NOT NULL
);

-- One change stream per (origin replica, audience); seq is the highest contiguous sequence
-- number held, so the table is this replica's version vector.
CREATE TABLE stream (
    id INTEGER PRIMARY KEY,
    origin INTEGER NOT NULL REFERENCES site (ord),
    audience TEXT NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0,
    UNIQUE (origin, audience)
);

-- The change log: one entry per record written per write, dense per stream.
-- cells is JSON {column: [value, prev_hlc, prev_site] or [value] when new, or
-- [value, prev_hlc, prev_site, hlc, site] when the cell's version is not the entry's}.
CREATE TABLE change (
    stream INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    tx INTEGER NOT NULL,
    tbl TEXT NOT NULL,
    rid TEXT NOT NULL,
    hlc INTEGER NOT NULL,
    site INTEGER NOT NULL,
    cells TEXT NOT NULL,
    PRIMARY KEY (stream, seq)
) WITHOUT ROWID;

-- Concurrent values that lost, kept until a user resolves them.
CREATE TABLE conflict (
    id TEXT PRIMARY KEY NOT NULL,
    tbl TEXT NOT NULL,
    rid TEXT NOT NULL,
    col TEXT NOT NULL,
    value TEXT,
    hlc INTEGER NOT NULL,
    site INTEGER NOT NULL,
    resolved INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX conflict_record ON conflict (tbl, rid) WHERE resolved = 0;

CREATE TABLE "agency" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "owner" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "name" TEXT,
    "code" TEXT,
    "level" TEXT,
    "discipline" TEXT,
    "jurisdiction" TEXT,
    "address" TEXT,
    "lat" REAL,
    "lon" REAL,
    "website" TEXT,
    "parent" TEXT,
    "safecom_notes" TEXT,
    "notes" TEXT,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "device" TEXT,
    "_cl" INTEGER NOT NULL DEFAULT 1,
    "_ver" TEXT NOT NULL,
    "_extra" TEXT
);
CREATE INDEX "agency_parent" ON "agency" ("parent");
CREATE TABLE "contact" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "owner" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "name" TEXT,
    "agency" TEXT,
    "title" TEXT,
    "ics_position" TEXT,
    "languages" TEXT,
    "notes" TEXT,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "device" TEXT,
    "_cl" INTEGER NOT NULL DEFAULT 1,
    "_ver" TEXT NOT NULL,
    "_extra" TEXT
);
CREATE INDEX "contact_agency" ON "contact" ("agency");
CREATE TABLE "contact_method" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "owner" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "contact" TEXT,
    "agency" TEXT,
    "kind" TEXT,
    "value" TEXT,
    "label" TEXT,
    "duty" TEXT,
    "priority" INTEGER,
    "verified_on" TEXT,
    "verified_by" TEXT,
    "notes" TEXT,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "device" TEXT,
    "_cl" INTEGER NOT NULL DEFAULT 1,
    "_ver" TEXT NOT NULL,
    "_extra" TEXT
);
CREATE INDEX "contact_method_contact" ON "contact_method" ("contact");
CREATE INDEX "contact_method_agency" ON "contact_method" ("agency");
CREATE TABLE "resource" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "owner" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "name" TEXT,
    "agency" TEXT,
    "type_id" TEXT,
    "type_name" TEXT,
    "type_category" TEXT,
    "type_kind" TEXT,
    "type_level" TEXT,
    "quantity" INTEGER,
    "status" TEXT,
    "location" TEXT,
    "lat" REAL,
    "lon" REAL,
    "contact" TEXT,
    "notes" TEXT,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "device" TEXT,
    "_cl" INTEGER NOT NULL DEFAULT 1,
    "_ver" TEXT NOT NULL,
    "_extra" TEXT
);
CREATE INDEX "resource_agency" ON "resource" ("agency");
CREATE INDEX "resource_contact" ON "resource" ("contact");
CREATE TABLE "resource_request" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "owner" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "number" TEXT,
    "requesting_agency" TEXT,
    "operation" TEXT,
    "quantity" INTEGER,
    "kind" TEXT,
    "type" TEXT,
    "description" TEXT,
    "needed_by" TEXT,
    "delivery_location" TEXT,
    "priority" TEXT,
    "substitutes" TEXT,
    "status" TEXT,
    "supplying_agency" TEXT,
    "committed_resources" TEXT,
    "notes" TEXT,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "device" TEXT,
    "_cl" INTEGER NOT NULL DEFAULT 1,
    "_ver" TEXT NOT NULL,
    "_extra" TEXT
);
CREATE INDEX "resource_request_requesting_agency" ON "resource_request" ("requesting_agency");
CREATE INDEX "resource_request_operation" ON "resource_request" ("operation");
CREATE INDEX "resource_request_supplying_agency" ON "resource_request" ("supplying_agency");
CREATE TABLE "agreement" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "owner" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "title" TEXT,
    "kind" TEXT,
    "terms" TEXT,
    "reimbursement" TEXT,
    "activation_procedure" TEXT,
    "effective_date" TEXT,
    "review_date" TEXT,
    "expiry_date" TEXT,
    "document" TEXT,
    "notes" TEXT,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "device" TEXT,
    "_cl" INTEGER NOT NULL DEFAULT 1,
    "_ver" TEXT NOT NULL,
    "_extra" TEXT
);
CREATE TABLE "agreement_party" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "owner" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "agreement" TEXT,
    "agency" TEXT,
    "signatory" TEXT,
    "signed_on" TEXT,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "device" TEXT,
    "_cl" INTEGER NOT NULL DEFAULT 1,
    "_ver" TEXT NOT NULL,
    "_extra" TEXT
);
CREATE INDEX "agreement_party_agreement" ON "agreement_party" ("agreement");
CREATE INDEX "agreement_party_agency" ON "agreement_party" ("agency");
CREATE TABLE "operation" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "owner" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "name" TEXT,
    "kind" TEXT,
    "purpose" TEXT,
    "lead_agency" TEXT,
    "start" TEXT,
    "end" TEXT,
    "status" TEXT,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "device" TEXT,
    "_cl" INTEGER NOT NULL DEFAULT 1,
    "_ver" TEXT NOT NULL,
    "_extra" TEXT
);
CREATE INDEX "operation_lead_agency" ON "operation" ("lead_agency");
CREATE TABLE "operation_member" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "owner" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "operation" TEXT,
    "agency" TEXT,
    "role" TEXT,
    "activation_status" TEXT,
    "assigned_people" TEXT,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "device" TEXT,
    "_cl" INTEGER NOT NULL DEFAULT 1,
    "_ver" TEXT NOT NULL,
    "_extra" TEXT
);
CREATE INDEX "operation_member_operation" ON "operation_member" ("operation");
CREATE INDEX "operation_member_agency" ON "operation_member" ("agency");
CREATE TABLE "plan" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "owner" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "name" TEXT,
    "hazard" TEXT,
    "version" TEXT,
    "objectives" TEXT,
    "activation_triggers" TEXT,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "device" TEXT,
    "_cl" INTEGER NOT NULL DEFAULT 1,
    "_ver" TEXT NOT NULL,
    "_extra" TEXT
);
CREATE TABLE "plan_role" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "owner" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "plan" TEXT,
    "agency" TEXT,
    "function" TEXT,
    "responsibilities" TEXT,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "device" TEXT,
    "_cl" INTEGER NOT NULL DEFAULT 1,
    "_ver" TEXT NOT NULL,
    "_extra" TEXT
);
CREATE INDEX "plan_role_plan" ON "plan_role" ("plan");
CREATE INDEX "plan_role_agency" ON "plan_role" ("agency");
CREATE TABLE "channel" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "owner" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "name" TEXT,
    "function" TEXT,
    "rx_freq" REAL,
    "rx_tone" TEXT,
    "tx_freq" REAL,
    "tx_tone" TEXT,
    "mode" TEXT,
    "system" TEXT,
    "agency" TEXT,
    "encryption" TEXT,
    "remarks" TEXT,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "device" TEXT,
    "_cl" INTEGER NOT NULL DEFAULT 1,
    "_ver" TEXT NOT NULL,
    "_extra" TEXT
);
CREATE INDEX "channel_agency" ON "channel" ("agency");
CREATE TABLE "comms_plan_row" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "owner" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "operation" TEXT,
    "channel" TEXT,
    "zone" TEXT,
    "number" INTEGER,
    "assignment" TEXT,
    "remarks" TEXT,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "device" TEXT,
    "_cl" INTEGER NOT NULL DEFAULT 1,
    "_ver" TEXT NOT NULL,
    "_extra" TEXT
);
CREATE INDEX "comms_plan_row_operation" ON "comms_plan_row" ("operation");
CREATE INDEX "comms_plan_row_channel" ON "comms_plan_row" ("channel");
CREATE TABLE "event" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "owner" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "title" TEXT,
    "kind" TEXT,
    "start" TEXT,
    "end" TEXT,
    "host_agency" TEXT,
    "location" TEXT,
    "notes" TEXT,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "device" TEXT,
    "_cl" INTEGER NOT NULL DEFAULT 1,
    "_ver" TEXT NOT NULL,
    "_extra" TEXT
);
CREATE INDEX "event_host_agency" ON "event" ("host_agency");
CREATE TABLE "event_participant" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "owner" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "event" TEXT,
    "agency" TEXT,
    "role" TEXT,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "device" TEXT,
    "_cl" INTEGER NOT NULL DEFAULT 1,
    "_ver" TEXT NOT NULL,
    "_extra" TEXT
);
CREATE INDEX "event_participant_event" ON "event_participant" ("event");
CREATE INDEX "event_participant_agency" ON "event_participant" ("agency");
CREATE TABLE "action_item" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "owner" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "event" TEXT,
    "text" TEXT,
    "assigned_to" TEXT,
    "due_date" TEXT,
    "status" TEXT,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "device" TEXT,
    "_cl" INTEGER NOT NULL DEFAULT 1,
    "_ver" TEXT NOT NULL,
    "_extra" TEXT
);
CREATE INDEX "action_item_event" ON "action_item" ("event");
CREATE TABLE "log_entry" (
    "id" TEXT PRIMARY KEY NOT NULL,
    "owner" TEXT NOT NULL,
    "scope" TEXT NOT NULL,
    "operation" TEXT,
    "author" TEXT,
    "text" TEXT,
    "happened_at" TEXT,
    "recorded_at" TEXT,
    "created_at" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL,
    "device" TEXT,
    "_cl" INTEGER NOT NULL DEFAULT 1,
    "_ver" TEXT NOT NULL,
    "_extra" TEXT
);
CREATE INDEX "log_entry_operation" ON "log_entry" ("operation");
