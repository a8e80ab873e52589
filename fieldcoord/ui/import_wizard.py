# SPDX-License-Identifier: GPL-3.0-or-later
"""File > Import… as a wizard (UI layer); File > Export… is fieldcoord.ui.export_dialog.

The import wizard walks through: the file(s) and their format, a preview of the first rows with
the column mapping (CSV, GeoJSON; an email, phone or other contact method may be taken from
several columns) and the import options, a dry run showing what would be added, updated and
skipped with every row that matches a contact already in the directory (the list `--dry-run`
prints; for CSV each can be unticked, and that row is then imported as a new contact, through
the import option "no_match"), the import itself with progress and Stop, and the report.
Reading, the dry run and the import run on worker threads, each with its own Store
(fieldcoord.ui.tasks); an import is one transaction, so a failed or stopped import leaves the
database as it was. Errors are shown in the wizard in plain words, never as a traceback.

    open_import_wizard(parent, db_path, on_done=None)   # on_done(report, changed_ids)
"""
from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from ..core import kinds as K
from ..core.errors import FieldcoordError
from ..interop import csv_table
from ..interop.preview import FORMATS, Preview, guess_format, preview, target_fields
from . import fileops
from .editors import ScopeEditor
from .tasks import Task

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
    label.setStyleSheet("color: #b03a2e; font-weight: 600;")
    label.setAccessibleName("Message")
    label.hide()
    return label


def show_message(label: QLabel, text: str) -> None:
    label.setText(text)
    label.setVisible(bool(text))


def agency_choices(db_path) -> list[tuple[str, str]]:
    """(code, name) of every live agency of the database, by code."""
    from ..store import Store
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


def _import_work(db, fmt: str, paths: list[str], options: dict, dry_run: bool):
    def work(progress, cancel):
        from ..interop.runner import run_import
        from ..store import Store
        with Store.open(db) as store:
            report = run_import(store, fmt, paths, options, progress=progress,
                                cancelled=cancel.is_set, dry_run=dry_run)
            return report, (set() if dry_run else set(store.last_changes.ids))
    return work


def _table(columns: list[str]) -> QTableWidget:
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


def _fill(table: QTableWidget, columns: list[str], rows: list[list[str]]) -> None:
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


def _problems_table(problems) -> QTableWidget:
    t = _table(["File", "Line", "Reason"])
    t.setWordWrap(True)
    t.setAccessibleName("Skipped entries")
    return t


def _fill_problems(table: QTableWidget, problems) -> None:
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


def _matches_table() -> QTableWidget:
    t = _table(["Row", "Matches contact", "Matched by", "Result"])
    t.setAccessibleName("Matched rows")
    t.setSelectionMode(QAbstractItemView.NoSelection)
    return t


def _fill_matches(table: QTableWidget, matches, checkable: bool) -> None:
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


class _Summary(QWidget):
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


