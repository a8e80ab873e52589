# SPDX-License-Identifier: GPL-3.0-or-later
"""Databases as earlier versions of fieldcoord left them, for tests of the upgrade."""


def as_version_23(path):
    """A database as version 23 left it: search_doc's title index over every kind, the
    full-text index with prefix indexes of two and three letters, every trailing run of each
    phone's digits kept in search_doc and read from there by the digits index."""
    from fieldcoord.store.db import connect
    from fieldcoord.store.search import indexed_digits
    conn = connect(path)
    conn.create_function("runs", 1, indexed_digits)
    for stmt in (
            "DELETE FROM _sqlite_migrations WHERE name = '0024_short_queries'",
            "DROP INDEX search_doc_by_title",
            "CREATE INDEX search_doc_by_title ON search_doc (title COLLATE NOCASE)",
            "DROP TABLE search_fts",
            "CREATE VIRTUAL TABLE search_fts USING fts5 (title, body, content = 'search_doc', "
            "content_rowid = 'docid', tokenize = 'unicode61 remove_diacritics 2', "
            "prefix = '2 3')",
            "INSERT INTO search_fts (search_fts) VALUES ('rebuild')",
            "UPDATE search_doc SET digits = runs(digits)",
            "UPDATE search_pending SET digits = runs(digits) WHERE digits IS NOT NULL",
            "DROP TABLE search_digits",
            "CREATE VIRTUAL TABLE search_digits USING fts5 (digits, content = 'search_doc', "
            "content_rowid = 'docid', tokenize = 'unicode61', detail = none, columnsize = 0)",
            "INSERT INTO search_digits (search_digits) VALUES ('rebuild')"):
        conn.execute(stmt)
    conn.close()


def as_version_21(path):
    """A database as version 21 left it: the change log's index by record whole, no index of
    creations by version, the title orders with the id (and what version 23 left)."""
    from fieldcoord.store.db import connect
    as_version_23(path)
    conn = connect(path)
    conn.execute("DELETE FROM _sqlite_migrations WHERE name IN ('0022_creation_index', "
                 "'0023_title_order')")
    conn.execute("DROP INDEX change_record")
    conn.execute("DROP INDEX change_made")
    conn.execute("CREATE INDEX change_record ON change (rid)")
    conn.execute("DROP INDEX contact_by_name")
    conn.execute("CREATE INDEX contact_by_name ON contact (coalesce(name, '') COLLATE NOCASE, id)")
    conn.close()
