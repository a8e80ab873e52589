# SPDX-License-Identifier: GPL-3.0-or-later
"""The detail pane: a record's fields and related records, and the contact card (UI layer).

For a contact or an agency the pane opens with the card a liaison needs on the phone: 24/7
lines first, each number one click from the clipboard, call sign and radio channels, when the
numbers were last verified (a stale badge past the configured number of days) and one click
to mark them verified today.
"""
from __future__ import annotations

import html

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core import kinds as K
from ..core import workflow
from ..core.errors import FieldcoordError, ValidationError
from ..core.format import local_time
from ..store import identity
from ..store.alerts import Thresholds
from . import ops, present
from .present import Line, Namer
from .style import OK_COLOR

DUTY_TEXT = {"24/7": "24/7", "office_hours": "office hours", "after_hours": "after hours"}
KIND_TEXT = {"phone": "Phone", "mobile": "Mobile", "satellite_phone": "Sat phone",
             "email": "Email", "call_sign": "Call sign", "pager": "Pager", "fax": "Fax",
             "other": "Other"}


def stale_days(store) -> int:
    """Days after which a contact's numbers count as stale (the alert thresholds kept with the
    database, default 180)."""
    return Thresholds.load(store.conn).stale_days if store is not None \
        else present.STALE_DAYS


def _badge(text: str, role: str) -> QLabel:
    """A small coloured tag; colours chosen to read on light and dark palettes."""
    colours = {"stale": ("#b3261e", "#ffffff"), "duty": ("#1b6e3a", "#ffffff"),
               "ok": ("#2e5d8a", "#ffffff"), "deleted": ("#6b6b6b", "#ffffff"),
               "scope": ("#5a4a8a", "#ffffff")}
    bg, fg = colours[role]
    label = QLabel(text)
    label.setStyleSheet(f"QLabel {{ background: {bg}; color: {fg}; border-radius: 3px; "
                        "padding: 1px 6px; font-weight: 600; }")
    label.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Fixed)
    return label


def scope_text(scope: str) -> str:
    if scope == "private":
        return "private to this agency"
    if scope in ("all", "all+edit"):
        return "shared with all partners" + (", who may edit" if scope.endswith("+edit") else "")
    codes, _, edit = scope.partition("+")
    return f"shared with {codes.replace(',', ', ')}" + (", who may edit" if edit else "")


# Who wrote a record's fields (identity.writers), for the detail pane's "Last written by" line.
WRITER_COLUMNS = {"": "Created (and fields not changed since)", "_cl": "Deleted or restored",
                  "owner": "Owner", "scope": "Sharing"}
NOT_VERIFIED_TIP = ("Not verified: the writer's certificate could not be checked on this device. "
                    "Its agency's key is not confirmed here yet (Sync > Keys), or its agency has "
                    "not certified the device. Its agency is not shown because it could not be "
                    "checked.")


def _writer_name(w: dict, store) -> str:
    name = (w.get("device") or "an unknown device") + (f" of {w['agency']}" if w.get("agency")
                                                       else "")
    if w.get("verified") and w.get("device") == store.device and w.get("agency") == store.home:
        name += " (this device)"
    return name


def _mark(verified: bool) -> str:
    return (f"<span style='color:{OK_COLOR}'>✓ signature verified</span>" if verified else
            "<span style='color:#9a6700'>⚠ signature not verified</span>")