# ---------------------------------------------------------------------------- pages
class FilePage(QWizardPage):
    """1. The file(s) to import and their format."""

    def __init__(self, wizard: ImportWizard):
        super().__init__()
        self.w = wizard
        self.setTitle("Choose the files to import")
        self.setSubTitle("vCard contacts, CSV tables (Google, Outlook, Thunderbird exports, "
                         "agency registries, any spreadsheet), iCalendar events, GeoJSON point "
                         "layers or CHIRP channel lists.")
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.files = QListWidget()
        self.files.setAccessibleName("Files to import")
        self.files.setSelectionMode(QAbstractItemView.ExtendedSelection)
        row.addWidget(self.files, 1)
        buttons = QVBoxLayout()
        self.add_button = QPushButton("&Add files…")
        self.add_button.clicked.connect(self._on_add)
        self.remove_button = QPushButton("&Remove")
        self.remove_button.clicked.connect(self._on_remove)
        for b in (self.add_button, self.remove_button):
            b.setAutoDefault(False)     # Enter goes to Next, never to the file picker
            b.setDefault(False)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        row.addLayout(buttons)
        layout.addLayout(row, 1)
        form = QFormLayout()
        self.format = QComboBox()
        self.format.setAccessibleName("Format")
        for key, label in FORMATS.items():
            self.format.addItem(label, key)
        self.format.setCurrentIndex(-1)
        self.format.currentIndexChanged.connect(lambda _i: self._on_format())
        form.addRow("&Format", self.format)
        self.encoding = QComboBox()
        self.encoding.setAccessibleName("Text encoding")
        for key, label in ENCODINGS:
            self.encoding.addItem(label, key)
        self.encoding.setToolTip("Leave on Detect unless the preview shows garbled letters")
        form.addRow("Text &encoding", self.encoding)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        form.addRow("", self.hint)
        layout.addLayout(form)
        self.message = message_label()
        layout.addWidget(self.message)

    def paths(self) -> list[str]:
        return [self.files.item(i).text() for i in range(self.files.count())]

    def add_paths(self, paths: list[str]) -> None:
        """Add files to the list and guess the format from the first one."""
        known = set(self.paths())
        for p in paths:
            if p and p not in known:
                self.files.addItem(str(p))
                known.add(p)
        show_message(self.message, "")
        if self.format.currentIndex() < 0 and self.paths():
            try:
                fmt = guess_format(self.paths()[0])
            except FieldcoordError as e:
                show_message(self.message, str(e))
                fmt = None
            if fmt:
                self.set_format(fmt)
            else:
                self.hint.setText("The format could not be told from the file: choose it.")
        self.completeChanged.emit()

    def set_format(self, fmt: str) -> None:
        self.format.setCurrentIndex(self.format.findData(fmt))

    def fmt(self) -> str | None:
        return self.format.currentData()

    def _on_add(self) -> None:
        self.add_paths(fileops.open_file_names(self, "Import files", FILE_FILTER))

    def _on_remove(self) -> None:
        for item in self.files.selectedItems():
            self.files.takeItem(self.files.row(item))
        if not self.paths():
            self.format.setCurrentIndex(-1)
        self.completeChanged.emit()

    def _on_format(self) -> None:
        fmt = self.fmt()
        self.encoding.setEnabled(fmt in ("csv", "vcard"))
        hints = {"csv": "Rows become contacts by default; the next page shows the columns and "
                        "lets you choose which column fills which field.",
                 "geojson": "Point features become agencies or resources; the next page maps "
                            "their properties to fields.",
                 "vcard": "Cards become contacts; an organisation's own card becomes an agency.",
                 "ical": "Events (VEVENT) become events of the calendar.",
                 "chirp": "Memories become channels of the channel library."}
        self.hint.setText(hints.get(fmt, ""))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return bool(self.paths()) and self.fmt() is not None

    def validatePage(self) -> bool:
        missing = [p for p in self.paths() if not Path(p).is_file()]
        if missing:
            show_message(self.message, f"No such file: {missing[0]}")
            return False
        for p in self.paths():
            try:
                guess = guess_format(p)
            except FieldcoordError as e:
                show_message(self.message, str(e))
                return False
            if guess in ("vcard", "ical", "geojson") and guess != self.fmt():
                show_message(self.message, f"{Path(p).name} is {FORMATS[guess]}, not "
                                    f"{FORMATS[self.fmt()]}: import it on its own.")
                return False
        show_message(self.message, "")
        return True


