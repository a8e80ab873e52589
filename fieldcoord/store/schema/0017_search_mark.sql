-- SPDX-License-Identifier: GPL-3.0-or-later
-- Schema version 17: a small write of this replica's own writes nothing for search. Its
-- change-log entries say which documents it left stale; for each of this replica's streams,
-- search_mark holds the position up to which search_doc and the indexes are current.
-- Store.index_pending brings the documents of the entries after it up to date and moves it.
-- (search_pending keeps the documents a small sync left for later.)
CREATE TABLE search_mark (
    stream INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL
);
