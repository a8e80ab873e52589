# SPDX-License-Identifier: GPL-3.0-or-later
"""What the exporters share (interop layer): which records an export writes (all of a kind, or
those given by id, by a search, or of an agency; each exporter says what "of an agency" means
for it), and writing a file whole or not at all."""
from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path

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
    """Write a whole file or nothing: a temporary file beside it, renamed over it.

    The file gets the permissions a program writing it directly would give it: a new file
    0o666 less the user's umask (so an export to a shared folder is readable by the others the
    umask allows), a file written over keeps its mode.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValidationError(f"cannot write {path}: folder {folder} does not exist")
    try:
        st = os.stat(path)
        keep = stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else None
    except OSError:
        keep = None
    fd, tmp = _create_beside(folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        if keep is not None:
            os.chmod(tmp, keep)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _create_beside(folder: Path) -> tuple[int, Path]:
    """A new, empty temporary file in `folder`, created with mode 0o666 so that the kernel
    applies the umask (tempfile.mkstemp creates 0o600: an owner-only export)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | \
        getattr(os, "O_NOFOLLOW", 0)
    for _ in range(100):
        tmp = folder / f".fieldcoord-{secrets.token_hex(8)}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary file name in {folder}")
