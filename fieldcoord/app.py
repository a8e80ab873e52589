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
    p.add_argument("--page", metavar="NAME",
                   help="open on this page: agencies, contacts, resources, requests, "
                        "agreements, operations, plans, comms, calendar, log, conflicts, sync")
    p.add_argument("--size", metavar="WxH", help="window size (default: as last time; "
                   "1200x760 for --screenshot)")
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
    size = args.size or ("1200x760" if args.screenshot else None)
    try:
        w, h = (int(x) for x in size.lower().split("x")) if size else (0, 0)
        if size and (w < 200 or h < 150):
            raise ValueError
    except ValueError:
        print(f"error: --size takes WxH such as 1200x760, not {args.size}", file=sys.stderr)
        return 2
    from .ui.main_window import PAGE_NAMES
    if args.page and args.page not in PAGE_NAMES:
        print(f"error: no page '{args.page}'; pages are: {', '.join(PAGE_NAMES)}",
              file=sys.stderr)
        return 2
    from PySide6.QtWidgets import QApplication

    from . import APP_ID, __version__, logs
    from .core.places import default_db
    from .ui.main_window import MainWindow, first_run

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("fieldcoord")
    app.setOrganizationName("fieldcoord")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)
    from PySide6.QtGui import QIcon

    from .core.library import RESOURCES
    app.setWindowIcon(QIcon(str(RESOURCES / "icons" / f"{APP_ID}.svg")))
    logs.setup("app")
    _report_crashes()
    db = args.db or default_db()
    if args.screenshot and not db.exists():
        print(f"error: no database at {db}", file=sys.stderr)
        return 2
    store = first_run(db)
    if store is None:
        return 0
    window = MainWindow(store, remember=not args.screenshot, start_page=args.page)
    if size:
        window.resize(w, h)
    window.show()
    if args.search:
        window.search.setText(args.search)
        window.search_panel.run()
    if args.screenshot:
        return _screenshot(app, window, store, args.screenshot)
    import signal
    signal.signal(signal.SIGINT, signal.SIG_DFL)     # Ctrl+C quits
    code = app.exec()
    store.close()
    return code


def _report_crashes() -> None:
    """An error nobody caught is written to the app's log with its traceback, and the user is
    told in plain words where it is; the app goes on running."""
    import threading

    def show(exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        from . import logs
        where = logs.log_crash("app", exc_type, exc, tb)
        try:
            from PySide6.QtCore import QThread
            from PySide6.QtWidgets import QApplication, QMessageBox
            app = QApplication.instance()
            if app is None or QThread.currentThread() is not app.thread():
                return                  # not on the GUI thread: the log has it
            QMessageBox.critical(
                app.activeWindow(), "fieldcoord",
                "fieldcoord ran into a problem it did not expect. What you saved before is "
                "kept (each change is written to the database when you save it); the last "
                "action may not have finished.\n\nThe details are in "
                f"{where or 'no log file (it could not be written)'}: send that file to "
                "whoever supports fieldcoord at your agency.")
        except Exception:               # a crash while telling about a crash: the log has it
            pass
    sys.excepthook = show
    threading.excepthook = lambda a: show(a.exc_type, a.exc_value, a.exc_traceback)


def _screenshot(app, window, store, path: Path) -> int:
    """Let the window lay out and paint, save it as PNG, and quit."""
    import time
    if window.overview_page is not None and window.current_page == "overview":
        window.overview_page.ensure_built()
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    ok = window.grab().save(str(path), "PNG")
    window.close()
    store.close()
    if not ok:
        print(f"error: could not write {path}", file=sys.stderr)
        return 1
    return 0
