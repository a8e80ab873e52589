# SPDX-License-Identifier: GPL-3.0-or-later
"""What every test of search documents may check of them."""


def numbers_name_their_records(conn, table="search_doc"):
    """Every document number of `table` is that of a live searchable record of its kind: the
    kind's code in the high bits, the record's row number in the low ones. Returns how many."""
    from fieldcoord.core import kinds as K
    from fieldcoord.store.search import KIND_CODES, KIND_SHIFT, ROW_MASK
    numbers = [d for (d,) in conn.execute(f"SELECT docid FROM {table}")]
    for d in numbers:
        kind = KIND_CODES[d >> KIND_SHIFT]
        assert kind in K.SEARCHABLE
        row = conn.execute(f'SELECT _cl FROM "{K.KINDS[kind].table}" WHERE rowid = ?',
                           (d & ROW_MASK,)).fetchone()
        assert row is not None and row[0] % 2 == 1, (table, kind, d & ROW_MASK)
    return len(numbers)
