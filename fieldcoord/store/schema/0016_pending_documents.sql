-- SPDX-License-Identifier: GPL-3.0-or-later
-- Schema version 16: a small write notes the record's new search document here, instead of
-- writing search_doc (and its two indexes) and noting the old one: search_doc then always
-- holds what the full-text indexes hold, and a write touches one small table's page. A title
-- of NULL: the record has no document any more. Store.index_pending writes these documents to
-- search_doc and both indexes; until then search reads them from a temporary index.
DROP TABLE search_pending;

CREATE TABLE search_pending (
    rid TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    title TEXT,
    subtitle TEXT,
    body TEXT,
    digits TEXT
) WITHOUT ROWID;
