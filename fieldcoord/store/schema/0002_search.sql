-- SPDX-License-Identifier: GPL-3.0-or-later
-- Schema version 2: full-text search over agencies, contacts, contact methods, resources and
-- channels. search_doc holds one document per searchable record; two FTS5 indexes follow it by
-- triggers: search_fts over the words (accents and case folded by the tokenizer, prefix indexes
-- for short prefixes), search_digits over phone numbers stored as digit suffixes, so any
-- trailing run of digits of a number finds it whatever its punctuation.

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

CREATE TRIGGER search_doc_ai AFTER INSERT ON search_doc BEGIN
    INSERT INTO search_fts (rowid, title, body) VALUES (new.docid, new.title, new.body);
    INSERT INTO search_digits (rowid, digits) SELECT new.docid, new.digits WHERE new.digits != '';
END;

CREATE TRIGGER search_doc_ad AFTER DELETE ON search_doc BEGIN
    INSERT INTO search_fts (search_fts, rowid, title, body)
    VALUES ('delete', old.docid, old.title, old.body);
    INSERT INTO search_digits (search_digits, rowid, digits)
    SELECT 'delete', old.docid, old.digits WHERE old.digits != '';
END;

CREATE TRIGGER search_doc_au AFTER UPDATE ON search_doc BEGIN
    INSERT INTO search_fts (search_fts, rowid, title, body)
    VALUES ('delete', old.docid, old.title, old.body);
    INSERT INTO search_digits (search_digits, rowid, digits)
    SELECT 'delete', old.docid, old.digits WHERE old.digits != '';
    INSERT INTO search_fts (rowid, title, body) VALUES (new.docid, new.title, new.body);
    INSERT INTO search_digits (rowid, digits) SELECT new.docid, new.digits WHERE new.digits != '';
END;
