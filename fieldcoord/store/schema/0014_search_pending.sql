-- SPDX-License-Identifier: GPL-3.0-or-later
-- Schema version 14: full-text index entries written at idle instead of at every commit.
-- A small write keeps search_doc current and notes here the documents whose FTS5 entries are
-- stale, with what the index holds for them (indexed = 1: title, body and digits as indexed,
-- which deleting them needs; 0: not indexed yet). Store.index_pending brings the indexes up to
-- date; search reads these documents from a temporary index until then.
CREATE TABLE search_pending (
    docid INTEGER PRIMARY KEY,
    title TEXT,
    body TEXT,
    digits TEXT,
    indexed INTEGER NOT NULL
);
