# SPDX-License-Identifier: GPL-3.0-or-later
"""The Agenda page: a month calendar whose days with something on them are marked, and beside
it the week of the chosen day, day by day: events and exercises, agreement review and expiry
dates, after-action items due (UI layer). Today is chosen when the page opens; Enter or a
double-click opens an item's record."""
from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QTextCharFormat
from PySide6.QtWidgets import (
    QCalendarWidget,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..store.agenda import DUE, EVENT, EXPIRY, REVIEW, Dated, agenda

COLOURS = {EVENT: "#1565c0", REVIEW: "#ef6c00", EXPIRY: "#c62828", DUE: "#6a1b9a"}
MARKS = {EVENT: "●", REVIEW: "◆", EXPIRY: "■", DUE: "▲"}
RECORD_ROLE = Qt.UserRole + 1


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _day(q: QDate) -> dt.date:
    return dt.date(q.year(), q.month(), q.day())


class AgendaPage(QWidget):
    open_requested = Signal(str)            # a record's id

    def __init__(self, store, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        layout = QHBoxLayout(self)
        left = QVBoxLayout()
        self.calendar = QCalendarWidget()
        self.calendar.setGridVisible(True)
        self.calendar.setVerticalHeaderFormat(QCalendarWidget.ISOWeekNumbers)
        self.calendar.setFirstDayOfWeek(Qt.Monday)
        self.calendar.setAccessibleName("Month")
        self.calendar.selectionChanged.connect(self.show_week)
        self.calendar.currentPageChanged.connect(lambda _y, _m: self.mark_month())
        left.addWidget(self.calendar)
        today = QPushButton("Today")
        today.clicked.connect(self.go_today)
        left.addWidget(today)
        legend = QLabel("  ".join(f"<span style='color:{COLOURS[w]}'>{MARKS[w]}</span> {text}"
                                  for w, text in ((EVENT, "event"), (REVIEW, "agreement review"),
                                                  (EXPIRY, "agreement expiry"),
                                                  (DUE, "action item due"))))
        legend.setWordWrap(True)
        left.addWidget(legend)
        left.addStretch(1)
        layout.addLayout(left)
        right = QVBoxLayout()
        self.week_label = QLabel()
        font = self.week_label.font()
        font.setBold(True)
        self.week_label.setFont(font)
        right.addWidget(self.week_label)
        self.week = QTreeWidget()
        self.week.setHeaderHidden(True)
        self.week.setRootIsDecorated(False)
        self.week.setAccessibleName("Week")
        self.week.itemActivated.connect(self._on_item)
        right.addWidget(self.week, 1)
        layout.addLayout(right, 1)
        self._marked: list[QDate] = []
        self.shown: list[Dated] = []
        self.go_today()

    def refresh(self) -> None:
        self.mark_month()
        self.show_week()

    def go_today(self) -> None:
        self.calendar.setSelectedDate(QDate.currentDate())
        self.calendar.showToday()
        self.refresh()

    def mark_month(self) -> None:
        """Days of the month shown that have something on them, in bold and coloured."""
        for q in self._marked:
            self.calendar.setDateTextFormat(q, QTextCharFormat())
        first = dt.date(self.calendar.yearShown(), self.calendar.monthShown(), 1)
        last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        # the grid shows a few days of the months around it too
        items = agenda(self.store.conn, first - dt.timedelta(days=7),
                       last + dt.timedelta(days=14))
        by_day: dict[dt.date, str] = {}
        for d in items:
            by_day.setdefault(d.day, d.what)
        self._marked = []
        for day, what in by_day.items():
            fmt = QTextCharFormat()
            fmt.setFontWeight(QFont.Bold)
            fmt.setForeground(QBrush(QColor(COLOURS[what])))
            q = _qdate(day)
            self.calendar.setDateTextFormat(q, fmt)
            self._marked.append(q)

    def show_week(self) -> None:
        chosen = _day(self.calendar.selectedDate())
        monday = chosen - dt.timedelta(days=chosen.weekday())
        sunday = monday + dt.timedelta(days=6)
        self.shown = agenda(self.store.conn, monday, sunday)
        self.week_label.setText(f"Week of {monday.strftime('%A %d %B %Y')}")
        self.week.clear()
        today = dt.date.today()
        for i in range(7):
            day = monday + dt.timedelta(days=i)
            head = QTreeWidgetItem([day.strftime("%A %d %B") + ("  — today" if day == today
                                                                else "")])
            font = head.font(0)
            font.setBold(True)
            head.setFont(0, font)
            head.setFlags(Qt.ItemIsEnabled)
            if day == chosen:
                head.setBackground(0, QBrush(QColor("#e3f2fd")))
            self.week.addTopLevelItem(head)
            items = [d for d in self.shown if d.day == day]
            for d in items:
                item = QTreeWidgetItem([f"   {MARKS[d.what]} {d.title} — {d.detail}"])
                item.setForeground(0, QBrush(QColor(COLOURS[d.what])))
                item.setData(0, RECORD_ROLE, d.record)
                item.setToolTip(0, d.title)
                self.week.addTopLevelItem(item)
            if not items:
                empty = QTreeWidgetItem(["   nothing"])
                empty.setForeground(0, QBrush(QColor("#888")))
                empty.setFlags(Qt.ItemIsEnabled)
                self.week.addTopLevelItem(empty)

    def _on_item(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        rid = item.data(0, RECORD_ROLE)
        if rid:
            self.open_requested.emit(rid)
