# SPDX-License-Identifier: GPL-3.0-or-later
"""A table as a PDF: a heading, a line of context and the rows, on letter paper across (paper
layer, Qt GUI). The readiness table and the duty-line call sheet print this way."""
from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QMarginsF
from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument

from .layout import ensure_app


def table_pdf(path: Path, title: str, context: str, columns: Sequence[str],
              rows: Sequence[Sequence[str]]) -> None:
    """Write the table to `path` (text escaped; long cells wrap)."""
    ensure_app()
    head = "".join(f"<th align='left'>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(x)}</td>" for x in row) + "</tr>"
                   for row in rows)
    doc = QTextDocument()
    doc.setHtml(f"<h2>{html.escape(title)}</h2><p>{html.escape(context)}</p>"
                f"<table border='1' cellspacing='0' cellpadding='4'><tr>{head}</tr>{body}"
                "</table>")
    writer = QPdfWriter(str(path))
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.Letter), QPageLayout.Landscape,
                                     QMarginsF(36, 36, 36, 36), QPageLayout.Point))
    writer.setTitle(title)
    writer.setCreator("fieldcoord")
    doc.print_(writer)
