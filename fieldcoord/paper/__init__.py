# SPDX-License-Identifier: GPL-3.0-or-later
"""ICS forms on paper: PDF files and printers, drawn with Qt's GUI painter (paper layer).

    print_form(store, "ics205", operation, "plan.pdf")    # -> ExportReport; works headless
    render_form(printer, store, "ics214", operation)       # any QPagedPaintDevice, e.g. QPrinter

Both the app (File > Print) and `fieldcoord print` use it; it needs no window and makes a
headless Qt application when none exists. Above interop in the layers, beside the UI.
"""
from .forms import paint_forms, print_form, render_form

__all__ = ["paint_forms", "print_form", "render_form"]