class MappingPage(QWizardPage):
    """2. The first rows of the file, the column mapping and the import options."""

    def __init__(self, wizard: ImportWizard):
        super().__init__()
        self.w = wizard
        self.preview: Preview | None = None
        self.task: Task | None = None
        self.combos: dict[str, QComboBox] = {}       # the first combo of each field
        self.field_rows: list[tuple[str, QComboBox]] = []   # (field, combo), as shown
        self._fields: dict[str, tuple[str, bool, bool]] = {}  # title, required, bold
        self._repeatable: set[str] = set()
        self.setTitle("Preview and mapping")
        layout = QVBoxLayout(self)
        self.details = QLabel("Reading the file…")
        self.details.setWordWrap(True)
        self.details.setAccessibleName("File details")
        layout.addWidget(self.details)
        self.message = message_label()
        layout.addWidget(self.message)
        split = QSplitter(Qt.Vertical)
        split.setChildrenCollapsible(False)
        self.rows = _table([])
        self.rows.setAccessibleName("First rows of the file")
        split.addWidget(self.rows)
        lower = QWidget()
        low = QHBoxLayout(lower)
        low.setContentsMargins(0, 0, 0, 0)
        # the column mapping
        self.mapping_box = QGroupBox("Column mapping")
        mb = QVBoxLayout(self.mapping_box)
        top = QHBoxLayout()
        top.addWidget(QLabel("Import rows as"))
        self.kind = QComboBox()
        self.kind.setAccessibleName("Record kind")
        self.kind.currentIndexChanged.connect(lambda _i: self._on_kind())
        top.addWidget(self.kind)
        self.header = QCheckBox("First row holds the column names")
        self.header.setChecked(True)
        self.header.toggled.connect(lambda _on: self.reload())
        top.addWidget(self.header)
        top.addStretch(1)
        mb.addLayout(top)
        self.profile = QLabel()
        self.profile.setWordWrap(True)
        mb.addWidget(self.profile)
        self.mapping = QTableWidget(0, 2)
        self.mapping.setHorizontalHeaderLabels(["Field", "Column in the file"])
        self.mapping.setAccessibleName("Column mapping")
        self.mapping.verticalHeader().setVisible(False)
        self.mapping.verticalHeader().setDefaultSectionSize(28)
        self.mapping.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeToContents)
        self.mapping.horizontalHeader().setStretchLastSection(True)
        self.mapping.setSelectionMode(QAbstractItemView.NoSelection)
        self.mapping.setAlternatingRowColors(True)
        mb.addWidget(self.mapping, 1)
        saved = QHBoxLayout()
        self.saved = QComboBox()
        self.saved.setAccessibleName("Saved mappings")
        self.saved.setMinimumWidth(180)
        self.saved.activated.connect(lambda _i: self._on_load_saved())
        saved.addWidget(QLabel("Saved"))
        saved.addWidget(self.saved, 1)
        self.save_button = QPushButton("Save mapping &as…")
        self.save_button.clicked.connect(self._on_save)
        saved.addWidget(self.save_button)
        mb.addLayout(saved)
        low.addWidget(self.mapping_box, 3)
        # options
        opts = QGroupBox("Options")
        form = QFormLayout(opts)
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        self.agency = QComboBox()
        self.agency.setAccessibleName("Agency")
        self.agency.setToolTip("Contacts, resources and channels that name no agency are filed "
                               "under this one; events get it as host; GeoJSON agencies as "
                               "parent")
        self.agency.setMaximumWidth(320)
        form.addRow("Agency", self.agency)
        self.scope = ScopeEditor()
        self.scope.set_value("")
        self.scope.lineEdit().setPlaceholderText("default of each kind")
        form.addRow("Sharing scope", self.scope)
        self.event_kind = QComboBox()
        self.event_kind.setAccessibleName("Event kind")
        self.event_kind.addItem("guess from the title", "")
        for k in K.EVENT_KINDS:
            self.event_kind.addItem(k.replace("_", " "), k)
        self.event_kind_label = QLabel("Events not named")
        form.addRow(self.event_kind_label, self.event_kind)
        self.match_note = QLabel()
        self.match_note.setWordWrap(True)
        self.match_note.setForegroundRole(QPalette.PlaceholderText)   # muted text
        form.addRow(self.match_note)
        low.addWidget(opts, 2)
        split.addWidget(lower)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        layout.addWidget(split, 1)

    # -------------------------------------------------------------- loading
    def initializePage(self) -> None:
        self.agency.clear()
        self.agency.addItem("(none)", "")
        try:
            for code, name in agency_choices(self.w.db_path):
                self.agency.addItem(f"{code} — {name}", code)
        except FieldcoordError as e:
            show_message(self.message, str(e))
        self.header.blockSignals(True)
        self.header.setChecked(True)
        self.header.blockSignals(False)
        self._fill_saved()
        self.reload()

    def reload(self) -> None:
        """Read the first file again (after a change of encoding or header) in the background."""
        self.preview = None
        self.completeChanged.emit()
        fmt = self.w.fmt()
        paths = self.w.paths()
        self.setSubTitle(f"{len(paths)} file{'s' if len(paths) != 1 else ''}: "
                         f"{', '.join(Path(p).name for p in paths[:3])}"
                         f"{' …' if len(paths) > 3 else ''}")
        self.details.setText("Reading the file…")
        show_message(self.message, "")
        options = {"encoding": self.w.encoding() or None}
        if fmt == "csv" and not self.header.isChecked():
            options["header"] = False
        path = paths[0]

        def work(progress, cancel):
            return preview(path, fmt, options)

        self.task = task = self.w.track(Task(work, "Reading the file", self))
        task.succeeded.connect(partial(self._if_current, task, self._on_preview))
        task.failed.connect(partial(self._if_current, task, self._on_preview_failed))
        task.start()

    def _if_current(self, task: Task, handler, *args) -> None:
        if task is self.task:                 # a later read (new encoding...) wins
            handler(*args)

    def _on_preview(self, pv: Preview) -> None:
        if pv.format != self.w.fmt() or not self.w.paths() or pv.path != self.w.paths()[0]:
            return
        self.preview = pv
        more = len(self.w.paths()) - 1
        self.details.setText(f"<b>{Path(pv.path).name}</b>: {pv.details()}" + (
            f" (the first of {more + 1} files: the mapping applies to each)" if more else ""))
        problems = [f"line {line}: {reason}" if line else reason for line, reason in pv.problems]
        shown_notes = pv.notes + [f"{len(problems)} entr{'y' if len(problems) == 1 else 'ies'} "
                                  f"will be skipped: " + "; ".join(problems[:3])
                                  + (" …" if len(problems) > 3 else "")] if problems else pv.notes
        columns = list(pv.columns)
        if pv.format == "csv" and not pv.header:
            columns = [f"Column {c}" for c in columns]
        _fill(self.rows, columns, pv.rows)
        self.mapping_box.setVisible(pv.mapped)
        self.header.setVisible(pv.format == "csv")
        self.kind.blockSignals(True)
        self.kind.clear()
        for k in pv.kinds:
            self.kind.addItem(K.KINDS[k].plural, k)
        self.kind.setCurrentIndex(max(self.kind.findData(pv.kind), 0))
        self.kind.blockSignals(False)
        self.event_kind.setVisible(pv.format == "ical")
        self.event_kind_label.setVisible(pv.format == "ical")
        if pv.mapped:
            self.set_mapping(pv.suggestions.get(pv.kind, {}))
        self._update_match_note()
        show_message(self.message, "")
        if shown_notes:
            self.message.setStyleSheet("color: #9a6700; font-weight: 600;")
            show_message(self.message, "\n".join(shown_notes))
        self.completeChanged.emit()

    def _on_preview_failed(self, message: str) -> None:
        self.preview = None
        self.details.setText("The file cannot be imported as "
                             f"{FORMATS.get(self.w.fmt(), self.w.fmt())}.")
        self.message.setStyleSheet("color: #b03a2e; font-weight: 600;")
        show_message(self.message, message)
        _fill(self.rows, [], [])
        self.mapping_box.hide()
        self.completeChanged.emit()

    # -------------------------------------------------------------- mapping
    def kind_name(self) -> str | None:
        return self.kind.currentData()

    def _on_kind(self) -> None:
        if self.preview and self.preview.mapped:
            self.set_mapping(self.preview.suggestions.get(self.kind_name(), {}))
        self._update_match_note()

    def _update_match_note(self) -> None:
        fmt, kind = (self.preview.format if self.preview else None), self.kind_name()
        if kind == "contact":
            text = ("A contact matching one already in the directory (same email, same phone "
                    "with a fitting name, or same name at the same agency) is updated, not "
                    "duplicated. The trial run lists each match"
                    + (", and a row you untick there is imported as a new contact."
                       if fmt == "csv" else "."))
        elif kind == "agency":
            text = ("An agency matching one already in the directory (same code, else same "
                    "name) gets its empty fields filled; nothing is overwritten.")
        elif fmt == "geojson":
            text = ("A feature imported before (same id, or same name within 250 m) updates "
                    "its resource instead of adding another.")
        elif fmt == "ical":
            text = "An event imported before (same UID) is updated, not duplicated."
        elif fmt == "chirp":
            text = "A channel with the same name and frequencies is updated, not added again."
        else:
            text = (f"Each row becomes a new {K.KINDS[kind].label}; a row the directory "
                    "refuses is skipped and reported with its line." if kind else "")
        self.match_note.setText(text)

    def _column_items(self) -> list[tuple[str, str]]:
        """(label, reference) of each column of the file, for the mapping combos."""
        pv = self.preview
        cols = [c for c in pv.columns if c != "Location (lat, lon)"] if pv else []
        if pv and pv.format == "csv" and not pv.header:
            first = pv.rows[0] if pv.rows else []
            return [(f"{c}: {first[i] if i < len(first) else ''}"[:60], c)
                    for i, c in enumerate(cols)]
        return [(c, c) for c in cols if c]

    def set_mapping(self, spec: dict) -> None:
        """Show one combo per target field, set to the column `spec` names (or none). A
        contact method (CSV) may be taken from several columns: it has a row per column and
        an empty one more, and choosing a column there adds the next."""
        kind = self.kind_name()
        fields = target_fields(self.preview.format, kind) if kind else []
        self.combos = {}
        self.field_rows = []
        self.mapping.setRowCount(0)
        k = K.KINDS[kind] if kind else None
        self._repeatable = set(csv_table.repeatable_fields(k)) \
            if k and self.preview.format == "csv" else set()
        self._fields = {name: (title, required, required or bool(k and name == k.title_field))
                        for name, title, required in fields}
        for name, _title, _required in fields:
            refs = spec.get(name)
            refs = [r for r in (refs if isinstance(refs, list) else [refs]) if r]
            rows = len(refs) + 1 if name in self._repeatable else 1
            for i in range(rows):
                self._add_row(name, i, refs[i] if i < len(refs) else None)
        self._update_profile_note()

    def _add_row(self, name: str, index: int, ref=None, at: int | None = None) -> QComboBox:
        """A mapping row: the field's title (a further column of a contact method is numbered:
        'Email 2') and a combo of the file's columns."""
        title, required, strong = self._fields[name]
        r = self.mapping.rowCount() if at is None else at
        self.mapping.insertRow(r)
        if index == 0:
            label = QTableWidgetItem(title + (" *" if required else ""))
        else:
            label = QTableWidgetItem(f"{title} {index + 1}")
        label.setFlags(Qt.ItemIsEnabled)
        label.setToolTip(name if name not in self._repeatable else
                         f"{name}: each column chosen gives one {title.lower()}")
        if index == 0 and strong:
            f = QFont(label.font())
            f.setBold(True)
            label.setFont(f)
        self.mapping.setItem(r, 0, label)
        combo = QComboBox()
        combo.setEditable(True)
        combo.setInsertPolicy(QComboBox.NoInsert)
        combo.setAccessibleName(f"Column for {title}" + (f" {index + 1}" if index else ""))
        combo.setToolTip("A column; or a template such as {Street}, {City}; or a fixed "
                         "value after =, such as =fire")
        combo.addItem(NOT_MAPPED, "")
        for text, item_ref in self._column_items():
            combo.addItem(text, item_ref)
        combo.setFrame(False)
        self.mapping.setCellWidget(r, 1, combo)
        self._set_combo(combo, ref)
        self.field_rows.insert(r, (name, combo))
        self.combos.setdefault(name, combo)
        combo.currentTextChanged.connect(partial(self._on_column_chosen, name))
        return combo

    def field_combos(self, name: str) -> list[QComboBox]:
        """The combos of a field, in order (several for a contact method)."""
        return [c for n, c in self.field_rows if n == name]

    def _on_column_chosen(self, name: str, _text: str = "") -> None:
        if name in self._repeatable:
            combos = self.field_combos(name)
            if all(self._combo_value(c) for c in combos):     # a row more for another column
                last = max(i for i, (n, _c) in enumerate(self.field_rows) if n == name)
                self._add_row(name, len(combos), at=last + 1)
        self._update_profile_note()

    @staticmethod
    def _set_combo(combo: QComboBox, ref) -> None:
        if not ref:
            combo.setCurrentIndex(0)
            return
        i = combo.findData(str(ref))
        if i >= 0:
            combo.setCurrentIndex(i)
        else:
            combo.setEditText(str(ref))

    @staticmethod
    def _combo_value(combo: QComboBox) -> str:
        text = combo.currentText().strip()
        if not text or text == NOT_MAPPED:
            return ""
        i = combo.findText(text, Qt.MatchFixedString)
        return combo.itemData(i) if i > 0 else text

    def current_mapping(self) -> dict:
        """{field: column, template or =constant} as the combos show it; a contact method
        taken from several columns has the list of them."""
        got: dict[str, list[str]] = {}
        for name, combo in self.field_rows:
            v = self._combo_value(combo)
            if v and v not in got.setdefault(name, []):
                got[name].append(v)
        return {name: refs[0] if len(refs) == 1 else refs for name, refs in got.items() if refs}

    def uses_profile(self) -> bool:
        """Whether a recognised export is read the built-in way (mapping left as suggested)."""
        pv = self.preview
        return bool(pv and pv.format == "csv" and pv.profile and self.kind_name() == pv.kind
                    and self.current_mapping() == pv.suggestions.get(pv.kind))

    def _update_profile_note(self) -> None:
        pv = self.preview
        if pv and pv.format == "csv" and pv.profile and self.kind_name() == pv.kind:
            if self.uses_profile():
                how = ("each department once, its stations listed in the notes"
                       if pv.profile == "usfa" else
                       "every phone, email and address with its label")
                self.profile.setText(f"Recognised as {pv.profile_label}: it is read the "
                                     f"built-in way ({how}). Change a column to use your own "
                                     "mapping instead.")
            else:
                self.profile.setText("Your own mapping is used instead of the built-in reading "
                                     f"of {pv.profile_label}.")
            self.profile.show()
        elif pv and pv.format == "geojson":
            self.profile.setText("Join properties with +, such as address+city+state; the "
                                 "location comes from each point.")
            self.profile.show()
        else:
            self.profile.hide()

    def _fill_saved(self) -> None:
        self.saved.clear()
        self.saved.addItem("Load a saved mapping…", "")
        try:
            names = sorted(csv_table.saved_mappings())
        except FieldcoordError as e:
            show_message(self.message, str(e))
            names = []
        for name in names:
            self.saved.addItem(name, name)
        self.saved.setEnabled(bool(names))

    def load_saved(self, name: str) -> None:
        """Set the kind and the combos from a mapping saved before."""
        try:
            saved = csv_table.load_mapping(name)
        except FieldcoordError as e:
            show_message(self.message, str(e))
            return
        kind = saved.get("kind") or "contact"
        i = self.kind.findData(kind)
        if i < 0:
            show_message(self.message, f"The mapping '{name}' imports {kind} records, which this "
                                "format cannot import.")
            return
        self.kind.blockSignals(True)
        self.kind.setCurrentIndex(i)
        self.kind.blockSignals(False)
        self.set_mapping(saved.get("map") or {})

    def _on_load_saved(self) -> None:
        name = self.saved.currentData()
        if name:
            self.load_saved(name)

    def save_mapping(self, name: str) -> bool:
        """Save the mapping shown under `name` (csv-mappings.json in the config folder)."""
        spec = self.current_mapping()
        try:
            if not spec:
                raise FieldcoordError("choose at least one column before saving the mapping")
            csv_table.save_mapping(name, {"kind": self.kind_name(), "map": spec})
        except FieldcoordError as e:
            self.message.setStyleSheet("color: #b03a2e; font-weight: 600;")
            show_message(self.message, str(e))
            return False
        self._fill_saved()
        self.saved.setCurrentIndex(max(self.saved.findData(name.strip()), 0))
        show_message(self.message, "")
        return True

    def _on_save(self) -> None:
        name, ok = QInputDialog.getText(self, "Save mapping", "Name of the mapping:")
        if ok and name.strip():
            self.save_mapping(name)

    # -------------------------------------------------------------- result
    def options(self) -> dict:
        """The options of run_import for what this page shows."""
        opts: dict = {}
        if self.w.encoding():
            opts["encoding"] = self.w.encoding()
        pv = self.preview
        if pv and pv.mapped:
            opts["kind"] = self.kind_name()
            if not self.uses_profile():
                spec = self.current_mapping()
                if spec:
                    opts["map"] = spec
        if pv and pv.format == "ical" and self.event_kind.currentData():
            opts["kind"] = self.event_kind.currentData()
        if self.agency.currentData():
            opts["agency"] = self.agency.currentData()
        scope = self.scope.value()
        if scope:
            opts["scope"] = scope
        return opts

    def isComplete(self) -> bool:
        return self.preview is not None

    def validatePage(self) -> bool:
        pv = self.preview
        if pv is None:
            return False
        if pv.mapped and not self.uses_profile():
            spec = self.current_mapping()
            kind = K.KINDS[self.kind_name()]
            names = {kind.title_field, "first_name", "last_name"} \
                if kind.name == "contact" else {kind.title_field}
            if pv.format == "csv" and pv.profile == "usfa" and kind.name == "agency" and \
                    spec == pv.suggestions.get("agency"):
                pass
            elif not names & set(spec):
                self.message.setStyleSheet("color: #b03a2e; font-weight: 600;")
                title = kind.field_map[kind.title_field].title.lower()
                show_message(self.message,
                             f"Choose the column that holds the {kind.label}'s {title}.")
                return False
        return True


