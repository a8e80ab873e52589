# SPDX-License-Identifier: GPL-3.0-or-later
"""What an import or export did, for the CLI's text and --json output and the app's report page.

Every importer and exporter in `fieldcoord.interop` returns one of these. An importer runs inside
one store transaction: a card or row that cannot be used is skipped and reported here (with its
file and line), while a failure of the whole file (unreadable, cancelled) rolls everything back.
A contact import also lists each card or row that matched a contact already there (`matches`):
the CLI prints them and the import wizard shows them, from this one list.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

# progress: a core.progress.Progress, called now and then during long work.
# cancelled(): True when the user asked to stop; the importer then raises core.errors.Cancelled.
Cancelled = Callable[[], bool] | None


@dataclass
class Problem:
    source: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        return f"{where}: {self.reason}"


@dataclass
class Match:
    """A card or row that matched a contact already in the directory (or one an earlier row
    added): updated or left unchanged instead of duplicated, or kept apart when the import was
    told to (options["no_match"]) and added as a new contact."""
    source: str
    line: int | None
    contact: str                   # the matched contact's id
    name: str                      # its name
    how: str                       # what matched: "email ...", "phone ...", "name", "record id"
    status: str                    # "updated", "unchanged" or "kept apart"

    @property
    def kept_apart(self) -> bool:
        return self.status == "kept apart"

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line else self.source
        result = "kept apart, added as a new contact" if self.kept_apart else self.status
        return f"{where}: matched contact '{self.name}' ({self.contact}) by {self.how}: {result}"


@dataclass
class ImportReport:
    format: str
    files: list[str] = field(default_factory=list)
    added: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    skipped: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False
    matches: list[Match] = field(default_factory=list)

    def add(self, kind: str, n: int = 1) -> None:
        self.added[kind] += n

    def update(self, kind: str, n: int = 1) -> None:
        self.updated[kind] += n

    def same(self, kind: str, n: int = 1) -> None:
        self.unchanged[kind] += n

    def skip(self, source: str, line: int | None, reason: str) -> None:
        self.skipped.append(Problem(str(source), line, reason))

    def to_dict(self) -> dict:
        return {"format": self.format, "files": self.files, "dry_run": self.dry_run,
                "added": dict(sorted(self.added.items())),
                "updated": dict(sorted(self.updated.items())),
                "unchanged": dict(sorted(self.unchanged.items())),
                "skipped": [p.__dict__ for p in self.skipped],
                "matches": [m.__dict__ for m in self.matches], "notes": self.notes}

    def summary(self) -> str:
        def part(c: Counter) -> str:
            return ", ".join(f"{n} {k}" for k, n in sorted(c.items())) or "none"
        lines = [f"{'would import' if self.dry_run else 'imported'} {self.format}: "
                 f"added {part(self.added)}; updated {part(self.updated)}; "
                 f"unchanged {part(self.unchanged)}; skipped {len(self.skipped)}"]
        lines += [f"  skipped {p}" for p in self.skipped]
        lines += [f"  {m}" for m in self.matches]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def _counted(n: int, what: str) -> str:
    """'1 agency', '17 agencies', '1 page', '3 pages': record kinds by their names."""
    from ..core import kinds as K
    kind = K.KINDS.get(what)
    if kind is not None:
        return f"{n} {kind.label if n == 1 else kind.plural}"
    return f"{n} {what[:-1] if n == 1 and what.endswith('s') else what}"


@dataclass
class ExportReport:
    format: str
    path: str
    written: Counter = field(default_factory=Counter)
    skipped: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"format": self.format, "path": self.path,
                "written": dict(sorted(self.written.items())),
                "skipped": [p.__dict__ for p in self.skipped], "notes": self.notes}

    def summary(self) -> str:
        parts = ", ".join(_counted(n, k) for k, n in sorted(self.written.items())) or "nothing"
        lines = [f"exported {parts} to {self.path} ({self.format})"]
        lines += [f"  skipped {p}" for p in self.skipped]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)
