# SPDX-License-Identifier: GPL-3.0-or-later
"""The whole change log as a table to read in tests: `change` and the entries of small writes
still waiting in change_recent (which join it at the next idle moment or sync)."""

WHOLE_LOG = ("(SELECT stream, seq, tx, tbl, rid, hlc, site, cells, status FROM change UNION ALL "
             "SELECT stream, seq, tx, tbl, rid, hlc, site, cells, 0 FROM change_recent)")
