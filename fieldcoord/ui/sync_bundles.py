# SPDX-License-Identifier: GPL-3.0-or-later
"""The Sync page's bundles: export changes to a file for a partner or another device, import
one (asking about a partner key not confirmed yet), and report what happened (UI layer).

A part of SyncPage (sync_pages.py): the work runs on worker threads through ui.tasks, each
opening its own Store; the results box and the page's status are the page's.
"""
from __future__ import annotations

import html
from pathlib import Path

from ..store.identity import KeyChanged, UntrustedKey
from ..sync.runs import export_bundle_file, import_bundle_file
from .style import ERROR_COLOR
from .sync_dialogs import ExportBundleDialog, choose_bundle_to_import, show_lines
from .tasks import Task, run_with_progress


class BundleActions:
    """Export and import of bundles, with progress, Cancel and a report."""

    def export_bundle(self) -> None:
        """Ask for a file and an agency, then export with progress and report the result."""
        dialog = ExportBundleDialog(self.store(), self)
        if dialog.exec():
            path, agency = dialog.choice()
            self.start_export(path, agency)

    def import_bundle(self) -> None:
        """Ask for a bundle (or a partner's receipt), then import with progress and report."""
        path = choose_bundle_to_import(self)
        if path:
            self.start_import(path)

    def start_export(self, path: Path, agency: str | None = None) -> Task | None:
        db = self.db_path
        if not self.demo_may_go(f"a bundle for {agency or 'your own devices'}"):
            return None
        allow_demo = self._demo_ok
        return self._track(run_with_progress(
            self, "Exporting a bundle",
            lambda progress, cancel: export_bundle_file(db, path, agency, progress, cancel,
                                                        allow_demo),
            self._on_exported, lambda m: self._report("Export failed", [m], warn=True)))

    def start_import(self, path: Path, trust: str | None = None) -> Task:
        """Import in the background. A partner key not confirmed yet is asked about (and the
        import runs again once it is trusted); a changed key is refused in plain words.
        `trust`: the fingerprint of the writing partner's key, confirmed by the user."""
        db = self.db_path

        def work(progress, cancel):
            try:
                return import_bundle_file(db, path, progress, cancel, trust=trust)
            except (UntrustedKey, KeyChanged) as e:
                return e            # answered on the GUI thread: confirm the key, or say why
        return self._track(run_with_progress(
            self, "Importing a bundle", work, lambda result: self._on_imported(result, path),
            lambda m: self._report("Import failed", [m], warn=True)))

    def _on_exported(self, counts: dict) -> None:
        self._report("Bundle exported", [
            f"Wrote {counts['changes']} changes in {counts['chunks']} chunks to {counts['file']}"
            + (f" for {counts['for']}." if counts["for"] else ".")])

    def _on_imported(self, outcome, path: Path | None = None) -> None:
        if isinstance(outcome, (UntrustedKey, KeyChanged)):
            self._on_import_key(outcome, Path(path or ""))
            return
        self._report("Bundle imported", outcome.lines(),
                     warn=bool(outcome.warnings or outcome.refused))
        if outcome.changed_here:
            self.changed.emit()

    def _on_import_key(self, problem, path: Path) -> None:
        """A bundle whose partner key is not confirmed yet (ask), or has changed (refused)."""
        source = f"The bundle “{path.name}”"
        if isinstance(problem, UntrustedKey):
            agency, fp = problem.agency, problem.fingerprint
            self._message = (f"Bundle not imported yet: the key of agency {agency} is not "
                             "confirmed on this device")
            self.results.setText(f"<b>Bundle not imported yet</b><br>{html.escape(self._message)}. "
                                 "Compare its fingerprint with "
                                 f"{html.escape(agency)}'s liaison to import it.")
            self.ask_about_key("confirm", source, (agency, fp),
                               lambda: self.start_import(path, trust=fp))
        else:
            self._message = ("Bundle not imported: it was signed under a key other than the "
                             "one confirmed here")
            self.results.setText(f"<span style='color:{ERROR_COLOR}'><b>Bundle not imported</b><br>"
                                 f"{html.escape(self._message)}: {html.escape(problem)}</span>")
            self.ask_about_key("changed", source, str(problem))
        self.results.setVisible(True)
        self.refresh()

    def _report(self, title: str, lines: list[str], warn: bool = False) -> None:
        self._message = lines[0]
        self.results.setText(f"<b>{html.escape(title)}</b><br>"
                             + "<br>".join(map(html.escape, lines)))
        self.results.setVisible(True)
        self.refresh()
        show_lines(self, title, lines, warn)