def writers_summary(store, kind: K.Kind, writers: dict, last_device: str | None
                    ) -> tuple[str, str]:
    """(rich text, tooltip) for who wrote a record: the writer of its last change (the device
    the record names) with its verified mark, and each field's writer in the tooltip."""
    if writers.get("_cl") is not None and writers.get("_cl") == writers.get(""):
        # written with the record when it was created: not a deletion or a restore
        writers = {c: w for c, w in writers.items() if c != "_cl"}
    if not writers:
        return "", ""
    key = lambda w: (w.get("device"), w.get("agency"), bool(w.get("verified")))  # noqa: E731
    distinct = {key(w): w for w in writers.values()}
    last = next((w for w in writers.values() if w.get("device") == last_device), None)
    if last is None:
        counts: dict = {}
        for w in writers.values():
            counts[key(w)] = counts.get(key(w), 0) + 1
        last = distinct[max(counts, key=counts.get)]
    text = (f"{'Last written' if len(distinct) > 1 else 'Written'} by "
            f"{html.escape(_writer_name(last, store))} {_mark(bool(last.get('verified')))}")
    if any(not w.get("verified") for w in writers.values()) and last.get("verified"):
        text += " · <span style='color:#9a6700'>some fields' signatures not verified</span>"
    tip = ["Who wrote each field:"]
    for col, w in writers.items():
        fld = kind.field_map.get(col)
        title = fld.title if fld else WRITER_COLUMNS.get(col, col)
        tip.append(f"{title}: {_writer_name(w, store)} "
                   + ("✓ signature verified" if w.get("verified") else
                      "⚠ signature not verified"))
    if any(not w.get("verified") for w in writers.values()):
        tip += ["", NOT_VERIFIED_TIP]
    return text, "\n".join(tip)


# Records to add from a record's details: kind, the field pointing back, what the menu says.
CHILD_KINDS = {k.name: tuple((p.kind, p.field, p.add) for p in k.parts if p.add)
               for k in K.KINDS.values() if any(p.add for p in k.parts)}
# Records that have no page of their own: edited and deleted from their parent's details.
EDITED_HERE = tuple(k.name for k in K.KINDS.values() if k.page is None)


