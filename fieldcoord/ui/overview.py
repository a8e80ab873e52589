# SPDX-License-Identifier: GPL-3.0-or-later
"""The Overview page, the app's home: what partners can lend, how requests go, which agreements
lapse, how fresh each partner's 24/7 lines are, sync activity, and readiness per partner
(UI layer).

The numbers come from fieldcoord.store.overview; this module draws them with pyqtgraph, which
is imported only when the page is first built (after the window is on screen), so start-up
stays fast. Clicking a bar asks the window for the matching filtered list (`open_list`); each
plot saves as PNG, the readiness table as CSV or PDF.
"""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..store import overview as data
from ..store.alerts import Thresholds
from . import fileops
from .alerts_panel import AlertsPanel
from .paper.tables import table_pdf

STATUS_COLOURS = {"available": "#2e7d32", "assigned": "#1565c0", "out_of_service": "#c62828",
                  "demobilized": "#9e9e9e", "requested": "#6a1b9a", "offered": "#8e24aa",
                  "acknowledged": "#ba68c8", "unable_to_fill": "#795548",
                  "committed": "#1565c0", "en_route": "#00838f", "on_scene": "#2e7d32",
                  "released": "#9e9e9e", "returned": "#616161", "cancelled": "#bdbdbd"}
LAPSING_COLOUR, STEADY_COLOUR, REVIEW_COLOUR = "#c62828", "#5c6bc0", "#ef6c00"
BAR_WIDTH = 0.7
REFRESH_MS = 500           # changes closer than this redraw once


def _pg():
    """pyqtgraph, imported on first use (it loads numpy: a second at start-up otherwise)."""
    import pyqtgraph as pg
    pg.setConfigOptions(antialias=True, background="w", foreground="#333")
    return pg


def _stamp(day: dt.date) -> float:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()


class Chart(QGroupBox):
    """One plot with its title, a Save PNG button and bars that can be clicked.

    `bars` holds what is drawn as (x0, x1, y0, y1, what it opens): the tests read it, and a
    click at a point inside one of them opens that list.
    """

    clicked = Signal(object)          # what the bar opens: (page, filters)

    def __init__(self, title: str, parent: QWidget | None = None):
        super().__init__(title, parent)
        pg = _pg()
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setMinimumHeight(190)
        self.plot.scene().sigMouseClicked.connect(self._on_scene_click)
        self.bars: list[tuple[float, float, float, float, object]] = []
        self.series: dict[str, list] = {}       # what each drawn series holds, by name
        self.note = QLabel()
        self.note.setStyleSheet("color: #666")
        self.note.hide()
        self.save_button = QPushButton("Save PNG…")
        self.save_button.setToolTip("Save this plot as a PNG image")
        self.save_button.clicked.connect(self.save_png)
        self.tools = QHBoxLayout()
        self.tools.addStretch(1)
        self.tools.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.addLayout(self.tools)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.note)

    def clear(self) -> None:
        self.plot.clear()
        self.bars.clear()
        self.series.clear()
        self.note.hide()

    def say(self, text: str) -> None:
        self.note.setText(text)
        self.note.show()

    def add_bars(self, name: str, xs: list[float], heights: list[float], bottoms: list[float],
                 colour: str, opens: list[object], horizontal: bool = False,
                 width: float = BAR_WIDTH) -> None:
        pg = _pg()
        brush = pg.mkBrush(colour)
        if horizontal:
            item = pg.BarGraphItem(x0=bottoms, x1=[b + h for b, h in zip(bottoms, heights)],
                                   y=xs, height=width, brush=brush, pen=pg.mkPen(None))
            self.bars += [(b, b + h, x - width / 2, x + width / 2, o)
                          for x, h, b, o in zip(xs, heights, bottoms, opens) if h]
        else:
            item = pg.BarGraphItem(x=xs, height=heights, y0=bottoms, width=width, brush=brush,
                                   pen=pg.mkPen(None))
            self.bars += [(x - width / 2, x + width / 2, b, b + h, o)
                          for x, h, b, o in zip(xs, heights, bottoms, opens) if h]
        item.setOpts(name=name)
        self.plot.addItem(item)
        self.series[name] = list(zip(xs, heights))

    def bar_at(self, x: float, y: float) -> object | None:
        for x0, x1, y0, y1, opens in self.bars:
            if x0 <= x <= x1 and min(y0, y1) <= y <= max(y0, y1):
                return opens
        return None

    def click_at(self, x: float, y: float) -> bool:
        """What a click at (x, y), in the plot's coordinates, does; True when it hit a bar."""
        opens = self.bar_at(x, y)
        if opens is not None:
            self.clicked.emit(opens)
        return opens is not None

    def _on_scene_click(self, event) -> None:
        point = self.plot.plotItem.vb.mapSceneToView(event.scenePos())
        self.click_at(point.x(), point.y())

    def save_png(self) -> None:
        path = fileops.save_file_name(self, f"Save {self.title()}", self.title().lower()
                                      .replace(" ", "-") + ".png", "PNG images (*.png)")
        if path:
            self.write_png(Path(path))

    def write_png(self, path: Path) -> None:
        if not self.plot.grab().save(str(path), "PNG"):
            QMessageBox.warning(self, "Save PNG", f"Could not write {path}.")