class _TaskPage(QWizardPage):
    """A page that runs an import in the background, with progress and Stop."""

    dry_run = False

    def __init__(self, wizard: ImportWizard):
        super().__init__()
        self.w = wizard
        self.task: Task | None = None
        self.result = None
        self.layout_ = QVBoxLayout(self)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.layout_.addWidget(self.status)
        bar = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Progress")
        self.progress.setTextVisible(True)
        bar.addWidget(self.progress, 1)
        self.stop = QPushButton("&Stop")
        self.stop.setToolTip("Stop: nothing of this import is kept")
        self.stop.clicked.connect(self.cancel)
        bar.addWidget(self.stop)
        self.layout_.addLayout(bar)
        self.message = message_label()
        self.layout_.addWidget(self.message)

    def start(self) -> None:
        self.result = None
        show_message(self.message, "")
        self.progress.setRange(0, 0)
        self.progress.show()
        self.stop.show()
        self.stop.setEnabled(True)
        self.completeChanged.emit()
        work = _import_work(self.w.db_path, self.w.fmt(), self.w.paths(), self.w.options(),
                            self.dry_run)
        self.task = task = self.w.track(Task(work, self.title(), self))
        for signal, handler in ((task.progressed, self._on_progress),
                                (task.succeeded, self._on_done),
                                (task.failed, self._on_failed),
                                (task.cancelled, self._on_cancelled),
                                (task.finished, self._on_finished)):
            signal.connect(partial(self._if_current, task, handler))
        task.start()

    def _if_current(self, task: Task, handler, *args) -> None:
        if task is self.task:                 # a run left behind by Back changes nothing here
            handler(*args)

    def running(self) -> bool:
        return self.task is not None and self.task.is_running()

    def cancel(self) -> None:
        if self.running():
            self.stop.setEnabled(False)
            self.status.setText("Stopping…")
            self.task.cancel()

    def _on_progress(self, label: str, value: int, maximum: int) -> None:
        self.status.setText(label)
        self.progress.setRange(0, max(maximum, 0))
        if maximum:
            self.progress.setValue(min(value, maximum))

    def _on_done(self, result) -> None:
        self.result = result

    def _on_failed(self, message: str) -> None:
        self.status.setText("Nothing was imported.")
        show_message(self.message, message)

    def _on_cancelled(self) -> None:
        self.status.setText("Stopped: nothing was imported, the directory is as it was.")

    def _on_finished(self) -> None:
        self.progress.hide()
        self.stop.hide()
        self.completeChanged.emit()

    def cleanupPage(self) -> None:
        self.cancel()

    def isComplete(self) -> bool:
        return self.result is not None and not self.running()


