-- SPDX-License-Identifier: GPL-3.0-or-later
-- Schema version 19: the entries of this replica's own small writes (one record added, edited,
-- deleted or restored in a transaction of its own) are appended here first, in the order
-- written, with the stream and position they hold in `change`. Appending to this table
-- writes about one page; an entry in `change` writes its place in the log (a table keyed by
-- stream and position) and in the index by record, two or three pages at every commit.
-- ChangeLog.take_recent moves them into `change`, in one statement, at the start of every
-- other transaction (a sync, the idle moment, signing before sending, closing), so whatever
-- reads the log by record or sends it finds them there.
CREATE TABLE change_recent (
    id INTEGER PRIMARY KEY,
    stream INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    tx INTEGER NOT NULL,
    tbl TEXT NOT NULL,
    rid TEXT NOT NULL,
    hlc INTEGER NOT NULL,
    site INTEGER NOT NULL,
    cells TEXT NOT NULL
);