class ContactCard(QFrame):
    """Lines to call, with copy buttons, and the verified state; for contacts and agencies."""

    copied = Signal(str)            # the text put on the clipboard
    verified = Signal(set)          # ids of the lines marked verified
    edit_requested = Signal(str)    # a line's id
    delete_requested = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFrameShape(QFrame.StyledPanel)
        self.setAccessibleName("Contact card")
        self.store = None
        self.lines: list[Line] = []
        self.copy_buttons: list[QToolButton] = []
        outer = QVBoxLayout(self)
        outer.setContentsMargins(10, 8, 10, 8)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(10)
        self.grid.setVerticalSpacing(2)
        self.grid.setColumnStretch(1, 1)
        outer.addLayout(self.grid)
        self.extra = QLabel()
        self.extra.setTextFormat(Qt.RichText)
        self.extra.setWordWrap(True)
        self.extra.setTextInteractionFlags(Qt.TextSelectableByMouse)
        outer.addWidget(self.extra)
        row = QHBoxLayout()
        self.verified_label = QLabel()
        self.verified_label.setAccessibleName("Last verified")
        self.stale_badge = _badge("STALE", "stale")
        self.stale_badge.setAccessibleName("Stale")
        self.verify_button = QPushButton("Mark verified today")
        self.verify_button.setAccessibleName("Mark verified today")
        self.verify_button.setToolTip("I just checked these numbers: set their last-verified "
                                      "date to today")
        self.verify_button.clicked.connect(self._on_verify)
        row.addWidget(self.verified_label)
        row.addWidget(self.stale_badge)
        row.addStretch(1)
        row.addWidget(self.verify_button)
        outer.addLayout(row)

    def show_lines(self, store, lines: list[Line], extra_html: str = "",
                   agency_lines: list[Line] | None = None) -> None:
        self.store = store
        self.lines = lines
        while self.grid.count():
            w = self.grid.takeAt(0).widget()
            if w:
                w.deleteLater()
        self.copy_buttons = []
        r = 0
        for heading, group in (("", lines), ("Agency lines", agency_lines or [])):
            if not group:
                continue
            if heading and lines:
                h = QLabel(f"<b>{heading}</b>")
                self.grid.addWidget(h, r, 0, 1, 5)
                r += 1
            for ln in group:
                r += self._add_line(r, ln)
        if not lines and not agency_lines:
            self.grid.addWidget(QLabel("No numbers or addresses yet."), 0, 0)
        self.extra.setText(extra_html)
        self.extra.setVisible(bool(extra_html))
        self._show_verified()

    def _add_line(self, r: int, ln: Line) -> int:
        """Two grid rows: kind, number, duty, Copy; then the line's label. Returns rows used."""
        kind = QLabel(KIND_TEXT.get(ln.kind, ln.kind))
        kind.setForegroundRole(QPalette.PlaceholderText)   # muted text
        self.grid.addWidget(kind, r, 0)
        value = QLabel(f"<span style='font-size:11pt; font-weight:600'>{html.escape(ln.shown)}"
                       "</span>")
        value.setTextInteractionFlags(Qt.TextSelectableByMouse)
        value.setAccessibleName(f"{KIND_TEXT.get(ln.kind, ln.kind)} {ln.shown}")
        value.setToolTip(ln.shown)
        # a long address may be cut in a narrow pane; the Copy button must stay in view
        value.setMinimumWidth(40)
        value.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.grid.addWidget(value, r, 1)
        if ln.duty == "24/7":
            self.grid.addWidget(_badge("24/7", "duty"), r, 2, Qt.AlignVCenter)
        elif ln.duty:
            self.grid.addWidget(QLabel(DUTY_TEXT.get(ln.duty, ln.duty)), r, 2)
        copy = QToolButton()
        copy.setText("Copy")
        copy.setToolTip(f"Copy {ln.copy_text} to the clipboard")
        copy.setAccessibleName(f"Copy {ln.shown}")
        copy.clicked.connect(lambda _=False, text=ln.copy_text: self._copy(text))
        self.grid.addWidget(copy, r, 3)
        self.copy_buttons.append(copy)
        if self.store is not None and self.store.may_change(ln.owner, ln.scope, "method"):
            more = QToolButton()
            more.setText("⋯")
            more.setAccessibleName(f"Change {ln.shown}")
            more.setToolTip("Edit or delete this line")
            more.setPopupMode(QToolButton.InstantPopup)
            menu = QMenu(more)
            menu.addAction("Edit…", lambda lid=ln.id: self.edit_requested.emit(lid))
            menu.addAction("Delete…", lambda lid=ln.id: self.delete_requested.emit(lid))
            more.setMenu(menu)
            self.grid.addWidget(more, r, 4)
        if not ln.label:
            return 1
        label = QLabel(html.escape(ln.label))
        label.setForegroundRole(QPalette.PlaceholderText)   # muted text
        label.setWordWrap(True)
        self.grid.addWidget(label, r + 1, 1, 1, 4)
        return 2

    def _copy(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)
        self.copied.emit(text)

    def _show_verified(self) -> None:
        last = present.last_verified(self.lines)
        days = present.days_since(last)
        limit = stale_days(self.store)
        if last is None:
            text = "Never verified"
        else:
            text = f"Last verified {last} ({days} day{'s' if days != 1 else ''} ago)"
        self.verified_label.setText(text)
        self.stale_badge.setVisible(bool(self.lines) and present.is_stale(last, limit))
        self.stale_badge.setToolTip(f"Not verified in the last {limit} days")
        self.verify_button.setVisible(bool(self.lines))

    def _on_verify(self) -> None:
        if not self.lines or self.store is None:
            return
        lines = [ln.id for ln in self.lines]
        outcome = ops.run(self.store, "Mark verified",
                          lambda s: present.mark_verified(s, lines, s.home),
                          on_error=self.verified_label.setText)
        if outcome is None:
            return
        ids = outcome.changes.ids
        for ln in self.lines:
            ln.verified_on = present.dt.date.today().isoformat()
        self._show_verified()
        self.verified.emit(ids)