class CheckPage(_TaskPage):
    """3. A dry run: what the import would add, update and skip."""

    dry_run = True

    def __init__(self, wizard):
        super().__init__(wizard)
        self.setTitle("Check what will change")
        self.setSubTitle("A trial run: nothing is written yet.")
        self.setButtonText(QWizard.NextButton, "&Import")
        self.summary = _Summary()
        self.layout_.addWidget(self.summary)
        self.matches_label = QLabel()
        self.matches_label.setWordWrap(True)
        self.layout_.addWidget(self.matches_label)
        self.matches = _matches_table()
        self.matches.itemChanged.connect(self._on_match_toggled)
        self.layout_.addWidget(self.matches, 1)
        self.skipped = _problems_table([])
        self.layout_.addWidget(self.skipped, 1)
        self.layout_.addStretch(1)
        self._checked_for = None

    def _show_tables(self, matches: bool, skipped: bool) -> None:
        self.matches_label.setVisible(matches)
        self.matches.setVisible(matches)
        self.skipped.setVisible(skipped)
        self.layout_.setStretch(self.layout_.count() - 1, 0 if matches or skipped else 1)

    def initializePage(self) -> None:
        # the rows told apart stay so while the files and the mapping stay as they were
        key = json.dumps([self.w.fmt(), self.w.paths(), self.w.mapping_page.options()],
                         sort_keys=True, default=str)
        if key != self._checked_for:
            self.w.kept_apart.clear()
        self._checked_for = key
        self.summary.hide()
        self._show_tables(False, False)
        self.status.setText("Reading the files…")
        self.start()

    def can_keep_apart(self) -> bool:
        """Whether a matched row or card can be imported as a new contact instead."""
        return self.w.fmt() in ("csv", "vcard")

    def _on_done(self, result) -> None:
        super()._on_done(result)
        report, _ids = result
        self.status.setText("This is what the import will do:")
        self.summary.set_report(report)
        self.summary.show()
        n = len(report.matches)
        if n:
            one, many = ("row", "rows") if self.w.fmt() == "csv" else ("entry", "entries")
            rows = f"1 {one} matches a contact" if n == 1 else f"{n} {many} match contacts"
            self.matches_label.setText(
                f"{rows} already in the directory" + (
                    ": a ticked row updates its contact; untick it to import the row as a "
                    "new contact instead." if self.can_keep_apart() else
                    ": each is merged with its contact, not added again."))
        _fill_matches(self.matches, report.matches, self.can_keep_apart())
        self.matches.setEnabled(True)
        _fill_problems(self.skipped, report.skipped)
        self._show_tables(bool(n), bool(report.skipped))

    def _on_finished(self) -> None:
        self.matches.setEnabled(True)
        super()._on_finished()

    def set_kept_apart(self, source: str, line: int, apart: bool) -> None:
        """Import the row at `source`:`line` as a new contact (or merge it again), and run the
        trial again to show what that changes."""
        key = (source, line)
        if apart == (key in self.w.kept_apart):
            return
        if apart:
            self.w.kept_apart.add(key)
        else:
            self.w.kept_apart.discard(key)
        self.matches.setEnabled(False)          # one change at a time, until the trial is back
        self.status.setText("Checking again…")
        self.start()

    def _on_match_toggled(self, item: QTableWidgetItem) -> None:
        where = item.data(Qt.UserRole)
        if item.column() != 0 or not where or not (item.flags() & Qt.ItemIsUserCheckable):
            return
        self.set_kept_apart(where[0], where[1], item.checkState() != Qt.Checked)


