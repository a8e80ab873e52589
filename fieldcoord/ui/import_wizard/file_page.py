# SPDX-License-Identifier: GPL-3.0-or-later
"""The import wizard's first page: the files and their format (UI layer)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWizardPage,
)

from ...core.errors import FieldcoordError
from ...interop.preview import FORMATS, guess_format
from .. import fileops
from .common import ENCODINGS, FILE_FILTER, message_label, show_message

if TYPE_CHECKING:
    from . import ImportWizard


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
