# SPDX-License-Identifier: GPL-3.0-or-later
"""ICS forms 205, 205A, 213 RR and 214 on paper: PDF files and printers (UI layer, Qt).

    print_form(store, "ics205", operation, "plan.pdf")    # -> ExportReport; works headless
    render_form(printer, store, "ics214", operation)       # any QPagedPaintDevice, e.g. QPrinter

The content comes from fieldcoord.interop.icsforms; this module lays it out like the FEMA form:
a title line, bordered numbered blocks, tables with a grid and a heading row, and a footer
"ICS 205, Page N of M". A table that does not fit continues on the next page, where the form's
header blocks and the table's heading are repeated. Measurements are in points (1/72 inch),
scaled to the device's resolution, so the same layout serves a PDF writer and a printer.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QMarginsF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
    QTextCharFormat,
    QTextLayout,
    QTextOption,
)

from ..core.errors import FieldcoordError, ValidationError
from ..interop.icsforms import (
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
from ..interop.report import ExportReport

FAMILIES = ["Liberation Sans", "Arial", "Helvetica", "DejaVu Sans Condensed", "DejaVu Sans"]
MARGIN_IN = 0.5
PAD = 3.0                 # inside a block or a cell
TITLE_PT, HEAD_PT, VALUE_PT, LABEL_PT, CELL_PT, COLHEAD_PT = 12, 7.5, 8.5, 7, 7.5, 6.5
BLANK_ROW = 13.0          # height of an empty table row
BAND_W = 14.0             # the REQUESTOR / LOGISTICS / FINANCE band of ICS 213 RR
FOOT_H = 16.0
HEADING_FILL = QColor(225, 225, 225)
COLHEAD_FILL = QColor(242, 242, 242)
BAND_FILL = QColor(235, 235, 235)

_app = None


def ensure_app() -> None:
    """Make sure a Qt GUI application exists (fonts need one); headless when made here.

    It is a QApplication, so that widgets made later in the same process still work.
    """
    global _app
    inst = QGuiApplication.instance()
    if inst is None:
        from PySide6.QtWidgets import QApplication
        _app = QApplication(["fieldcoord", "-platform", "offscreen"])
    elif not isinstance(inst, QGuiApplication):
        raise FieldcoordError("printing needs a Qt GUI application, not a console one")


def _font(size: float, bold: bool = False) -> QFont:
    f = QFont()
    f.setFamilies(FAMILIES)
    f.setStyleHint(QFont.SansSerif)
    f.setPointSizeF(size)
    f.setBold(bold)
    if hasattr(QFont, "Tag"):           # no ligatures: text copied from the PDF stays plain
        for tag in ("liga", "clig"):
            f.setFeature(QFont.Tag(tag), 0)
    return f


# ---------------------------------------------------------------------------- text
class _Writer:
    """Measures and draws text on one device; lengths in points."""

    def __init__(self, device):
        self.device = device
        self.k = device.logicalDpiY() / 72.0
        self.fonts: dict[tuple, QFont] = {}

    def font(self, size: float, bold: bool = False) -> QFont:
        key = (size, bold)
        if key not in self.fonts:
            self.fonts[key] = _font(size, bold)
        return self.fonts[key]

    def layout(self, parts: list[tuple[str, QFont]], width: float,
               align=Qt.AlignLeft, max_height: float | None = None) -> tuple[QTextLayout, float]:
        """Wrapped text made of (text, font) runs; returns the layout and its height."""
        text = "".join(p for p, _ in parts).replace("\r\n", "\n").replace("\n", "\u2028")
        lay = QTextLayout(text, parts[0][1], self.device)
        if len(parts) > 1:
            ranges, start = [], 0
            for chunk, fnt in parts:
                r = QTextLayout.FormatRange()
                r.start, r.length = start, len(chunk)
                fmt = QTextCharFormat()
                fmt.setFont(fnt)
                r.format = fmt
                ranges.append(r)
                start += len(chunk)
            lay.setFormats(ranges)
        opt = QTextOption()
        opt.setWrapMode(QTextOption.WrapAtWordBoundaryOrAnywhere)
        opt.setAlignment(align)
        lay.setTextOption(opt)
        lay.beginLayout()
        y, w = 0.0, max(width, 4.0) * self.k
        while True:
            line = lay.createLine()
            if not line.isValid():
                break
            line.setLineWidth(w)
            if max_height is not None and y > 0 \
                    and (y + line.height()) / self.k > max_height + 0.5:
                lay.endLayout()                 # too tall: keep the lines that fit, end in "…"
                return self.layout(_cut(parts, max(line.textStart() - 2, 0)), width, align)
            line.setPosition(QPointF(0, y))
            y += line.height()
        lay.endLayout()
        return lay, y / self.k

    def height(self, text: str, font: QFont, width: float) -> float:
        return self.layout([(text or " ", font)], width)[1]

    def line_height(self, font: QFont) -> float:
        return QFontMetricsF(font, self.device).height() / self.k

    def advance(self, text: str, font: QFont) -> float:
        return QFontMetricsF(font, self.device).horizontalAdvance(text) / self.k


def _cut(parts: list[tuple[str, QFont]], length: int) -> list[tuple[str, QFont]]:
    """The first `length` characters of the runs, followed by an ellipsis."""
    out = []
    for text, font in parts:
        if length <= 0:
            break
        out.append((text[:length], font))
        length -= len(text)
    last_text, last_font = out[-1] if out else ("", parts[0][1])
    out[-1:] = [(last_text.rstrip() + "…", last_font)]
    return out


# ---------------------------------------------------------------------------- measuring
def _entry_rows(block: Block) -> int:
    if not block.entries:
        return 0
    cols = max(1, block.columns)
    return -(-len(block.entries) // cols)


def _block_height(w: _Writer, block: Block, width: float) -> float:
    inner = width - 2 * PAD
    parts = [(block.heading, w.font(HEAD_PT, True))]
    if block.value:
        parts.append((" " + block.value, w.font(VALUE_PT)))
    h = PAD + w.layout(parts, inner)[1]
    h += _entry_rows(block) * (w.line_height(w.font(VALUE_PT)) + 3)
    if block.text or block.lines:
        line = w.line_height(w.font(VALUE_PT))
        h += max(w.height(block.text, w.font(VALUE_PT), inner) if block.text else 0,
                 block.lines * line)
    return h + PAD + 1


def _row_height(w: _Writer, row: Row, width: float) -> float:
    widths = _widths([b.width for b in row.blocks], width - (BAND_W if row.band else 0))
    return max(_block_height(w, b, bw) for b, bw in zip(row.blocks, widths))


def _widths(shares: list[float], total: float) -> list[float]:
    s = sum(shares) or 1.0
    return [total * x / s for x in shares]


def _cell_height(w: _Writer, text: str, width: float) -> float:
    if not text:
        return 0.0
    return w.height(text, w.font(CELL_PT), width - 2 * PAD) + 2 * PAD - 1


def _table_heading_height(w: _Writer, table: Table, width: float) -> tuple[float, float]:
    tw = width - (BAND_W if table.band else 0)
    head = w.line_height(w.font(HEAD_PT, True)) + 2 * PAD - 1
    cols = max(w.height(c.label, w.font(COLHEAD_PT, True), cw - 2 * PAD)
               for c, cw in zip(table.columns, _widths([c.width for c in table.columns], tw)))
    return head, cols + 2 * PAD - 1


def _data_row_height(w: _Writer, table: Table, row: list[str], width: float) -> float:
    tw = width - (BAND_W if table.band else 0)
    widths = _widths([c.width for c in table.columns], tw)
    return max([BLANK_ROW] + [_cell_height(w, t, cw) for t, cw in zip(row, widths)])


# ---------------------------------------------------------------------------- pagination
@dataclass
class _Placed:
    kind: str                     # "row", "table-head", "cols", "cells", "blank"
    y: float
    h: float
    item: object = None
    cells: list[str] = field(default_factory=list)
    continued: bool = False
    band: str = ""


@dataclass
class _Page:
    form: Form
    placed: list[_Placed]
    number: int = 0
    count: int = 0


def _paginate(w: _Writer, form: Form, width: float, height: float) -> tuple[list[_Page], list]:
    """Where every row and table row of `form` goes, page by page; also notes for the user."""
    notes = []
    title_h = w.line_height(w.font(TITLE_PT, True)) + 4
    header_h = sum(_row_height(w, r, width) for r in form.header)
    footer_h = sum(_row_height(w, r, width) for r in form.footer)
    top = title_h + header_h
    bottom = height - FOOT_H - footer_h
    room = bottom - top
    if room < 6 * BLANK_ROW:
        raise ValidationError(f"{form.code}: the header blocks leave no room on the page "
                              "(is the operation's name very long?)")
    pages: list[_Page] = []
    page = _Page(form, [])
    y = top

    def new_page():
        nonlocal page, y
        pages.append(page)
        page = _Page(form, [])
        y = top

    def rest_height(index: int) -> float:
        """Least room the items after body[index] need on the same page."""
        h = 0.0
        for item in form.body[index + 1:]:
            if isinstance(item, Row):
                h += _row_height(w, item, width)
            else:
                a, b = _table_heading_height(w, item, width)
                h += a + b + sum(_data_row_height(w, item, r, width) for r in item.rows)
                h += max(0, item.min_rows - len(item.rows)) * BLANK_ROW
        return h

    for index, item in enumerate(form.body):
        if isinstance(item, Row):
            h = _row_height(w, item, width)
            if h > room:
                h = room
                notes.append(f"{form.code}: block {item.blocks[0].number} is too long for one "
                             "page and was shortened")
            if y + h > bottom + 0.01 and y > top:
                new_page()
            page.placed.append(_Placed("row", y, h, item, band=item.band))
            y += h
            continue
        head_h, cols_h = _table_heading_height(w, item, width)
        most = room - head_h - cols_h                  # the tallest row a page can hold
        heights = []
        for n, cells in enumerate(item.rows, 1):
            h = _data_row_height(w, item, cells, width)
            if h > most:
                h = most
                notes.append(f"{form.code}: row {n} of block {item.number} is too long for one "
                             "page and was shortened")
            heights.append(h)
        first = heights[0] if heights else BLANK_ROW
        if y + head_h + cols_h + first > bottom + 0.01 and y > top:
            new_page()
        page.placed.append(_Placed("table-head", y, head_h, item, band=item.band))
        page.placed.append(_Placed("cols", y + head_h, cols_h, item, band=item.band))
        y += head_h + cols_h
        for cells, h in zip(item.rows, heights):
            if y + h > bottom + 0.01:
                new_page()
                page.placed.append(_Placed("table-head", y, head_h, item, continued=True,
                                           band=item.band))
                page.placed.append(_Placed("cols", y + head_h, cols_h, item, band=item.band))
                y += head_h + cols_h
            page.placed.append(_Placed("cells", y, h, item, cells, band=item.band))
            y += h
        want = max(0, item.min_rows - len(item.rows))
        fits = int((bottom - y - rest_height(index)) // BLANK_ROW)
        for _ in range(max(0, min(want, fits))):
            page.placed.append(_Placed("blank", y, BLANK_ROW, item, band=item.band))
            y += BLANK_ROW
    _fill(page, bottom, y)
    pages.append(page)
    for i, p in enumerate(pages, 1):
        p.number, p.count = i, len(pages)
    return pages, notes


def _fill(page: _Page, bottom: float, y: float) -> None:
    """Let the last page reach its foot, as a paper form does: the growing row takes the room,
    else the last table gets blank rows."""
    gap = bottom - y
    if gap <= 0 or not page.placed:
        return
    grow = next((i for i, pl in enumerate(page.placed)
                 if pl.kind == "row" and getattr(pl.item, "grow", False)), None)
    if grow is not None:
        page.placed[grow].h += gap
        for pl in page.placed[grow + 1:]:
            pl.y += gap
        return
    last = page.placed[-1]
    if last.kind in ("cells", "blank", "cols"):
        for _ in range(int(gap // BLANK_ROW)):
            page.placed.append(_Placed("blank", y, BLANK_ROW, last.item, band=last.band))
            y += BLANK_ROW


# ---------------------------------------------------------------------------- painting
class _Painter:
    def __init__(self, painter: QPainter, w: _Writer, width: float, height: float):
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
            cy += _entry_rows(block) * lh
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
        widths = _widths([c.width for c in table.columns], width)
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
        widths = _widths([b.width for b in row.blocks], self.width - x0)
        x = x0
        for b, bw in zip(row.blocks, widths):
            self.block(b, x, y, bw, h)
            x += bw

    # -------------------------------------------------------------- a page
    def page(self, page: _Page) -> None:
        form, w = page.form, self.w
        title_font = w.font(TITLE_PT, True)
        title = f"{form.title} ({form.code})"
        self.text([(title, title_font)], 0, 0, self.width, Qt.AlignHCenter)
        y = w.line_height(title_font) + 4
        for row in form.header:
            h = _row_height(w, row, self.width)
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
            h = _row_height(w, row, self.width)
            self.row(row, end, h)
            end += h
        foot_y = self.height - FOOT_H + 4
        self.line(0, foot_y - 2, self.width, foot_y - 2, 0.8)
        left = f"{form.code}, Page {page.number} of {page.count}"
        self.text([(left, w.font(8, True))], 0, foot_y, self.width / 2)
        if form.footer_note:
            self.text([(form.footer_note, w.font(LABEL_PT))], self.width / 2, foot_y + 0.8,
                      self.width / 2, Qt.AlignRight)

    def bands(self, page: _Page) -> None:
        run: list[_Placed] = []
        for pl in page.placed + [_Placed("end", 0, 0)]:
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
    w = _Writer(device)
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
            pages, form_notes = _paginate(w, form, width, height)
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