class ImportPage(_TaskPage):
    """4. The import itself."""

    def __init__(self, wizard):
        super().__init__(wizard)
        self.setTitle("Importing")
        self.setSubTitle("The import is one transaction: stopped or failed, it changes nothing.")
        self.setCommitPage(True)
        self.setButtonText(QWizard.CommitButton, "&Report")
        self.layout_.addStretch(1)

    def initializePage(self) -> None:
        self.status.setText("Importing…")
        self.start()

    def _on_done(self, result) -> None:
        super()._on_done(result)
        self.status.setText("Import finished.")

    def _on_finished(self) -> None:
        if self.result is not None and self.w.currentPage() is self:
            self.w.next()                     # the report (and on_done) before anything else
        super()._on_finished()


class ReportPage(QWizardPage):
    """5. What the import did: counts and each skipped entry with its file and line."""

    def __init__(self, wizard):
        super().__init__()
        self.w = wizard
        self.setTitle("Import report")
        layout = QVBoxLayout(self)
        self.summary = _Summary()
        layout.addWidget(self.summary)
        self.matches_label = QLabel("Rows that matched a contact already in the directory")
        layout.addWidget(self.matches_label)
        self.matches = _matches_table()
        layout.addWidget(self.matches, 1)
        self.skipped_label = QLabel("Skipped entries")
        layout.addWidget(self.skipped_label)
        self.skipped = _problems_table([])
        layout.addWidget(self.skipped, 1)
        layout.addStretch(0)

    def initializePage(self) -> None:
        report, ids = self.w.import_page.result
        files = ", ".join(Path(f).name for f in report.files)
        self.setSubTitle(f"{files} imported.")
        self.summary.set_report(report)
        _fill_matches(self.matches, report.matches, checkable=False)
        self.matches.setVisible(bool(report.matches))
        self.matches_label.setVisible(bool(report.matches))
        _fill_problems(self.skipped, report.skipped)
        self.skipped.setVisible(bool(report.skipped))
        self.skipped_label.setVisible(bool(report.skipped))
        self.w.finish_import(report, ids)


