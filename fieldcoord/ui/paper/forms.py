# SPDX-License-Identifier: GPL-3.0-or-later
"""Painting ICS forms 205, 205A, 213 RR and 214: PDF files and printers (ui.paper, Qt GUI).

The content comes from fieldcoord.interop.icsforms and the measures from paper.layout; this
module draws it like the FEMA form: a title line, bordered numbered blocks, tables with a grid
and a heading row, and a footer "ICS 205, Page N of M".
"""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QMarginsF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFontMetricsF,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
)

from ...core.errors import FieldcoordError, ValidationError
from ...interop.icsforms import (
    FORMS,
    Block,
    Entry,
    Form,
    Options,
    Row,
    Table,
    build_forms,
    check_form,
)
from ...interop.report import ExportReport
from .layout import (
    BAND_FILL,
    BAND_W,
    CELL_PT,
    COLHEAD_FILL,
    COLHEAD_PT,
    FOOT_H,
    HEAD_PT,
    HEADING_FILL,
    LABEL_PT,
    MARGIN_IN,
    PAD,
    TITLE_PT,
    VALUE_PT,
    Page,
    Placed,
    Writer,
    ensure_app,
    entry_rows,
    paginate,
    row_height,
    shares_to_widths,
)


class _Painter:
    def __init__(self, painter: QPainter, w: Writer, width: float, height: float):
        self.p = painter
        self.w = w
        self.k = w.k
        self.width = width
        self.height = height

    def r(self, x, y, width, height) -> QRectF:
        k = self.k
        return QRectF(x * k, y * k, width * k, height * k)

    def pen(self, width: float = 0.6) -> None:
        self.p.setPen(QPen(QColor(0, 0, 0), width * self.k))

    def box(self, x, y, width, height, fill: QColor | None = None, pen: float = 0.6) -> None:
        self.pen(pen)
        self.p.setBrush(fill if fill is not None else Qt.NoBrush)
        self.p.drawRect(self.r(x, y, width, height))
        self.p.setBrush(Qt.NoBrush)

    def text(self, parts, x, y, width, align=Qt.AlignLeft, max_height=None) -> float:
        lay, h = self.w.layout(parts, width, align, max_height)
        self.p.setPen(QColor(0, 0, 0))
        if max_height is not None:
            self.p.save()
            self.p.setClipRect(self.r(x, y, width, max_height + 0.5))
        lay.draw(self.p, QPointF(x * self.k, y * self.k))
        if max_height is not None:
            self.p.restore()
        return h

    def line(self, x1, y1, x2, y2, width=0.4) -> None:
        self.pen(width)
        self.p.drawLine(QPointF(x1 * self.k, y1 * self.k), QPointF(x2 * self.k, y2 * self.k))

    # -------------------------------------------------------------- blocks
    def block(self, block: Block, x, y, width, height) -> None:
        self.box(x, y, width, height)
        w = self.w
        inner = width - 2 * PAD
        parts = [(block.heading, w.font(HEAD_PT, True))]
        if block.value:
            parts.append((" " + block.value, w.font(VALUE_PT)))
        cy = y + PAD + self.text(parts, x + PAD, y + PAD, inner)
        if block.entries:
            cols = max(1, block.columns)
            cw = inner / cols
            lh = w.line_height(w.font(VALUE_PT)) + 3
            for i, entry in enumerate(block.entries):
                ex = x + PAD + (i % cols) * cw
                ey = cy + (i // cols) * lh
                self.entry(entry, ex, ey, cw - 6, lh)
            cy += entry_rows(block) * lh
        if block.text:
            self.text([(block.text, w.font(VALUE_PT))], x + PAD, cy, inner,
                      max_height=y + height - cy - PAD)

    def entry(self, entry: Entry, x, y, width, h) -> None:
        w = self.w
        label_font, value_font = w.font(LABEL_PT), w.font(VALUE_PT)
        base = y + h - 2.5
        cx = x
        if entry.label:
            label = entry.label + ":"
            self.text([(label, label_font)], cx, y + 1.2, width)
            cx += w.advance(label, label_font) + 3
        if entry.choices:
            size = 7.0
            for choice in entry.choices:
                bx, by = cx, y + (h - size) / 2
                self.box(bx, by, size, size, pen=0.6)
                if choice.casefold() == entry.value.casefold():
                    self.line(bx + 1.2, by + 1.2, bx + size - 1.2, by + size - 1.2, 1.0)
                    self.line(bx + 1.2, by + size - 1.2, bx + size - 1.2, by + 1.2, 1.0)
                cx += size + 2.5
                self.text([(choice, value_font)], cx, y, width)
                cx += w.advance(choice, value_font) + 10
            return
        self.line(cx, base, x + width, base, 0.4)
        if entry.value:
            metrics = QFontMetricsF(value_font, w.device)
            shown = metrics.elidedText(entry.value, Qt.ElideRight, (x + width - cx - 2) * self.k)
            self.text([(shown, value_font)], cx + 1, y, x + width - cx)

    # -------------------------------------------------------------- tables
    def table_head(self, table: Table, x, y, width, h, continued: bool) -> None:
        self.box(x, y, width, h, HEADING_FILL)
        title = table.heading + (" (continued)" if continued else "")
        self.text([(title, self.w.font(HEAD_PT, True))], x + PAD, y + PAD - 0.5, width - 2 * PAD)

    def cells(self, table: Table, texts: list[str], x, y, width, h, font, fill=None,
              center_all=False) -> None:
        widths = shares_to_widths([c.width for c in table.columns], width)
        cx = x
        for col, cw, text in zip(table.columns, widths, texts):
            self.box(cx, y, cw, h, fill)
            if text:
                align = Qt.AlignHCenter if (col.center or center_all) else Qt.AlignLeft
                self.text([(text, font)], cx + PAD, y + PAD - 0.5, cw - 2 * PAD, align,
                          max_height=h - 2 * PAD + 1)
            cx += cw

    def band(self, name: str, x, y, h) -> None:
        self.box(x, y, BAND_W, h, BAND_FILL)
        font = self.w.font(HEAD_PT, True)
        tw = self.w.advance(name, font)
        self.p.save()
        self.p.translate((x + BAND_W / 2 + self.w.line_height(font) / 2 - 1.5) * self.k,
                         (y + h / 2 + tw / 2) * self.k)
        self.p.rotate(-90)
        self.p.setPen(QColor(0, 0, 0))
        self.p.setFont(font)
        self.p.drawText(QPointF(0, 0), name)
        self.p.restore()

    def row(self, row: Row, y, h) -> None:
        x0 = BAND_W if row.band else 0.0
        widths = shares_to_widths([b.width for b in row.blocks], self.width - x0)
        x = x0
        for b, bw in zip(row.blocks, widths):
            self.block(b, x, y, bw, h)
            x += bw

    # -------------------------------------------------------------- a page
    def page(self, page: Page) -> None:
        form, w = page.form, self.w
        title_font = w.font(TITLE_PT, True)
        title = f"{form.title} ({form.code})"
        self.text([(title, title_font)], 0, 0, self.width, Qt.AlignHCenter)
        y = w.line_height(title_font) + 4
        for row in form.header:
            h = row_height(w, row, self.width)
            self.row(row, y, h)
            y += h
        end = y
        for pl in page.placed:
            tx = BAND_W if pl.band else 0.0
            tw = self.width - tx
            if pl.kind == "row":
                self.row(pl.item, pl.y, pl.h)
            elif pl.kind == "table-head":
                self.table_head(pl.item, tx, pl.y, tw, pl.h, pl.continued)
            elif pl.kind == "cols":
                self.cells(pl.item, [c.label for c in pl.item.columns], tx, pl.y, tw, pl.h,
                           w.font(COLHEAD_PT, True), COLHEAD_FILL, center_all=True)
            elif pl.kind == "cells":
                self.cells(pl.item, pl.cells, tx, pl.y, tw, pl.h, w.font(CELL_PT))
            else:
                self.cells(pl.item, [""] * len(pl.item.columns), tx, pl.y, tw, pl.h, None)
            end = pl.y + pl.h
        self.bands(page)
        for row in form.footer:
            h = row_height(w, row, self.width)
            self.row(row, end, h)
            end += h
        foot_y = self.height - FOOT_H + 4
        self.line(0, foot_y - 2, self.width, foot_y - 2, 0.8)
        left = f"{form.code}, Page {page.number} of {page.count}"
        self.text([(left, w.font(8, True))], 0, foot_y, self.width / 2)
        if form.footer_note:
            self.text([(form.footer_note, w.font(LABEL_PT))], self.width / 2, foot_y + 0.8,
                      self.width / 2, Qt.AlignRight)

    def bands(self, page: Page) -> None:
        run: list[Placed] = []
        for pl in page.placed + [Placed("end", 0, 0)]:
            if run and pl.band != run[0].band:
                self.band(run[0].band, 0, run[0].y, run[-1].y + run[-1].h - run[0].y)
                run = []
            if pl.band:
                run.append(pl)


def paint_forms(device: QPagedPaintDevice, forms: list[Form],
                painter: QPainter | None = None) -> tuple[int, list[str]]:
    """Draw filled forms on a paged device (a QPdfWriter, a QPrinter), each on new pages.

    Uses `painter` when one is already active on the device, else begins and ends its own.
    Returns the number of pages drawn and notes for the user (rows shortened to fit).
    Runs on the GUI thread.
    """
    return _paint(device, forms, painter)


def _paint(device, forms, painter):
    ensure_app()
    w = Writer(device)
    width, height = device.width() / w.k, device.height() / w.k
    own = painter is None
    if own:
        painter = QPainter()
        if not painter.begin(device):
            raise FieldcoordError("cannot start printing: the output could not be opened")
    painter.setRenderHint(QPainter.Antialiasing, True)
    ptr = _Painter(painter, w, width, height)
    total, notes = 0, []
    try:
        for form in forms:
            pages, form_notes = paginate(w, form, width, height)
            notes += form_notes
            for page in pages:
                if total:
                    device.newPage()
                ptr.page(page)
                total += 1
    finally:
        if own:
            painter.end()
    return total, notes


def render_form(device: QPagedPaintDevice, store, form: str, operation: str,
                options: Options | None = None, painter: QPainter | None = None) -> int:
    """Draw an operation's ICS form on `device` (a QPrinter for File > Print); returns pages.

    Raises ValidationError for an unknown form or operation. Runs on the GUI thread (fonts).
    """
    forms = build_forms(store, form, operation, options)
    return paint_forms(device, forms, painter)[0]


def print_form(store, form: str, operation_id: str, path, options: Options | None = None
               ) -> ExportReport:
    """Write an operation's ICS form as a letter-size PDF with embedded fonts.

    `operation_id` is the operation's id or name (for ICS 213 RR also a request's id, to print
    that request only). Works without a display: a headless QGuiApplication is made when none
    exists. The file is written whole or not at all.
    """
    key = check_form(form)
    path = Path(path)
    if not path.parent.is_dir():
        raise ValidationError(f"cannot write {path}: the folder {path.parent} does not exist")
    if path.is_dir():
        raise ValidationError(f"cannot write {path}: it is a folder")
    forms = build_forms(store, key, operation_id, options)
    part = path.with_name(path.name + ".part")
    try:
        ensure_app()
        writer = QPdfWriter(str(part))
        writer.setResolution(600)
        writer.setPageLayout(QPageLayout(QPageSize(QPageSize.Letter), QPageLayout.Portrait,
                                         QMarginsF(*[MARGIN_IN * 72] * 4), QPageLayout.Point))
        writer.setTitle(f"{FORMS[key]}: {forms[0].incident}")
        writer.setCreator("fieldcoord")
        pages, notes = _paint(writer, forms, None)
        del writer                              # the file is complete once painting ends
        if not part.is_file() or part.stat().st_size == 0:
            raise FieldcoordError(f"cannot write {path}")
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    report = ExportReport(key, str(path))
    report.written["pages"] = pages
    what = {"ics205": "comms plan rows", "ics205a": "contacts", "ics213rr": "resource requests",
            "ics214": "log entries"}[key]
    report.written[what] = sum(f.rows for f in forms)
    report.notes += notes
    return report
