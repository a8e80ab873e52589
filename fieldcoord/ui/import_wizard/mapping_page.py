# SPDX-License-Identifier: GPL-3.0-or-later
"""The import wizard's second page: a preview of the first rows, the column mapping and the
import options (UI layer)."""
from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizardPage,
)

from ...core import kinds as K
from ...core.errors import FieldcoordError
from ...interop import csv_table
from ...interop.preview import FORMATS, Preview, preview, target_fields
from ..editors import ScopeEditor
from ..style import ERROR_STYLE
from ..tasks import Task
from .common import NOT_MAPPED, agency_choices, fill_table, make_table, message_label, show_message

if TYPE_CHECKING:
    from . import ImportWizard


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
        self.rows = make_table([])
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
        fill_table(self.rows, columns, pv.rows)
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
        self.message.setStyleSheet(ERROR_STYLE)
        show_message(self.message, message)
        fill_table(self.rows, [], [])
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
            self.message.setStyleSheet(ERROR_STYLE)
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
                self.message.setStyleSheet(ERROR_STYLE)
                title = kind.field_map[kind.title_field].title.lower()
                show_message(self.message,
                             f"Choose the column that holds the {kind.label}'s {title}.")
                return False
        return True
