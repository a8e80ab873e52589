# SPDX-License-Identifier: GPL-3.0-or-later
"""What the import wizard's pages share: the options they offer, message labels, tables of rows,
problems and matches, and the background work of a trial run or an import (UI layer)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from ...core import kinds as K
from ..ops import in_background
from ..style import ERROR_STYLE

ENCODINGS = (("", "Detect"), ("utf-8", "UTF-8"), ("utf-16", "UTF-16"),
             ("cp1252", "Windows-1252 (Western)"), ("cp1251", "Windows-1251 (Cyrillic)"),
             ("cp1250", "Windows-1250 (Central European)"), ("shift_jis", "Shift-JIS"),
             ("latin-1", "Latin-1"))
FILE_FILTER = ("Contacts, tables, calendars, maps, channels (*.vcf *.vcard *.csv *.tsv *.txt "
               "*.ics *.ical *.geojson *.json);;vCard (*.vcf *.vcard);;CSV (*.csv *.tsv *.txt);;"
               "iCalendar (*.ics *.ical);;GeoJSON (*.geojson *.json);;All files (*)")
NOT_MAPPED = "(not imported)"
# Export choices: (label, format, kind, suffix)


# ---------------------------------------------------------------------------- helpers
def message_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    label.setStyleSheet(ERROR_STYLE)
    label.setAccessibleName("Message")
    label.hide()
    return label


def show_message(label: QLabel, text: str) -> None:
    label.setText(text)
    label.setVisible(bool(text))


def agency_choices(db_path) -> list[tuple[str, str]]:
    """(code, name) of every live agency of the database, by code."""
    from ...store import Store
    with Store.open(db_path) as store:
        return sorted((r.values["code"], r.values["name"]) for r in store.list("agency"))


def counted(counter) -> str:
    parts = []
    for kind, n in sorted(counter.items()):
        k = K.KINDS.get(kind)
        word = (k.label if n == 1 else k.plural) if k else kind
        parts.append(f"{n} {word}")
    return ", ".join(parts) or "none"


def report_lines(report) -> list[tuple[str, str]]:
    """(heading, text) lines summing up an ImportReport, for the check and report pages."""
    verb = "Would be " if report.dry_run else ""
    return [(f"{verb}added" if verb else "Added", counted(report.added)),
            (f"{verb}updated" if verb else "Updated", counted(report.updated)),
            ("Already up to date", counted(report.unchanged)),
            ("Skipped", f"{len(report.skipped)} "
                        f"{'entry' if len(report.skipped) == 1 else 'entries'}")]


def import_work(db, fmt: str, paths: list[str], options: dict, dry_run: bool):
    """The import as background work; its result is (report, ids of the records written)."""
    def write(store, progress, cancelled):
        from ...interop.runner import run_import
        return run_import(store, fmt, paths, options, progress=progress, cancelled=cancelled,
                          dry_run=dry_run)
    work = in_background(db, write)

    def result(progress, cancel):
        outcome = work(progress, cancel)
        return outcome.value, (set() if dry_run else set(outcome.changes.ids))
    return result


def make_table(columns: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(columns))
    t.setHorizontalHeaderLabels(columns)
    t.setEditTriggers(QAbstractItemView.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectRows)
    t.setAlternatingRowColors(True)
    t.verticalHeader().setVisible(False)
    t.verticalHeader().setDefaultSectionSize(24)
    t.horizontalHeader().setStretchLastSection(True)
    t.setWordWrap(False)
    return t


def fill_table(table: QTableWidget, columns: list[str], rows: list[list[str]]) -> None:
    table.clear()
    table.setColumnCount(len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            text = str(text)
            item = QTableWidgetItem(" ".join(text.split()) if "\n" in text else text)
            item.setToolTip(text if len(text) > 40 else "")
            table.setItem(r, c, item)
    table.resizeColumnsToContents()
    for c in range(table.columnCount()):
        table.setColumnWidth(c, min(max(table.columnWidth(c), 60), 260))


def problems_table(problems) -> QTableWidget:
    t = make_table(["File", "Line", "Reason"])
    t.setWordWrap(True)
    t.setAccessibleName("Skipped entries")
    return t


def fill_problems(table: QTableWidget, problems) -> None:
    table.setRowCount(len(problems))
    for r, p in enumerate(problems):
        for c, text in enumerate((Path(p.source).name, str(p.line or ""), p.reason)):
            item = QTableWidgetItem(text)
            item.setToolTip(f"{p.source}:{p.line}" if c == 0 and p.line else
                            (p.source if c == 0 else text))
            table.setItem(r, c, item)
    table.resizeColumnToContents(0)
    table.resizeColumnToContents(1)
    table.resizeRowsToContents()


def matches_table() -> QTableWidget:
    t = make_table(["Row", "Matches contact", "Matched by", "Result"])
    t.setAccessibleName("Matched rows")
    t.setSelectionMode(QAbstractItemView.NoSelection)
    return t


def fill_matches(table: QTableWidget, matches, checkable: bool) -> None:
    """One line per match, as `fieldcoord import --dry-run` prints it (each line's tooltip is
    that text); with `checkable`, a ticked row is merged and an unticked one kept apart."""
    table.blockSignals(True)
    table.setRowCount(len(matches))
    for r, m in enumerate(matches):
        result = "kept apart, added as a new contact" if m.kept_apart else m.status
        cells = (f"{Path(m.source).name}:{m.line}" if m.line else Path(m.source).name,
                 m.name, m.how, result)
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setFlags(Qt.ItemIsEnabled)
            item.setToolTip(str(m))
            table.setItem(r, c, item)
        first = table.item(r, 0)
        first.setData(Qt.UserRole, (m.source, m.line))
        if checkable and m.line:
            first.setFlags(Qt.ItemIsEnabled | Qt.ItemIsUserCheckable)
            first.setCheckState(Qt.Unchecked if m.kept_apart else Qt.Checked)
            first.setToolTip(f"{m}\nTicked: the row updates this contact. Unticked: the row "
                             "is imported as a new contact.")
    table.resizeColumnsToContents()
    for c in range(table.columnCount()):
        table.setColumnWidth(c, min(max(table.columnWidth(c), 60), 320))
    table.blockSignals(False)


class Summary(QWidget):
    """Counts of an ImportReport as a small grid, with its notes."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(18)
        self.labels: list[QLabel] = []
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.notes.setForegroundRole(QPalette.PlaceholderText)   # muted text

    def set_report(self, report) -> None:
        for w in self.labels:
            w.deleteLater()
        self.labels = []
        for row, (head, text) in enumerate(report_lines(report)):
            h = QLabel(head)
            f = h.font()
            f.setBold(True)
            h.setFont(f)
            v = QLabel(text)
            v.setTextInteractionFlags(Qt.TextSelectableByMouse)
            v.setWordWrap(True)
            v.setAccessibleName(head)
            self.grid.addWidget(h, row, 0, Qt.AlignTop)
            self.grid.addWidget(v, row, 1)
            self.labels += [h, v]
        self.grid.setColumnStretch(1, 1)
        self.grid.addWidget(self.notes, len(self.labels) // 2, 0, 1, 2)
        self.notes.setText("\n".join(report.notes))
        self.notes.setVisible(bool(report.notes))

    def text(self) -> str:
        return "\n".join(w.text() for w in self.labels)
