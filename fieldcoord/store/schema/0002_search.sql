-- SPDX-License-Identifier: GPL-3.0-or-later
-- Schema version 2: full-text search over agencies, contacts, contact methods, resources and
-- channels. search_doc holds one document per searchable record; the FTS5 index follows it by
-- triggers. Accents and case are folded by the tokenizer; phone numbers are indexed as digit
-- suffixes so any trailing run of digits finds them.

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
    title, body, digits,
    content = 'search_doc', content_rowid = 'docid',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

CREATE TRIGGER search_doc_ai AFTER INSERT ON search_doc BEGIN
    INSERT INTO search_fts (rowid, title, body, digits)
    VALUES (new.docid, new.title, new.body, new.digits);
END;

CREATE TRIGGER search_doc_ad AFTER DELETE ON search_doc BEGIN
    INSERT INTO search_fts (search_fts, rowid, title, body, digits)
    VALUES ('delete', old.docid, old.title, old.body, old.digits);
END;

CREATE TRIGGER search_doc_au AFTER UPDATE ON search_doc BEGIN
    INSERT INTO search_fts (search_fts, rowid, title, body, digits)
    VALUES ('delete', old.docid, old.title, old.body, old.digits);
    INSERT INTO search_fts (rowid, title, body, digits)
    VALUES (new.docid, new.title, new.body, new.digits);
END;
