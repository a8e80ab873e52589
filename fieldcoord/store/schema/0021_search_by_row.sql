-- SPDX-License-Identifier: GPL-3.0-or-later
-- Schema version 21: a search document's number is its record's: the kind's code times 2**32
-- plus the record's row number in its table. search_doc then keeps only what the full-text
-- indexes read (title, body, digit suffixes): the kind is the number's high bits, the record is
-- found by its row number, and the line shown under a hit is made from the record when a page
-- of hits is shown. A record's row number never changes (records are never deleted, only marked
-- deleted); a copy that may renumber rows rebuilds the documents (sync/snapshot.py).
DROP TABLE search_fts;
DROP TABLE search_digits;
DROP TABLE search_doc;
DROP TABLE search_pending;

CREATE TABLE search_doc (
    docid INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    digits TEXT NOT NULL
);

CREATE VIRTUAL TABLE search_fts USING fts5 (
    title, body,
    content = 'search_doc', content_rowid = 'docid',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

CREATE VIRTUAL TABLE search_digits USING fts5 (
    digits,
    content = 'search_doc', content_rowid = 'docid',
    tokenize = 'unicode61', detail = none, columnsize = 0
);

CREATE INDEX search_doc_by_title ON search_doc (title COLLATE NOCASE);

CREATE TABLE search_pending (
    rid TEXT PRIMARY KEY NOT NULL,
    kind TEXT NOT NULL,
    title TEXT,
    body TEXT,
    digits TEXT
) WITHOUT ROWID;
