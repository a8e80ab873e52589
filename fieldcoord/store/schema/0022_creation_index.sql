-- SPDX-License-Identifier: GPL-3.0-or-later
-- Schema version 22: the change log's index by record leaves out the creations logged by
-- reference to their rows (store/byref.py), and a second index finds those by their version:
-- a whole record id is about 52 bytes an entry in an index, a version about 17, and a record's
-- row says whether its creation refers to it and gives the creation's version. A query of one
-- record's entries reads both (byref.of_record).
DROP INDEX change_record;
CREATE INDEX change_record ON change (rid) WHERE cells <> '{"@":1}';
CREATE INDEX change_made ON change (hlc) WHERE cells = '{"@":1}';
