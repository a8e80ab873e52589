# SPDX-License-Identifier: GPL-3.0-or-later
"""Measuring an ICS form for paper: fonts, text that wraps, block and row heights, and pages
(UI layer: ui.paper, Qt GUI).

Lengths are in points (1/72 inch), scaled to the device's resolution, so the same layout serves
a PDF writer and a printer. A table that does not fit continues on the next page, where the
form's header blocks and the table's heading are repeated.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QTextCharFormat,
    QTextLayout,
    QTextOption,
)

from ...core.errors import FieldcoordError, ValidationError
from ...interop.icsforms import Block, Form, Row, Table

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
class Writer:
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
def entry_rows(block: Block) -> int:
    if not block.entries:
        return 0
    cols = max(1, block.columns)
    return -(-len(block.entries) // cols)


def _block_height(w: Writer, block: Block, width: float) -> float:
    inner = width - 2 * PAD
    parts = [(block.heading, w.font(HEAD_PT, True))]
    if block.value:
        parts.append((" " + block.value, w.font(VALUE_PT)))
    h = PAD + w.layout(parts, inner)[1]
    h += entry_rows(block) * (w.line_height(w.font(VALUE_PT)) + 3)
    if block.text or block.lines:
        line = w.line_height(w.font(VALUE_PT))
        h += max(w.height(block.text, w.font(VALUE_PT), inner) if block.text else 0,
                 block.lines * line)
    return h + PAD + 1


def row_height(w: Writer, row: Row, width: float) -> float:
    widths = shares_to_widths([b.width for b in row.blocks], width - (BAND_W if row.band else 0))
    return max(_block_height(w, b, bw) for b, bw in zip(row.blocks, widths))


def shares_to_widths(shares: list[float], total: float) -> list[float]:
    s = sum(shares) or 1.0
    return [total * x / s for x in shares]


def _cell_height(w: Writer, text: str, width: float) -> float:
    if not text:
        return 0.0
    return w.height(text, w.font(CELL_PT), width - 2 * PAD) + 2 * PAD - 1


def _table_heading_height(w: Writer, table: Table, width: float) -> tuple[float, float]:
    tw = width - (BAND_W if table.band else 0)
    head = w.line_height(w.font(HEAD_PT, True)) + 2 * PAD - 1
    col_widths = shares_to_widths([c.width for c in table.columns], tw)
    cols = max(w.height(c.label, w.font(COLHEAD_PT, True), cw - 2 * PAD)
               for c, cw in zip(table.columns, col_widths))
    return head, cols + 2 * PAD - 1


def _data_row_height(w: Writer, table: Table, row: list[str], width: float) -> float:
    tw = width - (BAND_W if table.band else 0)
    widths = shares_to_widths([c.width for c in table.columns], tw)
    return max([BLANK_ROW] + [_cell_height(w, t, cw) for t, cw in zip(row, widths)])


# ---------------------------------------------------------------------------- pagination
@dataclass
class Placed:
    kind: str                     # "row", "table-head", "cols", "cells", "blank"
    y: float
    h: float
    item: object = None
    cells: list[str] = field(default_factory=list)
    continued: bool = False
    band: str = ""


@dataclass
class Page:
    form: Form
    placed: list[Placed]
    number: int = 0
    count: int = 0


def paginate(w: Writer, form: Form, width: float, height: float) -> tuple[list[Page], list]:
    """Where every row and table row of `form` goes, page by page; also notes for the user."""
    notes = []
    title_h = w.line_height(w.font(TITLE_PT, True)) + 4
    header_h = sum(row_height(w, r, width) for r in form.header)
    footer_h = sum(row_height(w, r, width) for r in form.footer)
    top = title_h + header_h
    bottom = height - FOOT_H - footer_h
    room = bottom - top
    if room < 6 * BLANK_ROW:
        raise ValidationError(f"{form.code}: the header blocks leave no room on the page "
                              "(is the operation's name very long?)")
    pages: list[Page] = []
    page = Page(form, [])
    y = top

    def new_page():
        nonlocal page, y
        pages.append(page)
        page = Page(form, [])
        y = top

    def rest_height(index: int) -> float:
        """Least room the items after body[index] need on the same page."""
        h = 0.0
        for item in form.body[index + 1:]:
            if isinstance(item, Row):
                h += row_height(w, item, width)
            else:
                a, b = _table_heading_height(w, item, width)
                h += a + b + sum(_data_row_height(w, item, r, width) for r in item.rows)
                h += max(0, item.min_rows - len(item.rows)) * BLANK_ROW
        return h

    for index, item in enumerate(form.body):
        if isinstance(item, Row):
            h = row_height(w, item, width)
            if h > room:
                h = room
                notes.append(f"{form.code}: block {item.blocks[0].number} is too long for one "
                             "page and was shortened")
            if y + h > bottom + 0.01 and y > top:
                new_page()
            page.placed.append(Placed("row", y, h, item, band=item.band))
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
        page.placed.append(Placed("table-head", y, head_h, item, band=item.band))
        page.placed.append(Placed("cols", y + head_h, cols_h, item, band=item.band))
        y += head_h + cols_h
        for cells, h in zip(item.rows, heights):
            if y + h > bottom + 0.01:
                new_page()
                page.placed.append(Placed("table-head", y, head_h, item, continued=True,
                                           band=item.band))
                page.placed.append(Placed("cols", y + head_h, cols_h, item, band=item.band))
                y += head_h + cols_h
            page.placed.append(Placed("cells", y, h, item, cells, band=item.band))
            y += h
        want = max(0, item.min_rows - len(item.rows))
        fits = int((bottom - y - rest_height(index)) // BLANK_ROW)
        for _ in range(max(0, min(want, fits))):
            page.placed.append(Placed("blank", y, BLANK_ROW, item, band=item.band))
            y += BLANK_ROW
    _fill(page, bottom, y)
    pages.append(page)
    for i, p in enumerate(pages, 1):
        p.number, p.count = i, len(pages)
    return pages, notes


def _fill(page: Page, bottom: float, y: float) -> None:
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
            page.placed.append(Placed("blank", y, BLANK_ROW, last.item, band=last.band))
            y += BLANK_ROW


# ---------------------------------------------------------------------------- painting
