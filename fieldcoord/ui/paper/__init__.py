# SPDX-License-Identifier: GPL-3.0-or-later
"""ICS forms on paper: PDF files and printers, drawn with Qt's GUI painter (UI layer: ui.paper).

    print_form(store, "ics205", operation, "plan.pdf")    # -> ExportReport; works headless
    render_form(printer, store, "ics214", operation)       # any QPagedPaintDevice, e.g. QPrinter

Both the app (File > Print) and `fieldcoord print` use it; it needs no window and makes a
headless Qt application when none exists. A layer of its own inside the UI: it uses core and
interop and nothing else of the UI (tests/test_layers.py).
"""
from .forms import paint_forms, print_form, render_form

__all__ = ["paint_forms", "print_form", "render_form"]
