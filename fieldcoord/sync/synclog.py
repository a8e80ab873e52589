# SPDX-License-Identifier: GPL-3.0-or-later
"""The sync log: what each sync, bundle and hub request did or refused, in words for the user
(sync layer). Written by the CLI, the app and the hub alike through `log_event`."""
from __future__ import annotations

import json

from ..core import kinds as K
from ..core.errors import FieldcoordError


def log_event(store, peer: str | None, kind: str, message: str, detail=None) -> None:
    """Add a line to the sync log (inside the caller's transaction)."""
    store.conn.execute("INSERT INTO sync_event (at, peer, kind, message, detail) VALUES "
                       "(strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?, ?, ?, ?)",
                       (peer, kind, message, json.dumps(detail) if detail is not None else None))


def record_failure(store, name: str, message: str) -> None:
    with store.transaction():
        store.conn.execute("UPDATE peer SET last_error = ? WHERE name = ?", (message, name))
        log_event(store, name, "error", message)


def sync_events(store, limit: int = 500) -> list[tuple]:
    """The newest entries of the sync log: (at, peer, kind, message, what it concerns)."""
    out = []
    for at, peer, kind, message, detail in store.conn.execute(
            "SELECT at, peer, kind, message, detail FROM sync_event ORDER BY id DESC LIMIT ?",
            (limit,)):
        out.append((at, peer or "", kind, message, _concerns(store, detail)))
    return out


def _concerns(store, detail: str | None) -> str:
    """A readable name for what a sync event's detail points at (a record, a replica)."""
    if not detail:
        return ""
    try:
        d = json.loads(detail)
    except ValueError:
        return detail
    if isinstance(d, list) and len(d) == 2:
        return record_label(store, d[0], d[1])
    if isinstance(d, str):
        return replica_label(store, d)
    return str(d)


def record_label(store, table: str, rid: str) -> str:
    """"contact ‘Dana Whitfield’" for a record, or its kind and id when it is not here."""
    kind = K.KIND_BY_TABLE.get(table)
    if kind is None:
        return f"{table} {rid}"
    try:
        title = store.get(rid, kind.name).title
    except FieldcoordError:
        title = ""
    label = kind.label or kind.name
    return f"{label} ‘{title}’" if title else f"{label} {rid[:8]}"


def replica_label(store, site: str) -> str:
    """"laptop-2 of CCF" for a replica's UUID (its first 8 characters when unknown)."""
    row = store.conn.execute("SELECT agency, device FROM site WHERE uuid = ?", (site,)).fetchone()
    if not row or not (row[0] or row[1]):
        return f"replica {site[:8]}"
    agency, device = row
    return f"{device or 'replica ' + site[:8]}" + (f" of {agency}" if agency else "")