def _axis_labels(chart: Chart, labels: list[str], axis: str = "bottom") -> None:
    """One label per bar; many short ones (agency codes) take two staggered rows."""
    ax = chart.plot.getAxis(axis)
    font = QFont()
    font.setPointSizeF(7.5)
    ax.setStyle(tickFont=font)
    if axis == "bottom" and len(labels) > 12:
        labels = [("\n" if i % 2 else "") + text for i, text in enumerate(labels)]
        ax.setHeight(40)
    ax.setTicks([list(enumerate(labels))])


def _legend(chart: Chart, columns: int = 4) -> None:
    """Across the top of the plot, above the bars (see _headroom)."""
    chart.plot.addLegend(offset=(8, 2), labelTextSize="7.5pt", colCount=columns,
                         verSpacing=-8)


def _headroom(chart: Chart, top: float) -> None:
    """Room above the tallest bar for the legend."""
    chart.plot.setYRange(0, max(top, 1) * 1.35, padding=0)


class OverviewPage(QWidget):
    """The home page. Its plots are built the first time it is on screen (after the window's
    first paint); afterwards it is redrawn when records change or a sync brings news, at once
    when shown, else when next shown."""

    open_list = Signal(str, dict)       # page, {field: value} filters
    alert_activated = Signal(object)    # an Alert of the page's own alerts list

    def __init__(self, store, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.today = dt.date.today()
        self.built = False
        self._stale = False
        self._drawing_note = QLabel("Drawing the overview…")
        self._drawing_note.setAlignment(Qt.AlignCenter)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(8, 8, 8, 8)
        self._grid.addWidget(self._drawing_note, 0, 0)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._refresh_if_shown)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.built and self._stale:
            self._timer.start(0)

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if not self.built:
            # built once the window has been painted: the app shows at once, the plots follow
            QTimer.singleShot(0, self.ensure_built)

    def ensure_built(self) -> None:
        if self.built:
            return
        self.built = True
        self._drawing_note.hide()
        self._build()

    def refresh_soon(self) -> None:
        """Redraw a moment from now if on screen, else the next time it is shown."""
        self._stale = True
        if self.built and self.isVisible():
            self._timer.start(REFRESH_MS)

    def _refresh_if_shown(self) -> None:
        if self.built and self.isVisible():
            self.refresh()

    def _build(self) -> None:
        grid = self._grid
        self.resources = Chart("Resources by status, per partner")
        self.type_filter = QComboBox()
        self.type_filter.setAccessibleName("Resource kind")
        self.type_filter.currentIndexChanged.connect(lambda _i: self.draw_resources())
        self.resources.tools.insertWidget(0, self.type_filter)
        self.requests = Chart("Resource requests by day needed")
        self.agreements = Chart("Agreements: in force, review (◆), lapsing within 90 days")
        self.freshness = Chart("24/7 lines verified recently, per partner")
        self.peers = Chart("Sync: days since each peer was reached")
        self.charts = (self.resources, self.requests, self.agreements, self.freshness, self.peers)
        for chart in self.charts:
            chart.clicked.connect(lambda opens: self.open_list.emit(*opens))
        self.alerts = AlertsPanel(self.store)
        self.alerts.activated.connect(self.alert_activated)
        alerts_box = QGroupBox("Needs attention")
        QVBoxLayout(alerts_box).addWidget(self.alerts)
        self.alerts.setMinimumHeight(240)
        self.peers.plot.setMinimumHeight(150)
        grid.addWidget(self.resources, 0, 0, 1, 2)
        grid.addWidget(alerts_box, 0, 2, 2, 1)
        grid.addWidget(self.requests, 1, 0)
        grid.addWidget(self.agreements, 1, 1)
        grid.addWidget(self.freshness, 2, 0, 1, 3)
        grid.addWidget(self.peers, 3, 0, 1, 3)
        grid.addWidget(self._readiness_box(), 4, 0, 1, 3)
        for column, stretch in enumerate((3, 3, 2)):
            grid.setColumnStretch(column, stretch)
        self._types_loaded = False
        self.refresh()

    # ------------------------------------------------------------------ drawing
    def refresh(self) -> None:
        """Redraw everything from the data (when built; the build draws it first)."""
        if not self.built:
            return
        self._stale = False
        self.today = dt.date.today()
        self.stale_days = Thresholds.load(self.store.conn).stale_days
        if not self._types_loaded:
            self.type_filter.blockSignals(True)
            self.type_filter.addItem("All kinds", None)
            for kind in data.resource_types(self.store.conn):
                self.type_filter.addItem(kind, kind)
            self.type_filter.blockSignals(False)
            self._types_loaded = True
        self.draw_resources()
        self.draw_requests()
        self.draw_agreements()
        self.draw_freshness()
        self.draw_peers()
        self.fill_readiness()
        self.alerts.refresh()

    def draw_resources(self) -> None:
        chart = self.resources
        chart.clear()
        kind = self.type_filter.currentData()
        bars = data.resources_by_status(self.store.conn, kind)
        _legend(chart)
        xs = list(range(len(bars.agencies)))
        bottoms = [0.0] * len(xs)
        for status, counts in bars.counts.items():
            filters = {"status": status, **({"type_kind": kind} if kind else {})}
            chart.add_bars(status.replace("_", " "), xs, counts, list(bottoms),
                           STATUS_COLOURS.get(status, "#777"),
                           [("resources", {"agency": aid, **filters})
                            for aid, _ in bars.agencies])
            bottoms = [b + c for b, c in zip(bottoms, counts)]
        _axis_labels(chart, [code for _, code in bars.agencies])
        _headroom(chart, max(bottoms, default=0))
        chart.plot.setLabel("left", "units")
        if not xs:
            chart.say("No resources yet.")

    def draw_requests(self) -> None:
        chart = self.requests
        chart.clear()
        days = data.requests_over_time(self.store.conn)
        _legend(chart)
        xs = list(range(len(days)))
        bottoms = [0.0] * len(xs)
        for status in data.REQUEST_STATUSES:
            counts = [d.counts.get(status, 0) for d in days]
            if not any(counts):
                continue
            chart.add_bars(status.replace("_", " "), xs, counts, list(bottoms),
                           STATUS_COLOURS.get(status, "#777"),
                           [("requests", {"status": status}) for _ in days])
            bottoms = [b + c for b, c in zip(bottoms, counts)]
        pg = _pg()
        urgent = [(x, top + 0.3) for x, top, d in zip(xs, bottoms, days) if d.urgent]
        if urgent:
            marks = pg.ScatterPlotItem([u[0] for u in urgent], [u[1] for u in urgent],
                                       symbol="t", size=11, brush=pg.mkBrush("#c62828"),
                                       name="urgent")
            chart.plot.addItem(marks)
            chart.series["urgent"] = [(d.day.isoformat(), d.urgent) for d in days if d.urgent]
        _axis_labels(chart, [d.day.strftime("%b %d") for d in days])
        _headroom(chart, max(bottoms, default=0) + 0.6)
        chart.plot.setLabel("left", "requests")
        if not days:
            chart.say("No resource requests yet.")

    def draw_agreements(self) -> None:
        chart = self.agreements
        chart.clear()
        spans = data.agreement_timeline(self.store.conn, self.today)
        pg = _pg()
        chart.plot.setAxisItems({"bottom": pg.DateAxisItem(utcOffset=0)})
        today = _stamp(self.today)
        for i, span in enumerate(spans):
            start = _stamp(span.start) if span.start else today
            end = _stamp(span.end) if span.end else max(start, today) + 2 * 365 * 86400
            chart.add_bars(span.title, [i], [end - start], [start],
                           LAPSING_COLOUR if span.lapsing else STEADY_COLOUR,
                           [("agreements", {"id": span.id})], horizontal=True, width=0.6)
        reviews = [(_stamp(s.review), i) for i, s in enumerate(spans) if s.review]
        if reviews:
            chart.plot.addItem(pg.ScatterPlotItem([r[0] for r in reviews],
                                                  [r[1] for r in reviews], symbol="d", size=10,
                                                  brush=pg.mkBrush(REVIEW_COLOUR)))
        chart.plot.addItem(pg.InfiniteLine(today, angle=90, pen=pg.mkPen("#333", width=1,
                                                                       style=Qt.DashLine)))
        _axis_labels(chart, [s.title if len(s.title) < 28 else s.title[:26] + "…"
                             for s in spans], "left")
        chart.plot.invertY(True)
        if not spans:
            chart.say("No agreements yet.")

    def draw_freshness(self) -> None:
        chart = self.freshness
        chart.clear()
        rows = data.freshness(self.store.conn, self.stale_days, self.today)
        xs = list(range(len(rows)))
        shares = [round(r.share * 100) for r in rows]
        colours = {True: "#2e7d32", False: "#ef6c00"}
        _legend(chart, 2)
        for good in (True, False):
            picked = [i for i in xs if (shares[i] >= 80) == good]
            chart.add_bars("80 % or more" if good else "under 80 %", picked,
                           [shares[i] for i in picked], [0.0] * len(picked), colours[good],
                           [("agencies", {"id": rows[i].agency}) for i in picked])
        chart.series["share"] = [(r.code, s) for r, s in zip(rows, shares)]
        _axis_labels(chart, [r.code for r in rows])
        chart.plot.setYRange(0, 125, padding=0)
        chart.plot.setLabel("left", f"% verified in {self.stale_days} days")
        if not rows:
            chart.say("No 24/7 lines yet.")

    def draw_peers(self) -> None:
        chart = self.peers
        chart.clear()
        peers = data.peer_activity(self.store.conn, self.today)
        xs = list(range(len(peers)))
        never = [i for i in xs if peers[i].days_since is None]
        seen = [i for i in xs if i not in never]
        chart.add_bars("days since reached", seen, [peers[i].days_since or 0.2 for i in seen],
                       [0.0] * len(seen), STEADY_COLOUR, [("sync", {}) for _ in seen])
        chart.add_bars("never reached", never, [1.0] * len(never), [0.0] * len(never),
                       LAPSING_COLOUR, [("sync", {}) for _ in never])
        chart.series["peers"] = [(p.name, p.days_since, p.syncs, p.failures) for p in peers]
        _axis_labels(chart, [f"{p.name} ({p.syncs} syncs)" for p in peers])
        chart.plot.setLabel("left", "days")
        if not peers:
            chart.say("No peers yet: add your agency's hub on the Sync page.")

    # ------------------------------------------------------------------ readiness
    def _readiness_box(self) -> QGroupBox:
        box = QGroupBox("Readiness per partner")
        layout = QVBoxLayout(box)
        tools = QHBoxLayout()
        tools.addStretch(1)
        for text, slot in (("Export CSV…", self.export_csv), ("Export PDF…", self.export_pdf)):
            b = QPushButton(text)
            b.clicked.connect(slot)
            tools.addWidget(b)
        layout.addLayout(tools)
        self.table = QTableWidget(0, len(data.READINESS_COLUMNS))
        self.table.setHorizontalHeaderLabels(data.READINESS_COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAccessibleName("Readiness per partner")
        self.table.setMinimumHeight(260)
        self.table.cellDoubleClicked.connect(
            lambda row, _c: self.open_list.emit("agencies", {"id": self.rows[row].agency}))
        layout.addWidget(self.table)
        return box

    def fill_readiness(self) -> None:
        self.rows = data.readiness(self.store.conn, self.stale_days, self.today)
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            for c, text in enumerate(row.row()):
                item = QTableWidgetItem(text)
                if c == 6 and row.freshness is not None and row.freshness < 0.8:
                    item.setForeground(QColor("#c62828"))
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()

    def write_csv(self, path: Path) -> None:
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(data.READINESS_COLUMNS)
            for row in self.rows:
                w.writerow([_csv_safe(x) for x in row.row()])

    def write_pdf(self, path: Path) -> None:
        table_pdf(path, "Readiness per partner", f"{self.store.home}, {self.today.isoformat()}",
                  data.READINESS_COLUMNS, [row.row() for row in self.rows])

    def export_csv(self) -> None:
        self._export("CSV", "readiness.csv", "CSV files (*.csv)", self.write_csv)

    def export_pdf(self) -> None:
        self._export("PDF", "readiness.pdf", "PDF files (*.pdf)", self.write_pdf)

    def _export(self, what: str, name: str, pattern: str, write) -> None:
        path = fileops.save_file_name(self, f"Export readiness as {what}", name, pattern)
        if not path:
            return
        try:
            write(Path(path))
        except OSError as e:
            QMessageBox.warning(self, f"Export {what}", f"Could not write {path}: "
                                f"{e.strerror or e}")


def _csv_safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
