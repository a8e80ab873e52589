-- SPDX-License-Identifier: GPL-3.0-or-later
-- Schema version 11: duty-line checks. The contact_method table gains check_flag and checked_on
-- (generated from its Kind, see migrations.py). line_check keeps this replica's own calls to
-- lines its agency may not change (a partner's): local, never replicated; it takes a line off
-- this replica's call list without touching the partner's record.
CREATE TABLE line_check (
    method TEXT PRIMARY KEY NOT NULL,
    outcome TEXT NOT NULL,
    checked_on TEXT NOT NULL,
    checked_by TEXT
);
