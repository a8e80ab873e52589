# SPDX-License-Identifier: GPL-3.0-or-later
"""File > Export…: format, file and which records, written on a worker thread (UI layer).

    open_export_dialog(parent, db_path, agency=None, search=None, ids=None, page=None)
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
)

from ..core.errors import FieldcoordError
from . import fileops
from .import_wizard.common import agency_choices, counted, message_label, show_message
from .tasks import Task

EXPORTS = (("vCard contacts and agencies (.vcf)", "vcard", None, ".vcf"),
           ("CSV contacts (.csv)", "csv", "contact", ".csv"),
           ("CSV agencies (.csv)", "csv", "agency", ".csv"),
           ("Excel workbook of contacts and agencies (.xlsx)", "xlsx", None, ".xlsx"),
           ("iCalendar events and agreement dates (.ics)", "ical", None, ".ics"),
           ("GeoJSON agencies and resources with a location", "geojson", None, ".geojson"),
           ("CHIRP radio channels (.csv)", "chirp", None, ".csv"))
# the CSV layouts (runner.LAYOUTS["csv"]) as the dialog offers them
CSV_LAYOUTS = (("fieldcoord (reads back into fieldcoord)", "fieldcoord"),
               ("Google Contacts", "google"), ("Outlook", "outlook"))
# the format the dialog starts with when opened from a page of the main window
PAGE_FORMATS = {"calendar": ("ical", None)}


def export_summary(report) -> str:
    """What an export wrote, in words: 'Exported 1 agency and 6 contacts to afpd.vcf.'"""
    parts = counted(report.written).split(", ")
    what = " and ".join([", ".join(parts[:-1]), parts[-1]] if len(parts) > 1 else parts)
    lines = [f"Exported {'nothing' if what == 'none' else what} to {report.path}."]
    lines += [f"Skipped {p}" for p in report.skipped]
    lines += report.notes
    return "\n".join(lines)


class ExportDialog(QDialog):
    """File > Export…: format, file, which records; the export runs in the background."""

    exported = Signal(object)                  # ExportReport

    def __init__(self, db_path, parent=None, agency: str | None = None,
                 search: str | None = None, ids: list[str] | None = None,
                 page: str | None = None):
        super().__init__(parent)
        self.db_path = Path(db_path)
        self.ids = list(ids or [])
        self.task: Task | None = None
        self.report = None
        self._confirmed = ""                   # a file the user agreed to replace
        self.setWindowTitle("Export")
        self.setAccessibleName("Export")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        self.format = QComboBox()
        self.format.setAccessibleName("Format")
        for label, fmt, kind, suffix in EXPORTS:
            self.format.addItem(label, (fmt, kind, suffix))
        self.format.currentIndexChanged.connect(lambda _i: self._on_format())
        form.addRow("&Format", self.format)
        self.version = QComboBox()
        self.version.setAccessibleName("vCard version")
        self.version.addItem("3.0 (phones, most mail programs)", "3.0")
        self.version.addItem("4.0", "4.0")
        self.version_label = QLabel("vCard version")
        form.addRow(self.version_label, self.version)
        self.layout_choice = QComboBox()
        self.layout_choice.setAccessibleName("CSV layout")
        for label, name in CSV_LAYOUTS:
            self.layout_choice.addItem(label, name)
        self.layout_label = QLabel("&Layout")
        self.layout_label.setBuddy(self.layout_choice)
        form.addRow(self.layout_label, self.layout_choice)
        self.name_length = QComboBox()
        self.name_length.setAccessibleName("Channel names")
        self.name_length.addItem("As stored (radios with long displays)", None)
        for n in (6, 7, 8, 10, 12):
            self.name_length.addItem(f"At most {n} characters, each unique", n)
        self.name_length.setToolTip("Radios such as the FT-60 show 6 to 8 characters: long names "
                                    "are shortened and kept apart; the full name goes in the "
                                    "comment")
        self.name_length_label = QLabel("Channel &names")
        self.name_length_label.setBuddy(self.name_length)
        form.addRow(self.name_length_label, self.name_length)
        self.time_zone = QComboBox()
        self.time_zone.setEditable(True)
        self.time_zone.setAccessibleName("Time zone")
        self.time_zone.addItem("This computer's time zone", None)
        import zoneinfo
        for name in sorted(zoneinfo.available_timezones()):
            if "/" in name and not name.startswith(("Etc/", "SystemV/", "posix/", "right/")):
                self.time_zone.addItem(name, name)
        self.time_zone.setToolTip("The zone of times typed without one (events, meetings): "
                                  "partners' calendars then show them at the right hour")
        self.time_zone_label = QLabel("&Time zone")
        self.time_zone_label.setBuddy(self.time_zone)
        form.addRow(self.time_zone_label, self.time_zone)
        row = QHBoxLayout()
        self.path = QLineEdit()
        self.path.setAccessibleName("File")
        self.path.setPlaceholderText("where to write the file")
        self.path.textChanged.connect(lambda _t: self._update_buttons())
        row.addWidget(self.path, 1)
        browse = QPushButton("&Browse…")
        browse.clicked.connect(self._on_browse)
        row.addWidget(browse)
        form.addRow("File", row)
        layout.addLayout(form)
        box = QGroupBox("Records")
        grid = QGridLayout(box)
        self.which = QButtonGroup(self)
        self.all = QRadioButton("&All")
        self.by_agency = QRadioButton("An a&gency's")
        self.agency = QComboBox()
        self.agency.setAccessibleName("Agency")
        self.by_search = QRadioButton("The current &search")
        self.search = QLineEdit(search or "")
        self.search.setAccessibleName("Search")
        self.by_ids = QRadioButton(f"The {len(self.ids)} selected record"
                                   f"{'s' if len(self.ids) != 1 else ''}")
        self.by_ids.setVisible(bool(self.ids))
        for i, w in enumerate((self.all, self.by_agency, self.by_search, self.by_ids)):
            self.which.addButton(w, i)
            grid.addWidget(w, i, 0)
        grid.addWidget(self.agency, 1, 1)
        grid.addWidget(self.search, 2, 1)
        grid.setColumnStretch(1, 1)
        layout.addWidget(box)
        self.agency.addItem("", "")
        try:
            for code, name in agency_choices(self.db_path):
                self.agency.addItem(f"{code} — {name}", code)
        except FieldcoordError:
            pass
        if agency:
            i = self.agency.findData(str(agency).strip().upper())
            if i >= 0:
                self.agency.setCurrentIndex(i)
        (self.by_ids if self.ids else self.by_search if search else
         self.by_agency if agency else self.all).setChecked(True)
        self.agency.activated.connect(lambda _i: self.by_agency.setChecked(True))
        self.search.textEdited.connect(lambda _t: self.by_search.setChecked(True))
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Progress")
        self.progress.hide()
        layout.addWidget(self.progress)
        self.message = message_label()
        layout.addWidget(self.message)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.result.setAccessibleName("Result")
        self.result.hide()
        layout.addWidget(self.result)
        line = QFrame()
        line.setFrameShape(QFrame.HLine)
        line.setFrameShadow(QFrame.Sunken)
        layout.addWidget(line)
        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton("&Export", QDialogButtonBox.AcceptRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.Close)
        self.export_button.clicked.connect(self.start)
        self.close_button.clicked.connect(self.reject)
        layout.addWidget(self.buttons)
        self._on_format()
        if page in PAGE_FORMATS:
            self.set_format(*PAGE_FORMATS[page])

    def choice(self) -> tuple[str, str | None, str]:
        return self.format.currentData()

    def set_format(self, fmt: str, kind: str | None = None) -> None:
        for i in range(self.format.count()):
            f, k, _s = self.format.itemData(i)
            if f == fmt and (kind is None or k == kind):
                self.format.setCurrentIndex(i)
                return

    def _on_format(self) -> None:
        fmt, _kind, suffix = self.choice()
        self.version.setVisible(fmt == "vcard")
        self.version_label.setVisible(fmt == "vcard")
        self.layout_choice.setVisible(fmt == "csv")
        self.layout_label.setVisible(fmt == "csv")
        for w in (self.name_length, self.name_length_label):
            w.setVisible(fmt == "chirp")
        for w in (self.time_zone, self.time_zone_label):
            w.setVisible(fmt == "ical")
        text = self.path.text().strip()
        if not text:
            self.path.setText(str(Path(fileops.start_folder()) / f"fieldcoord{suffix}"))
        else:
            p = Path(text)
            if p.suffix.lower() in {s for *_x, s in EXPORTS} and p.suffix.lower() != suffix:
                self.path.setText(str(p.with_suffix(suffix)))

    def _on_browse(self) -> None:
        label, suffix = self.format.currentText(), self.choice()[2]
        path = fileops.save_file_name(self, f"Export {label}", self.path.text(),
                                      f"{label} (*{suffix});;All files (*)")
        if path:
            self._confirmed = path             # the file dialog asked about replacing it
            self.path.setText(path)

    def options(self) -> dict:
        fmt, kind, _suffix = self.choice()
        opts: dict = {}
        if kind:
            opts["kind"] = kind
        if fmt == "vcard":
            opts["vcard_version"] = self.version.currentData()
        if fmt == "csv":
            opts["layout"] = self.layout_choice.currentData()
        if fmt == "chirp" and self.name_length.currentData():
            opts["name_length"] = self.name_length.currentData()
        if fmt == "ical":
            zone = self.time_zone.currentText().strip()
            if zone and zone != self.time_zone.itemText(0):
                opts["time_zone"] = zone            # checked by the exporter, named if unknown
        if self.by_agency.isChecked():
            if not self.agency.currentData():
                raise FieldcoordError("choose the agency whose records to export")
            opts["agency"] = self.agency.currentData()
        elif self.by_search.isChecked():
            if not self.search.text().strip():
                raise FieldcoordError("type the search whose results to export")
            opts["search"] = self.search.text().strip()
        elif self.by_ids.isChecked():
            opts["ids"] = list(self.ids)
        return opts

    def _update_buttons(self) -> None:
        running = self.task is not None and self.task.is_running()
        self.export_button.setEnabled(not running and bool(self.path.text().strip()))
        self.close_button.setText("Cancel" if running else "Close")

    def start(self) -> Task | None:
        """Run the export in the background; the summary shows in the dialog."""
        show_message(self.message, "")
        self.result.hide()
        path = self.path.text().strip()
        try:
            options = self.options()
            if not path:
                raise FieldcoordError("choose the file to write")
            folder = Path(path).expanduser().parent
            if not folder.is_dir():
                raise FieldcoordError(f"the folder {folder} does not exist")
        except FieldcoordError as e:
            show_message(self.message, str(e))
            return None
        fmt = self.choice()[0]
        db = self.db_path
        target = str(Path(path).expanduser())
        if Path(target).exists() and self._confirmed != target and QMessageBox.question(
                self, "Export", f"{Path(target).name} exists already. Replace it?",
                QMessageBox.Yes | QMessageBox.No, QMessageBox.No) != QMessageBox.Yes:
            return None
        self._confirmed = target

        def work(progress, cancel):
            from ..interop.runner import run_export
            from ..store import Store
            with Store.open(db) as store:
                return run_export(store, fmt, target, options, progress=progress,
                                  cancelled=cancel.is_set)

        self.progress.setRange(0, 0)
        self.progress.show()
        self.task = Task(work, "Exporting", self)
        self.task.progressed.connect(self._on_progress)
        self.task.succeeded.connect(self._on_done)
        self.task.failed.connect(lambda m: show_message(self.message, f"Nothing was exported: {m}"))
        self.task.cancelled.connect(lambda: show_message(self.message, "Export stopped."))
        self.task.finished.connect(self._on_finished)
        self.task.start()
        self._update_buttons()
        return self.task

    def _on_progress(self, label: str, value: int, maximum: int) -> None:
        self.progress.setRange(0, max(maximum, 0))
        if maximum:
            self.progress.setValue(min(value, maximum))
        self.progress.setFormat(f"{label}: %v of %m")

    def _on_done(self, report) -> None:
        self.report = report
        self.result.setText(export_summary(report))
        self.result.show()
        self.exported.emit(report)

    def _on_finished(self) -> None:
        self.progress.hide()
        self._update_buttons()

    def reject(self) -> None:
        if self.task is not None and self.task.is_running():
            self.task.cancel()
            return
        super().reject()


def open_export_dialog(parent, db_path, agency: str | None = None, search: str | None = None,
                       ids: list[str] | None = None, page: str | None = None) -> ExportDialog:
    """Show the export dialog (window-modal, returns at once), preset to an agency's records,
    a search's results or selected record ids when given; `page`, the main window's page it
    is opened from, picks the format to start with (the Calendar page: iCalendar)."""
    dialog = ExportDialog(db_path, parent, agency=agency, search=search, ids=ids, page=page)
    dialog.setAttribute(Qt.WA_DeleteOnClose)
    dialog.open()
    return dialog
