# SPDX-License-Identifier: GPL-3.0-or-later
"""The Conflicts page: each open conflict's values side by side, kept with one click (UI layer).

It opens its own Store on the GUI thread (resolving is a quick write). Wiring for the main
window: connect `changed` to the lists' and the Sync page's refresh, and the Sync page's
`changed` to `refresh`; call `shutdown()` before closing the database.
"""
from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..core import hlc as clock
from ..core import kinds as K
from ..core.errors import FieldcoordError
from ..core.format import local_time
from ..store.conflicts import open_conflicts, resolve
from ..sync.synclog import record_label, replica_label
from .store_page import StorePage
from .style import ERROR_STYLE

MAX_CARDS = 100                # conflicts shown at once (resolving shows the next ones)


def _show_value(value) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) or "(empty)"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_show_value(v)}" for k, v in value.items())
    text = str(value)
    return text if len(text) <= 160 else text[:157] + "…"


def _context(store, kind: K.Kind, rid: str) -> str:
    """' (of Harbor County EM)': the record a contact, duty line or part belongs to."""
    try:
        rec = store.get(rid, kind.name)
        for f in kind.fields:
            if f.type == K.REF and rec.values.get(f.name):
                return f" of {store.get(rec.values[f.name]).title}"
    except FieldcoordError:
        pass
    return ""


def _who_when(store, version) -> str:
    if not version:
        return "who and when unknown"
    hlc, site = version
    return f"{replica_label(store, site)} · {local_time(clock.to_iso(hlc))}"


class _Choice(QPushButton):
    """One value a conflict may keep, with who wrote it and when: clicking it keeps it."""

    def __init__(self, heading: str, value: str, who: str, cid: str, keep: str):
        super().__init__()
        self.cid, self.keep, self.value = cid, keep, value
        self.setAccessibleName(f"Keep {value}")
        self.setAccessibleDescription(f"{heading}; {who}")
        self.setToolTip(f"Keep this value: {value}")
        box = QVBoxLayout(self)
        box.setContentsMargins(12, 8, 12, 8)
        box.setSpacing(3)
        self.labels = []
        height = 16
        for text, scale, bold in ((heading, 0.9, False), (value, 1.25, True), (who, 0.9, False)):
            label = QLabel(text)
            label.setTextFormat(Qt.PlainText)
            label.setWordWrap(True)
            font = label.font()
            font.setPointSizeF(font.pointSizeF() * scale)
            font.setBold(bold)
            label.setFont(font)
            label.setAttribute(Qt.WA_TransparentForMouseEvents)
            box.addWidget(label)
            self.labels.append(label)
            height += label.heightForWidth(320) + 3
        self.labels[0].setForegroundRole(QPalette.PlaceholderText)
        self.setMinimumHeight(height)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Minimum)

    def text(self) -> str:                      # what a screen reader and tests read
        return "\n".join(label.text() for label in self.labels)


class ConflictCard(QFrame):
    """A record field's competing values side by side."""

    def __init__(self, page: ConflictsPage, store, group: list):
        super().__init__()
        self.setFrameShape(QFrame.StyledPanel)
        first = group[0]
        kind = K.KINDS[first.kind]
        layout = QVBoxLayout(self)
        title = QLabel()
        title.setTextFormat(Qt.RichText)
        title.setWordWrap(True)
        layout.addWidget(title)
        row = QHBoxLayout()
        self.choices: list[_Choice] = []
        what = record_label(store, kind.table, first.record) + _context(store, kind,
                                                                        first.record)
        if first.reason == "deleted":
            title.setText(f"<b>{html.escape(what[:1].upper() + what[1:])}</b> was deleted by "
                          f"{html.escape(_who_when(store, first.current_version))} while it was "
                          "edited elsewhere")
            for c in group:
                self.choices.append(_Choice("Keep the edit (restores the record)",
                                            _show_value(c.value), _who_when(store, c.version),
                                            c.id, c.id))
            self.choices.append(_Choice("Keep it deleted", "(confirm the delete)",
                                        _who_when(store, first.current_version), first.id,
                                        "current"))
        else:
            fld = kind.field_map.get(first.field)
            title.setText(f"<b>{html.escape(what[:1].upper() + what[1:])}</b> · "
                          f"{html.escape(fld.title if fld else first.field)}: "
                          f"{len(group) + 1} values written on different devices before they "
                          "synced")
            self.choices.append(_Choice("Shown now", _show_value(first.current),
                                        _who_when(store, first.current_version), first.id,
                                        "current"))
            for c in group:
                self.choices.append(_Choice("Other value", _show_value(c.value),
                                            _who_when(store, c.version), c.id, c.id))
        height = max(c.minimumHeight() for c in self.choices)
        for choice in self.choices:
            choice.setMinimumHeight(height)
            choice.clicked.connect(lambda _=False, c=choice: page.resolve(c.cid, c.keep))
            row.addWidget(choice, 1)
        layout.addLayout(row)


class ConflictsPage(StorePage):
    """Open conflicts, each with its values side by side; one click on a value keeps it."""

    changed = Signal()              # a conflict was resolved: the record changed

    def __init__(self, db_path: Path, parent: QWidget | None = None):
        super().__init__(db_path, parent)
        self.cards: list[ConflictCard] = []
        layout = QVBoxLayout(self)
        self.header = QLabel()
        self.header.setAccessibleName("Open conflicts")
        self.header.setWordWrap(True)
        layout.addWidget(self.header)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setVisible(False)
        layout.addWidget(self.message)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.NoFrame)
        layout.addWidget(self.scroll, 1)
        self.refresh()

    def refresh(self) -> None:
        """Re-read the open conflicts and rebuild the cards."""
        store = self.store()
        groups: dict = {}
        for c in open_conflicts(store):
            groups.setdefault((c.kind, c.record, c.field), []).append(c)
        body = QWidget()
        col = QVBoxLayout(body)
        self.cards = []
        for group in list(groups.values())[:MAX_CARDS]:
            card = ConflictCard(self, store, group)
            self.cards.append(card)
            col.addWidget(card)
        if not groups:
            empty = QLabel("No open conflicts. When two people change the same field before "
                           "their devices sync, both values show here until someone picks one.")
            empty.setWordWrap(True)
            col.addWidget(empty)
        col.addStretch(1)
        self.scroll.setWidget(body)
        n = len(groups)
        self.header.setText(
            f"<b>{n} open conflict{'' if n == 1 else 's'}</b>"
            + (" — click the value to keep. The choice replicates: every device then shows "
               "it." if n else "")
            + (f" Showing the first {MAX_CARDS}." if n > MAX_CARDS else ""))

    def resolve(self, cid: str, keep: str) -> bool:
        """Keep one value (`keep` is the conflict id, or 'current'); the conflict closes."""
        try:
            resolve(self.store(), cid, keep)
        except FieldcoordError as e:
            self.message.setText(f"Could not resolve: {e}")
            self.message.setVisible(True)
            return False
        self.message.setVisible(False)
        self.refresh()
        self.changed.emit()
        return True
