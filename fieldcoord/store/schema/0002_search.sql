-- SPDX-License-Identifier: GPL-3.0-or-later
-- Schema version 2: full-text search over agencies, contacts, contact methods, resources and
-- channels. search_doc holds one document per searchable record. Two FTS5 indexes read their
-- text from it (external content) and are kept current by the store's write path, which only
-- touches an index when its part of a document changed and rebuilds both after large loads:
-- search_fts over the words (accents and case folded by the tokenizer, prefix indexes for short
-- prefixes), and search_digits over phone numbers stored as digit suffixes, so any trailing run
-- of digits of a number finds it whatever its punctuation.

CREATE TABLE search_doc (
    docid INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    rid TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    subtitle TEXT NOT NULL,
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