class DetailPane(QWidget):
    """The selected record: header, card (contacts, agencies), fields and related records."""

    open_requested = Signal(str)          # a related record's id
    edit_requested = Signal(str)
    delete_requested = Signal(str)
    restore_requested = Signal(str)
    add_requested = Signal(str, dict)     # kind, preset values
    step_requested = Signal(str, str)     # a request's id, the workflow state to move it to
    changed = Signal(set)                 # ids written from the pane (mark verified)
    copied = Signal(str)

    def __init__(self, store, parent=None):
        super().__init__(parent)
        self.store = store
        self.record = None
        self.setAccessibleName("Record details")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.title = QLabel()
        self.title.setTextFormat(Qt.RichText)
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout.addWidget(self.title)
        badges = QHBoxLayout()
        self.scope_badge = _badge("", "scope")
        self.deleted_badge = _badge("DELETED", "deleted")
        badges.addWidget(self.scope_badge)
        badges.addWidget(self.deleted_badge)
        badges.addStretch(1)
        layout.addLayout(badges)
        self.writer_label = QLabel()
        self.writer_label.setAccessibleName("Last written by")
        self.writer_label.setTextFormat(Qt.RichText)
        self.writer_label.setWordWrap(True)
        layout.addWidget(self.writer_label)
        buttons = QHBoxLayout()
        self.edit_button = QPushButton("Edit")
        self.edit_button.setAccessibleName("Edit record")
        self.delete_button = QPushButton("Delete")
        self.restore_button = QPushButton("Restore")
        self.add_button = QPushButton()
        for b in (self.edit_button, self.delete_button, self.restore_button, self.add_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        # a resource request's next steps (core.workflow), one button each
        self.steps_box = QWidget()
        self.steps_box.setAccessibleName("Next steps")
        self.steps_layout = QHBoxLayout(self.steps_box)
        self.steps_layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.steps_box)
        self.edit_button.clicked.connect(lambda: self.record and self.edit_requested.emit(
            self.record.id))
        self.delete_button.clicked.connect(lambda: self.record and self.delete_requested.emit(
            self.record.id))
        self.restore_button.clicked.connect(lambda: self.record and self.restore_requested.emit(
            self.record.id))
        self.add_button.clicked.connect(self._on_add_child)
        self.card = ContactCard()
        self.card.extra.linkActivated.connect(
            lambda url: url.startswith("fc:") and self.open_requested.emit(url[3:]))
        self.card.verified.connect(self._on_verified)
        self.card.edit_requested.connect(self.edit_requested)
        self.card.delete_requested.connect(self.delete_requested)
        self.card.copied.connect(self.copied)
        layout.addWidget(self.card)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.setAccessibleName("Fields and related records")
        self.browser.anchorClicked.connect(self._on_link)
        self.browser.setFrameShape(QFrame.NoFrame)
        layout.addWidget(self.browser, 1)
        self.clear()

    def clear(self) -> None:
        self.record = None
        self.title.setText("<p style='color:gray'>Select a record to see its details.</p>")
        for w in (self.scope_badge, self.deleted_badge, self.edit_button, self.delete_button,
                  self.restore_button, self.add_button, self.card, self.writer_label,
                  self.steps_box):
            w.hide()
        self.browser.clear()

    def show_record(self, rid: str) -> None:
        try:
            rec = self.store.get(rid)
        except ValidationError:
            self.clear()
            return
        self.record = rec
        kind = K.KINDS[rec.kind]
        namer = Namer(self.store)
        sub = kind.label.capitalize()
        if rec.kind == "contact":
            bits = [rec.values.get("title"), rec.values.get("ics_position")]
            if rec.values.get("agency"):
                agency = self.store.get(rec.values["agency"])
                bits.append(f"{agency.title} ({agency.values.get('code')})")
            sub = " · ".join(html.escape(str(b)) for b in bits if b) or sub
        elif rec.kind == "agency":
            v = rec.values
            sub = " · ".join(html.escape(str(b)).replace("_", " ") for b in
                             (v.get("code"), v.get("level"), v.get("discipline"),
                              v.get("jurisdiction")) if b)
        title = rec.title or "—"
        if len(title) > 90:
            title = title[:88].rsplit(" ", 1)[0] + " …"
        self.title.setText(f"<h2 style='margin-bottom:2px'>{html.escape(title)}</h2>"
                           f"<div>{sub}</div>")
        self.scope_badge.setText(f"{rec.owner} · {scope_text(rec.scope)}")
        self.scope_badge.setToolTip(f"Owner {rec.owner}; scope '{rec.scope}'")
        self.scope_badge.show()
        self.deleted_badge.setVisible(rec.deleted)
        self._show_writers(rec, kind)
        may = self.store.may_change(rec.owner, rec.scope, rec.kind)
        self.edit_button.setVisible(not rec.deleted)
        self.edit_button.setEnabled(may)
        self.delete_button.setVisible(not rec.deleted)
        self.delete_button.setEnabled(may)
        self.restore_button.setVisible(rec.deleted)
        self.restore_button.setEnabled(may)
        children = CHILD_KINDS.get(rec.kind, ())
        self.add_button.setVisible(bool(children) and not rec.deleted)
        if children:
            self.add_button.setText(f"Add {children[0][2]}" if len(children) == 1 else "Add…")
            menu = QMenu(self.add_button) if len(children) > 1 else None
            for child_kind, column, label in children if menu else ():
                menu.addAction(label.capitalize(), lambda k=child_kind, c=column:
                               self.add_requested.emit(k, {c: rec.id}))
            self.add_button.setMenu(menu)
        self._show_steps(rec, may)
        if rec.kind in ("contact", "agency"):
            self._show_card(rec, namer)
        else:
            self.card.hide()
        self.browser.setHtml(self._fields_html(rec, kind, namer))

    def _show_steps(self, rec, may: bool) -> None:
        while self.steps_layout.count():
            item = self.steps_layout.takeAt(0)
            w = item.widget()
            if w is not None:
                w.setParent(None)
                w.deleteLater()
        nexts = workflow.next_states(rec.values.get("status")) \
            if rec.kind == "request" and not rec.deleted else ()
        self.steps_box.setVisible(bool(nexts))
        if not nexts:
            return
        label = QLabel("Next step:")
        self.steps_layout.addWidget(label)
        for state in nexts:
            b = QPushButton(workflow.VERBS[state])
            b.setAccessibleName(f"Move the request to {workflow.label(state)}")
            b.setEnabled(may)
            if not may:
                b.setToolTip(f"{rec.owner} does not let partners change this request")
            b.clicked.connect(lambda _c=False, r=rec.id, st=state:
                              self.step_requested.emit(r, st))
            self.steps_layout.addWidget(b)
        self.steps_layout.addStretch(1)

    def _history_html(self, rec) -> str:
        """A request's steps: when, what, and the agency and device that made each."""
        steps = self.store.request_history(rec.id)
        if not steps:
            return ""
        rows = []
        for st in steps:
            move = (f"{workflow.label(st.before)} → " if st.before else "recorded as ") \
                + workflow.label(st.status)
            rows.append(f"<tr><td style='padding-right:12px; color:gray'>"
                        f"{html.escape(local_time(st.at))}</td><td style='padding-right:12px'>"
                        f"{html.escape(move)}</td><td>{html.escape(st.who)}</td></tr>")
        return ("<h4 style='margin-bottom:2px'>History</h4><table cellspacing='2'>"
                + "".join(rows) + "</table>")

    def _show_writers(self, rec, kind: K.Kind) -> None:
        """"Last written by laptop-2 of CCF ✓ verified", each field's writer in the tooltip."""
        try:
            writers = identity.writers(self.store, kind.table, rec.id)
        except FieldcoordError:
            writers = {}
        text, tip = writers_summary(self.store, kind, writers, rec.device)
        self.writer_label.setText(text)
        self.writer_label.setToolTip(tip)
        self.writer_label.setVisible(bool(text))

    def _show_card(self, rec, namer: Namer) -> None:
        if rec.kind == "contact":
            lines = present.lines_of(self.store, rec.id, "contact")
            agency_id = rec.values.get("agency")
            agency_lines = [ln for ln in present.lines_of(self.store, agency_id, "agency")
                            if ln.duty == "24/7"] if agency_id else []
        else:
            lines = present.lines_of(self.store, rec.id, "agency")
            agency_id, agency_lines = rec.id, []
        extra = []
        if agency_id:
            chans = self.store.list("channel", {"agency": agency_id}, limit=6)
            if chans:
                text = ", ".join(
                    f"<a href='fc:{c.id}'>{html.escape(c.title)}</a>"
                    + (f" ({present.display_number(c.values['rx_freq'])} MHz)"
                       if c.values.get("rx_freq") else "") for c in chans)
                extra.append(f"<b>Radio</b> {text}")
        self.card.show_lines(self.store, lines, "<br>".join(extra), agency_lines)
        self.card.show()

    def _fields_html(self, rec, kind: K.Kind, namer: Namer) -> str:
        rows = []
        for f in kind.fields:
            value = rec.values.get(f.name)
            if value in (None, ""):
                continue
            if f.type == K.REF:
                title, deleted = namer.title(value, f.ref)
                shown = f"<a href='fc:{value}'>{html.escape(title)}</a>" + \
                    (" (deleted)" if deleted else "")
            elif f.type == K.REFS:
                shown = ", ".join(f"<a href='fc:{v}'>{html.escape(namer.title(v, f.ref)[0])}</a>"
                                  for v in value)
            elif f.type == K.URL:
                shown = f"<a href='{html.escape(str(value))}'>{html.escape(str(value))}</a>"
            else:
                shown = html.escape(namer.value(kind, f, value)).replace("\n", "<br>")
            rows.append(f"<tr><td style='padding-right:12px; color:gray' valign='top'>"
                        f"{html.escape(f.title)}</td><td>{shown}</td></tr>")
        rows.append(f"<tr><td style='padding-right:12px; color:gray'>Updated</td>"
                    f"<td>{html.escape(rec.updated_at or '')} on "
                    f"{html.escape(rec.device or '?')}</td></tr>")
        out = ["<table cellspacing='2'>", *rows, "</table>"]
        if rec.kind == "request":
            out.append(self._history_html(rec))
        for heading, recs, total in present.related(self.store, rec):
            if not recs:
                continue
            out.append(f"<h4 style='margin-bottom:2px'>{html.escape(heading)} ({total})</h4><ul "
                       "style='margin-top:0'>")
            for r in recs:
                tools = ""
                if r.kind in EDITED_HERE and self.store.may_change(r.owner, r.scope, r.kind):
                    tools = (f" &nbsp;<a href='fcedit:{r.id}'>edit</a> · "
                             f"<a href='fcdelete:{r.id}'>delete</a>")
                out.append(f"<li>{self._related_item(r, namer, rec.id)}{tools}</li>")
            if total > len(recs):
                out.append(f"<li><i>and {total - len(recs)} more</i></li>")
            out.append("</ul>")
        return "".join(out)

    def _related_item(self, r, namer: Namer, shown_id: str) -> str:
        k = K.KINDS[r.kind]
        link_field = present.link_field(r, shown_id)
        if link_field:
            target = r.values[link_field]
            title = namer.title(target, k.field_map[link_field].ref)[0]
            bits = [r.values.get(x) for x in ("function", "role", "activation_status",
                                               "signatory", "zone") if r.values.get(x)]
            more = " — " + ", ".join(str(b).replace("_", " ") for b in bits) if bits else ""
            return f"<a href='fc:{target}'>{html.escape(title)}</a>{html.escape(more)}"
        title = r.title or r.id
        if r.kind in ("member", "participant", "role", "party"):
            title = namer.title(r.values.get("agency") or "", "agency")[0]
        bits = [r.values.get(x) for x in ("title", "type_name", "status", "happened_at",
                                           "priority") if r.values.get(x)]
        more = " — " + ", ".join(str(b).replace("_", " ").replace("T", " ") for b in bits) \
            if bits else ""
        return f"<a href='fc:{r.id}'>{html.escape(str(title)[:120])}</a>{html.escape(more)}"

    def _on_link(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith("fc:"):
            self.open_requested.emit(text[3:])
        elif text.startswith("fcedit:"):
            self.edit_requested.emit(text[7:])
        elif text.startswith("fcdelete:"):
            self.delete_requested.emit(text[9:])
        else:
            from PySide6.QtGui import QDesktopServices
            QDesktopServices.openUrl(url)

    def _on_add_child(self) -> None:
        rec = self.record
        children = CHILD_KINDS.get(rec.kind, ()) if rec else ()
        if len(children) == 1:
            kind, column, _ = children[0]
            self.add_requested.emit(kind, {column: rec.id})

    def _on_verified(self, ids: set) -> None:
        self.changed.emit(ids)
