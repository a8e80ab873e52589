# SPDX-License-Identifier: GPL-3.0-or-later
"""Moving a resource request along its workflow from its details (UI layer): one button per
step the workflow allows next; committing picks the supplier, its resources and the agreement;
cancelling or finding it cannot be filled asks for the reason. The store judges every step
(core.workflow); a refusal is shown in the dialog, never as a traceback.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from ..core import kinds as K
from ..core import workflow
from ..core.errors import FieldcoordError
from ..store.records import Changes
from .editors import RefEditor

REQUEST = K.KINDS["request"]
_SHOWN = 400            # resources of one supplier listed at most (the filter narrows them)


class CommitDialog(QDialog):
    """Commit resources to a request: the supplying agency, which of its resources go, and
    the agreement the request runs under."""

    def __init__(self, store, record, parent=None):
        super().__init__(parent)
        self.store, self.record = store, record
        self.changes = Changes()
        v = record.values
        self.setWindowTitle(f"Commit resources — {v.get('number') or record.title}")
        self.setAccessibleName(self.windowTitle())
        outer = QVBoxLayout(self)
        what = QLabel(f"<b>{v.get('quantity') or 1} × {v.get('type') or v.get('kind') or ''}"
                      f"</b><br>{record.title}")
        what.setWordWrap(True)
        outer.addWidget(what)
        form = QFormLayout()
        self.supplier = RefEditor(store, REQUEST.field_map["supplying_agency"])
        self.supplier.setAccessibleName("Supplying agency")
        form.addRow("Supplying agency *", self.supplier)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("filter the supplier's resources")
        self.filter.setAccessibleName("Filter resources")
        self.filter.textChanged.connect(self._apply_filter)
        form.addRow("Resources", self.filter)
        self.resources = QListWidget()
        self.resources.setAccessibleName("Resources to commit")
        self.resources.setMinimumHeight(180)
        form.addRow("", self.resources)
        self.agreement = RefEditor(store, REQUEST.field_map["agreement"])
        self.agreement.setAccessibleName("Under agreement")
        form.addRow("Under agreement", self.agreement)
        outer.addLayout(form)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020")
        self.message.setAccessibleName("Problem")
        self.message.hide()
        outer.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Commit")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        outer.addWidget(buttons)
        self.supplier.currentIndexChanged.connect(lambda _i: self._load_resources())
        if v.get("supplying_agency"):
            self.supplier.set_value(v["supplying_agency"])
        if v.get("agreement"):
            self.agreement.set_value(v["agreement"])
        self._load_resources()
        self.resize(560, 520)

    def _load_resources(self) -> None:
        self.resources.clear()
        supplier = self.supplier.value()
        if not supplier:
            return
        chosen = set(self.record.values.get("committed_resources") or ())
        found = self.store.list("resource", {"agency": supplier}, limit=_SHOWN)
        # available first, then by name; out of service ones cannot be committed
        found.sort(key=lambda r: (r.id not in chosen, r.values.get("status") != "available",
                                  r.title.casefold()))
        for r in found:
            status = r.values.get("status") or ""
            kind = r.values.get("type_name") or ""
            item = QListWidgetItem(" — ".join(x for x in (r.title, kind,
                                                          status.replace("_", " ")) if x))
            item.setData(Qt.UserRole, r.id)
            flags = Qt.ItemIsUserCheckable | Qt.ItemIsEnabled
            if status == "out_of_service" and r.id not in chosen:
                flags = Qt.ItemIsUserCheckable
            item.setFlags(flags)
            item.setCheckState(Qt.Checked if r.id in chosen else Qt.Unchecked)
            self.resources.addItem(item)
        self._apply_filter(self.filter.text())

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().casefold()
        for i in range(self.resources.count()):
            item = self.resources.item(i)
            item.setHidden(bool(needle) and needle not in item.text().casefold())

    def chosen(self) -> list[str]:
        return [self.resources.item(i).data(Qt.UserRole) for i in range(self.resources.count())
                if self.resources.item(i).checkState() == Qt.Checked]

    def save(self) -> None:
        values = {"status": workflow.COMMITTED, "supplying_agency": self.supplier.value(),
                  "committed_resources": self.chosen() or None,
                  "agreement": self.agreement.value()}
        if not values["supplying_agency"]:
            self._problem("Choose the agency supplying the resources.")
            return
        try:
            _rec, self.changes = self.store.write(lambda: self.store.edit(self.record.id,
                                                                          values))
        except FieldcoordError as e:
            self._problem(str(e))
            return
        self.accept()

    def _problem(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()


def take_step(parent: QWidget, store, rid: str, state: str) -> Changes | None:
    """Move request `rid` to `state`, asking what the step needs; the changes written, or
    None when the user stopped or the store refused (said in a message)."""
    try:
        rec = store.get(rid, "request")
    except FieldcoordError as e:
        QMessageBox.warning(parent, "Resource request", str(e))
        return None
    if state == workflow.COMMITTED:
        dialog = CommitDialog(store, rec, parent)
        return dialog.changes if dialog.exec() == QDialog.Accepted else None
    values: dict = {"status": state}
    name = rec.values.get("number") or rec.title
    if state in (workflow.CANCELLED, workflow.UNABLE):
        reason, ok = QInputDialog.getText(
            parent, workflow.VERBS[state],
            f"{workflow.VERBS[state]} for {name}: why? (kept in the request's notes)")
        if not ok:
            return None
        if reason.strip():
            note = f"{workflow.label(state).capitalize()}: {reason.strip()}"
            values["notes"] = "\n".join(x for x in (rec.values.get("notes"), note) if x)
    try:
        _rec, changes = store.write(lambda: store.edit(rid, values))
    except FieldcoordError as e:
        QMessageBox.warning(parent, workflow.VERBS.get(state, "Resource request"), str(e))
        return None
    return changes
