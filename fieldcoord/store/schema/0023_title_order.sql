-- SPDX-License-Identifier: GPL-3.0-or-later
-- Schema version 23: the alphabetical orders of the large lists hold the title alone. An index
-- entry carries its row number anyway; the record id after the title (36 characters) only put
-- records of the same title in order, which SQLite now does for the few rows that tie: the
-- index of 100,000 contacts takes about a third of the room.
DROP INDEX IF EXISTS contact_by_name;
DROP INDEX IF EXISTS agency_by_name;
DROP INDEX IF EXISTS resource_by_name;
CREATE INDEX contact_by_name ON contact (coalesce(name, '') COLLATE NOCASE);
CREATE INDEX agency_by_name ON agency (coalesce(name, '') COLLATE NOCASE);
CREATE INDEX resource_by_name ON resource (coalesce(name, '') COLLATE NOCASE);