# ---------------------------------------------------------------------------- wizard
class ImportWizard(QWizard):
    """File > Import…: file, preview and mapping, trial run, import, report."""

    imported = Signal(object, object)          # (ImportReport, changed record ids)

    def __init__(self, db_path, parent=None,
                 on_done: Callable[[object, set], None] | None = None):
        super().__init__(parent)
        self.db_path = Path(db_path)
        self.on_done = on_done
        self.report = None
        self.tasks: list[Task] = []
        self._closing = False
        # (file, line) of matched rows to import as new contacts (unticked on the check page)
        self.kept_apart: set[tuple[str, int]] = set()
        self.setWindowTitle("Import")
        self.setAccessibleName("Import wizard")
        self.setWizardStyle(QWizard.ModernStyle)
        self.setOption(QWizard.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.NoCancelButtonOnLastPage, True)
        self.file_page = FilePage(self)
        self.mapping_page = MappingPage(self)
        self.check_page = CheckPage(self)
        self.import_page = ImportPage(self)
        self.report_page = ReportPage(self)
        for page in (self.file_page, self.mapping_page, self.check_page, self.import_page,
                     self.report_page):
            self.addPage(page)
        self.resize(1040, 720)

    def paths(self) -> list[str]:
        return self.file_page.paths()

    def fmt(self) -> str | None:
        return self.file_page.fmt()

    def encoding(self) -> str:
        return self.file_page.encoding.currentData() if self.fmt() in ("csv", "vcard") else ""

    def options(self) -> dict:
        opts = self.mapping_page.options()
        if self.kept_apart and self.check_page.can_keep_apart():
            opts["no_match"] = sorted(self.kept_apart)
        return opts

    def running(self) -> bool:
        return any(t.is_running() for t in self.tasks)

    def finish_import(self, report, ids: set) -> None:
        self.report = report
        self.imported.emit(report, ids)
        if self.on_done:
            self.on_done(report, ids)

    def track(self, task: Task) -> Task:
        """Keep `task` in view: the wizard closes only once its background work has ended."""
        self.tasks.append(task)
        task.finished.connect(self._on_task_ended)
        return task

    def _on_task_ended(self) -> None:
        self.tasks = [t for t in self.tasks if t.is_running()]
        if self._closing and not self.tasks:
            QWizard.reject(self)

    def reject(self) -> None:
        """Cancel: a running import or trial run is stopped first (it then changes nothing),
        and the wizard closes when its background work has ended."""
        if self.running():
            self._closing = True
            for task in self.tasks:
                task.cancel()
            self.import_page.status.setText("Stopping…")
            return
        super().reject()


def open_import_wizard(parent, db_path, on_done=None, paths: list[str] | None = None,
                       fmt: str | None = None) -> ImportWizard:
    """Show the import wizard (window-modal, returns at once). `on_done(report, changed_ids)`
    is called after a successful import, on the GUI thread."""
    wizard = ImportWizard(db_path, parent, on_done)
    wizard.setAttribute(Qt.WA_DeleteOnClose)
    if paths:
        wizard.file_page.add_paths([str(p) for p in paths])
    if fmt:
        wizard.file_page.set_format(fmt)
    wizard.open()
    return wizard
