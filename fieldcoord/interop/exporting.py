# SPDX-License-Identifier: GPL-3.0-or-later
"""What the exporters share (interop layer): which records an export writes (all of a kind, or
those given by id, by a search, or of an agency; each exporter says what "of an agency" means
for it), and writing a file whole or not at all."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

from ..core import kinds as K
from ..core.errors import ValidationError


def _of_agency_field(rec, agency_id: str, code: str) -> bool:
    return rec.values.get("agency") == agency_id


def selected(store, kind: str, options: dict,
             of_agency: Callable[[object, str, str], bool] | None = None) -> list:
    """Live records of `kind` chosen by options ids, search and agency (all when none given).

    `of_agency(record, agency_id, code)` decides whether a record belongs to the agency named
    by options["agency"]; by default its `agency` field names it. Search uses the full-text
    index for the kinds it holds and the title for the others.
    """
    records = store.list(kind)
    wanted = {str(i).strip().lower() for i in options.get("ids") or []}
    if wanted:
        records = [r for r in records if r.id in wanted]
    text = str(options.get("search") or "").strip()
    if text:
        if kind in K.SEARCHABLE:
            hits = {h.id for h in store.search(text, kind, limit=1_000_000)}
            records = [r for r in records if r.id in hits]
        else:
            needle = text.casefold()
            records = [r for r in records if needle in (r.title or "").casefold()]
    code = str(options.get("agency") or "").strip()
    if code:
        aid = store.agency_id(code)
        if aid is None:
            raise ValidationError(f"--agency: no agency with code '{code}'")
        test = of_agency or _of_agency_field
        records = [r for r in records if test(r, aid, code.upper())]
    return records


def write_atomically(path: Path, data: bytes) -> None:
    """Write a whole file or nothing: a temporary file beside it, renamed over it."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValidationError(f"cannot write {path}: folder {folder} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=".fieldcoord-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
