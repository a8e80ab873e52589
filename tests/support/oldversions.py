# SPDX-License-Identifier: GPL-3.0-or-later
"""Databases as earlier versions of fieldcoord left them, for tests of the upgrade."""


def as_version_21(path):
    """A database as version 21 left it: the change log's index by record whole, no index of
    creations by version, the title orders with the id."""
    from fieldcoord.store.db import connect
    conn = connect(path)
    conn.execute("DELETE FROM _sqlite_migrations WHERE name IN ('0022_creation_index', "
                 "'0023_title_order')")
    conn.execute("DROP INDEX change_record")
    conn.execute("DROP INDEX change_made")
    conn.execute("CREATE INDEX change_record ON change (rid)")
    conn.execute("DROP INDEX contact_by_name")
    conn.execute("CREATE INDEX contact_by_name ON contact (coalesce(name, '') COLLATE NOCASE, id)")
    conn.close()
