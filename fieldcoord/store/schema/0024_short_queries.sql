-- SPDX-License-Identifier: GPL-3.0-or-later
-- Schema version 24: a search of one or two letters lists the titles that begin with them. The
-- kinds whose lists have an alphabetical index of their own (contacts, agencies, resources,
-- facilities: their title is their name) are read there, so the title index of search_doc keeps
-- only the other kinds' documents (codes 0, 1, 3 and 4 are those kinds; a query names the same
-- condition to use the index). The full-text index keeps a prefix index of three letters only: a
-- prefix of two letters alone is a short query (above), and inside longer queries the index
-- reads the words that begin with it. search_doc keeps each phone's digits once, and the digits
-- index, which holds no copy of its own (content = ''), every trailing run of them: search_doc
-- kept every run before (about 70 bytes a phone). The documents' digits are rewritten and the
-- digits index filled by the migration's step in Python (migrations.m0024_short_queries).
DROP INDEX IF EXISTS search_doc_by_title;
CREATE INDEX search_doc_by_title ON search_doc (title COLLATE NOCASE)
    WHERE docid >> 32 NOT IN (0, 1, 3, 4);

DROP TABLE search_fts;
CREATE VIRTUAL TABLE search_fts USING fts5 (
    title, body,
    content = 'search_doc', content_rowid = 'docid',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '3'
);
INSERT INTO search_fts (search_fts) VALUES ('rebuild');

DROP TABLE search_digits;
CREATE VIRTUAL TABLE search_digits USING fts5 (
    digits,
    content = '',
    tokenize = 'unicode61', detail = none, columnsize = 0
);
