# SPDX-License-Identifier: GPL-3.0-or-later
"""What needs attention: the alerts panel beside the pages, its button with a count in the
toolbar, and the thresholds dialog (UI layer).

Alerts come from fieldcoord.store.alerts, computed from the local data (a few indexed queries,
quick enough for the GUI thread even on a large directory). The window refreshes the panel a
moment after any change, its own or a sync's; activating an alert opens the record it is about,
or the page that shows it.
"""
from __future__ import annotations

import sqlite3

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.errors import FieldcoordError
from ..store.alerts import NOTICE, OVERDUE, SOON, Alert, Thresholds, alerts
from .style import ERROR_COLOR, ERROR_STYLE

HEADINGS = {OVERDUE: "Overdue", SOON: "Soon", NOTICE: "Coming up"}
COLOURS = {OVERDUE: ERROR_COLOR, SOON: "#b9770e", NOTICE: "#5f6b7a"}
ALERT_ROLE = Qt.UserRole + 1
REFRESH_MS = 300           # changes closer than this refresh the panel once


class AlertsPanel(QWidget):
    """The alerts, grouped by how pressing they are; Enter or a double-click opens one."""

    activated = Signal(object)          # the Alert chosen
    counted = Signal(int, int)          # (all alerts, overdue ones), after each refresh

    def __init__(self, store, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.shown: list[Alert] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        top = QHBoxLayout()
        self.summary = QLabel()
        self.summary.setAccessibleName("Alerts summary")
        top.addWidget(self.summary, 1)
        self.settings_button = QPushButton("Thresholds…")
        self.settings_button.setToolTip("When agreements, lines and peers are reported")
        self.settings_button.clicked.connect(self.edit_thresholds)
        top.addWidget(self.settings_button)
        layout.addLayout(top)
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setWordWrap(True)
        self.tree.setUniformRowHeights(False)
        self.tree.setTextElideMode(Qt.ElideNone)
        self.tree.setIndentation(8)
        self.setMinimumWidth(300)
        self.tree.setAccessibleName("Alerts")
        self.tree.itemActivated.connect(self._on_item)
        layout.addWidget(self.tree, 1)
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.refresh)

    def stop(self) -> None:
        """No more refreshes (the window closes its database)."""
        self._timer.stop()

    def refresh_soon(self) -> None:
        """Refresh a moment from now (several changes in a row refresh once)."""
        self._timer.start(REFRESH_MS)

    def refresh(self) -> None:
        try:
            found = alerts(self.store)
        except sqlite3.ProgrammingError:
            return                  # the window's database was closed (File > Open, quitting)
        except (FieldcoordError, sqlite3.Error) as e:
            self.error.setText(f"Alerts could not be read: {e}")
            self.error.show()
            return
        self.error.hide()
        self.shown = found
        self.tree.clear()
        for level in (OVERDUE, SOON, NOTICE):
            group = [a for a in found if a.level == level]
            if not group:
                continue
            head = QTreeWidgetItem([f"{HEADINGS[level]} ({len(group)})"])
            font = head.font(0)
            font.setBold(True)
            head.setFont(0, font)
            head.setForeground(0, QColor(COLOURS[level]))
            head.setFlags(Qt.ItemIsEnabled)
            self.tree.addTopLevelItem(head)
            for a in group:
                item = QTreeWidgetItem([a.title])
                item.setData(0, ALERT_ROLE, a)
                item.setToolTip(0, a.detail)
                self.tree.addTopLevelItem(item)
                detail = QTreeWidgetItem([a.detail])
                detail.setData(0, ALERT_ROLE, a)
                detail.setForeground(0, QColor(COLOURS[NOTICE]))
                small = detail.font(0)
                small.setPointSizeF(small.pointSizeF() * 0.9)
                detail.setFont(0, small)
                item.addChild(detail)
                item.setExpanded(True)
        overdue = sum(a.level == OVERDUE for a in found)
        self.summary.setText("Nothing needs attention" if not found else
                             f"{len(found)} alert{'s' if len(found) != 1 else ''}"
                             + (f", {overdue} overdue" if overdue else ""))
        self.counted.emit(len(found), overdue)

    def _on_item(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        alert = item.data(0, ALERT_ROLE)
        if alert is not None:
            self.activated.emit(alert)

    def edit_thresholds(self) -> None:
        dialog = ThresholdsDialog(self.store, self)
        if dialog.exec() == QDialog.Accepted:
            self.refresh()


class AlertsButton(QToolButton):
    """The toolbar's way to the panel: the number of alerts, red while some are overdue."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setCheckable(True)
        self.setShortcut(QKeySequence("Ctrl+Shift+A"))
        self.setAccessibleName("Alerts")
        self.show_count(0, 0)

    def show_count(self, total: int, overdue: int) -> None:
        self.setText(f"Alerts {total}" if total else "Alerts")
        self.setToolTip(f"{total} alert{'s' if total != 1 else ''}"
                        + (f", {overdue} overdue" if overdue else "")
                        + " (Ctrl+Shift+A shows or hides the list)")
        self.setStyleSheet(f"QToolButton {{ color: white; background: {ERROR_COLOR}; "
                           "border-radius: 3px; padding: 2px 6px; font-weight: bold; }"
                           if overdue else "")


class ThresholdsDialog(QDialog):
    """When alerts fire; kept with the database, so `fieldcoord alerts` agrees."""

    def __init__(self, store, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.setWindowTitle("Alert thresholds")
        t = Thresholds.load(store.conn)
        form = QFormLayout(self)
        self.agreement = QLineEdit(", ".join(str(d) for d in t.agreement_days))
        self.agreement.setToolTip("Days before an agreement's review or expiry date, "
                                  "comma-separated")
        form.addRow("Agreements due within (days)", self.agreement)
        self.spins: dict[str, QSpinBox] = {}
        for name, label, value in (("stale_days", "24/7 line stale after (days)", t.stale_days),
                                   ("peer_days", "Peer not reached for (days)", t.peer_days),
                                   ("refused_days", "Refused changes of the last (days)",
                                    t.refused_days)):
            spin = QSpinBox()
            spin.setRange(1, 3650)
            spin.setValue(value)
            spin.setAccessibleName(label)
            form.addRow(label, spin)
            self.spins[name] = spin
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        self.error.setWordWrap(True)
        self.error.hide()
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def save(self) -> None:
        try:
            days = tuple(int(x) for x in self.agreement.text().replace(" ", "").split(",") if x)
        except ValueError:
            self._fail("Agreements: write whole numbers of days, such as 90, 30, 7")
            return
        try:
            t = Thresholds.load(self.store.conn).with_values(
                agreement_days=days, **{n: s.value() for n, s in self.spins.items()})
            t.save(self.store)
        except FieldcoordError as e:
            self._fail(str(e))
            return
        self.accept()

    def _fail(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()
