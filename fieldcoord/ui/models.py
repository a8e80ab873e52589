# SPDX-License-Identifier: GPL-3.0-or-later
"""The table model behind every record list: pages fetched as the view scrolls (UI layer).

`RecordTableModel` holds the rows read so far and asks its `RecordQuery` for the next page when
the view needs more (canFetchMore/fetchMore). Sorting and filtering are done by SQLite. After a
write, `update_records(ids)` re-reads only those records and moves, inserts or removes their
rows; nothing else is reloaded.
"""
from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QApplication

from .query import RecordQuery, Row

PAGE = 200
# A list holding more records than this is re-read (after a sort or filter change) on a worker
# thread, so a query that sorts the whole table never stalls the window.
BACKGROUND_ROWS = 20_000
ID_ROLE = Qt.UserRole + 1          # the record id of a row
ROW_ROLE = Qt.UserRole + 2         # the query Row itself


def _int(role) -> int:
    return role if type(role) is int else role.value


_DISPLAY, _TOOLTIP, _FONT, _FOREGROUND, _ID, _ROW = (
    _int(Qt.DisplayRole), _int(Qt.ToolTipRole), _int(Qt.FontRole), _int(Qt.ForegroundRole),
    _int(ID_ROLE), _int(ROW_ROLE))


class RecordTableModel(QAbstractTableModel):
    """Rows of one record kind, in SQL order, read a page at a time."""

    counted = Signal(int)          # the number of records under the current filters
    loading = Signal(bool)         # a re-read runs in the background (True), or ended

    def __init__(self, query: RecordQuery, parent=None, db_path=None):
        super().__init__(parent)
        self.query = query
        self.db_path = db_path     # given: large lists are re-read on a worker thread
        self.rows: list[Row] = []
        self._more = True
        self.total = 0
        self._generation = 0
        self.task = None
        self._ahead = None         # ((generation, last id, last key), page or None)
        self.prefetched = 0        # pages taken from the read-ahead (for tests)
        self._reads: list = []     # background reads started (kept to wait for them)

    # ------------------------------------------------------------ Qt overrides
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.query.titles)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole:
            return self.query.titles[section]
        return None

    def data(self, index: QModelIndex, role=Qt.DisplayRole):
        # roles compared as ints: comparing Qt's enum members costs microseconds each, and a
        # view asks for thousands of cells while it scrolls
        r = role if type(role) is int else role.value
        if r == _DISPLAY or r == _TOOLTIP:
            row = self.rows[index.row()]
            col = index.column()
            shown = row.extra.get(col)
            if shown is None:                  # formatted once per row (phone numbers cost)
                shown = row.extra[col] = self.query.display(col, row.values[col])
            return shown
        if r == _ID:
            return self.rows[index.row()].id
        if r == _ROW:
            return self.rows[index.row()]
        if r == _FONT and self.rows[index.row()].deleted:
            font = QFont()
            font.setStrikeOut(True)
            return font
        if r == _FOREGROUND and self.rows[index.row()].deleted:
            return QApplication.palette().brush(QPalette.Disabled, QPalette.Text)
        return None

    def canFetchMore(self, parent=QModelIndex()) -> bool:
        return not parent.isValid() and self._more

    def fetchMore(self, parent=QModelIndex()) -> None:
        if parent.isValid() or not self._more:
            return
        last = self.rows[-1] if self.rows else None
        page = self._take_prefetched(last)
        if page is None:
            page = self.query.fetch(last, PAGE)
        if len(page) < PAGE:
            self._more = False
        if page:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(page) - 1)
            self.rows.extend(page)
            self.endInsertRows()
        self._reads = [t for t in self._reads if t.is_running()]
        self._prefetch()

    # ------------------------------------------------------------ reading ahead
    def _large(self) -> bool:
        return self.db_path is not None and self.total > BACKGROUND_ROWS

    def _reader(self, work_on_query):
        """Work for a worker thread: a read-only connection and a copy of the query."""
        from ..store.db import connect
        q, path = self.query, self.db_path
        spec, filters, deleted = q.spec, dict(q.filters), q.deleted
        sort, descending = q.sort_column, q.descending

        def work(progress, cancel):
            conn = connect(path, readonly=True)
            # one query per connection: a small page cache (the GUI's connection has its own)
            conn.execute("PRAGMA cache_size = -2000")
            try:
                mine = RecordQuery(conn, spec)
                mine.filters, mine.deleted = filters, deleted
                mine.set_sort(sort, descending)
                return work_on_query(mine)
            finally:
                conn.close()
        return work

    def _prefetch(self) -> None:
        """On a large list, read the page after the last row in the background, so that
        scrolling on finds it ready."""
        if not (self._large() and self._more and self.rows):
            return
        from .tasks import Task
        last, generation = self.rows[-1], self._generation
        key = (generation, last.id, last.key)
        if self._ahead is not None and self._ahead[0] == key:
            return
        self._ahead = (key, None)
        task = Task(self._reader(lambda q: q.fetch(last, PAGE)), "Reading ahead")
        self._reads.append(task)
        task.succeeded.connect(lambda page: self._ahead is not None and self._ahead[0] == key
                               and setattr(self, "_ahead", (key, page)))
        task.start()

    def wait_for_reads(self, ms: int = 5000) -> None:
        """Block until background reads end (before the window closes: a worker thread must
        not outlive the application)."""
        for task in self._reads:
            task.wait(ms)
        self._reads = [t for t in self._reads if t.is_running()]

    def _take_prefetched(self, last: Row | None):
        ahead, self._ahead = self._ahead, None
        if ahead is None or last is None or ahead[1] is None:
            return None
        if ahead[0] != (self._generation, last.id, last.key):
            return None
        self.prefetched += 1
        return ahead[1]

    def sort(self, column: int, order=Qt.AscendingOrder) -> None:
        if not self.query.sortable(column):
            return
        self.query.set_sort(column, order == Qt.DescendingOrder)
        self.reload(count=False)

    # ------------------------------------------------------------ our own API
    def reload(self, count: bool = True) -> None:
        """Start over from the first page (after a filter or sort change)."""
        self._generation += 1
        if self.db_path is not None and self.total > BACKGROUND_ROWS:
            self._reload_in_background()
            return
        self.beginResetModel()
        self.rows = []
        self._more = True
        self.endResetModel()
        self.fetchMore()
        if count:
            self.recount()
        self._prefetch()

    def _reload_in_background(self) -> None:
        """Read the first page and the count with a connection of a worker thread; the rows
        shown stay until the new ones arrive (a newer re-read makes an older one moot)."""
        from .tasks import Task
        generation = self._generation
        work = self._reader(lambda q: (q.fetch(None, PAGE), q.count()))
        self.task = Task(work, "Reading the list")
        self._reads.append(self.task)
        self.task.succeeded.connect(lambda result: self._apply(generation, *result))
        self.task.failed.connect(lambda _message: self.loading.emit(False))
        self.loading.emit(True)
        self.task.start()

    def _apply(self, generation: int, rows: list[Row], total: int) -> None:
        if generation != self._generation:
            return
        self.beginResetModel()
        self.rows = rows
        self._more = len(rows) == PAGE
        self.endResetModel()
        self.total = total
        self.counted.emit(total)
        self.loading.emit(False)
        self._prefetch()

    def recount(self) -> None:
        self.total = self.query.count()
        self.counted.emit(self.total)

    def row_of(self, rid: str) -> int:
        """The row holding record `rid` among those loaded, or -1."""
        for i, r in enumerate(self.rows):
            if r.id == rid:
                return i
        return -1

    def update_records(self, ids) -> None:
        """Bring the rows of these records up to date: moved if their sort key changed, added
        if they now pass the filters and fall within what is loaded, removed if not."""
        changed = False
        for rid in ids:
            old = self.row_of(rid)
            new = self.query.get(rid)
            if old >= 0 and new is not None and new.key == self.rows[old].key:
                self.rows[old] = new
                self.dataChanged.emit(self.index(old, 0),
                                      self.index(old, self.columnCount() - 1))
                continue
            if old >= 0 and new is not None and self._move(old, new):
                continue
            if old >= 0:
                self.beginRemoveRows(QModelIndex(), old, old)
                del self.rows[old]
                self.endRemoveRows()
                changed = True
            if new is not None:
                pos = self.query.position(new)
                if pos < len(self.rows) or not self._more:
                    pos = min(pos, len(self.rows))
                    self.beginInsertRows(QModelIndex(), pos, pos)
                    self.rows.insert(pos, new)
                    self.endInsertRows()
                changed = True
        if changed:
            self.recount()

    def _move(self, old: int, new: Row) -> bool:
        """Put a row whose sort key changed in its new place as a move, so that the view's
        selection and current row go with it (a renumbered request stays selected). False
        when its place is past the rows loaded so far."""
        pos = self.query.position(new)
        last = len(self.rows) - 1                 # the rows there are once it is taken out
        if pos >= last and self._more:
            return False
        pos = min(pos, last)
        if pos != old:
            self.beginMoveRows(QModelIndex(), old, old, QModelIndex(),
                               pos + 1 if pos > old else pos)
            del self.rows[old]
            self.rows.insert(pos, new)
            self.endMoveRows()
        else:
            self.rows[old] = new
        self.dataChanged.emit(self.index(pos, 0), self.index(pos, self.columnCount() - 1))
        return True
