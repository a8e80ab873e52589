-- SPDX-License-Identifier: GPL-3.0-or-later
-- Schema version 3: what sync keeps besides the records and the change log.

-- Every version of a field that is not the field's current value: 'open' for a concurrent
-- value that lost (a conflict users see and resolve), 'closed' once a later write superseded
-- it. A version superseded before it arrived is stored closed with no value, so it stays out
-- when it comes. reason 'deleted' marks an edit made while another replica deleted the record.
DROP TABLE conflict;
CREATE TABLE conflict (
    tbl TEXT NOT NULL,
    rid TEXT NOT NULL,
    col TEXT NOT NULL,
    hlc INTEGER NOT NULL,
    site INTEGER NOT NULL,
    value TEXT,
    state TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT 'concurrent',
    PRIMARY KEY (tbl, rid, col, hlc, site)
) WITHOUT ROWID;
CREATE INDEX conflict_open ON conflict (state, tbl, rid) WHERE state = 'open';

-- status 1: a change this replica refused (not applied, not forwarded as data); it keeps its
-- place so the stream stays gap-free.
ALTER TABLE change ADD COLUMN status INTEGER NOT NULL DEFAULT 0;
-- A record's history: merging concurrent versions and sharing a record with new partners
-- read it.
CREATE INDEX change_record ON change (rid);

-- When this replica first received a log entry from another (local, never replicated).
ALTER TABLE log_entry ADD COLUMN received_at TEXT;

-- Replicas this one syncs with over HTTP. Tokens live in the OS keyring, not here.
CREATE TABLE peer (
    name TEXT PRIMARY KEY NOT NULL,
    url TEXT NOT NULL,
    site TEXT,
    agency TEXT,
    epoch TEXT,
    last_sync TEXT,
    last_error TEXT
);

-- Device tokens a hub issued; only a hash of each token is kept.
CREATE TABLE device_token (
    id INTEGER PRIMARY KEY,
    agency TEXT NOT NULL,
    device TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

-- What sync told the user: refused changes, clock skew, restored hubs, gaps.
CREATE TABLE sync_event (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    peer TEXT,
    kind TEXT NOT NULL,
    message TEXT NOT NULL,
    detail TEXT
);
