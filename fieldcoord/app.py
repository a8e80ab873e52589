# SPDX-License-Identifier: GPL-3.0-or-later
"""The desktop app's entry: builds the QApplication, opens the store, shows the main window."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def parse_args(argv):
    p = argparse.ArgumentParser(prog="fieldcoord-app", description="fieldcoord desktop app")
    p.add_argument("--db", type=Path, help="database file (default: the user data directory)")
    p.add_argument("--screenshot", type=Path, metavar="FILE",
                   help="render the window offscreen, save it as PNG and exit")
    p.add_argument("--size", default="1200x760", metavar="WxH")
    p.add_argument("--search", metavar="TEXT", help="start with this search (for screenshots)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    import os
    args = parse_args(sys.argv[1:] if argv is None else argv)
    headless = (sys.platform.startswith("linux") and not os.environ.get("DISPLAY")
                and not os.environ.get("WAYLAND_DISPLAY"))
    if args.screenshot or (headless and "QT_QPA_PLATFORM" not in os.environ):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        if not args.screenshot:
            print("fieldcoord: no display found (DISPLAY and WAYLAND_DISPLAY are unset), so the "
                  "window runs offscreen where nobody can see it. Use the command line "
                  "(fieldcoord --help), or save a picture of the window with "
                  "python main.py --screenshot window.png. Ctrl+C quits.", file=sys.stderr)
    from PySide6.QtWidgets import QApplication

    from . import __version__
    from .cli import default_db
    from .ui.main_window import MainWindow, first_run

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("fieldcoord")
    app.setApplicationVersion(__version__)
    db = args.db or default_db()
    store = first_run(db)
    if store is None:
        return 0
    window = MainWindow(store)
    try:
        w, h = (int(x) for x in args.size.lower().split("x"))
    except ValueError:
        print(f"error: --size takes WxH such as 1200x760, not {args.size}", file=sys.stderr)
        return 2
    window.resize(w, h)
    window.show()
    if args.search:
        window.search.setText(args.search)
    if args.screenshot:
        app.processEvents()
        window.grab().save(str(args.screenshot), "PNG")
        store.close()
        return 0
    import signal
    signal.signal(signal.SIGINT, signal.SIG_DFL)     # Ctrl+C quits
    code = app.exec()
    store.close()
    return code
