# SPDX-License-Identifier: GPL-3.0-or-later
"""Device tokens a hub issues: shown once, stored as a SHA-256 hash (hub layer)."""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from ..core.errors import ValidationError
from ..core.validate import parse_scope

PREFIX = "fc1_"


@dataclass
class Token:
    id: int
    agency: str
    device: str
    created_at: str
    revoked_at: str | None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def issue(conn, agency: str, device: str) -> tuple[int, str]:
    """A new token for a device of `agency`; returns (id, token). Only its hash is kept."""
    code = agency.strip().upper()
    form, codes, _ = parse_scope(code)
    if form != "list" or len(codes) != 1:
        raise ValidationError(f"'{agency}' is not an agency code", "agency")
    if not device.strip():
        raise ValidationError("give the device a name (--device)", "device")
    token = PREFIX + secrets.token_urlsafe(32)
    cur = conn.execute("INSERT INTO device_token (agency, device, hash, created_at) "
                       "VALUES (?, ?, ?, ?)", (code, device.strip(), _hash(token), _now()))
    return cur.lastrowid, token


def listing(conn) -> list[Token]:
    return [Token(*r) for r in conn.execute(
        "SELECT id, agency, device, created_at, revoked_at FROM device_token ORDER BY id")]


def revoke(conn, token_id: int) -> Token:
    row = conn.execute("SELECT id FROM device_token WHERE id = ?", (token_id,)).fetchone()
    if row is None:
        raise ValidationError(f"no token with id {token_id}")
    conn.execute("UPDATE device_token SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?",
                 (_now(), token_id))
    return next(t for t in listing(conn) if t.id == token_id)


def digest(presented: str | None) -> str | None:
    """The hash a presented token is looked up by, or None when it cannot be a token."""
    if not presented or not presented.startswith(PREFIX) or len(presented) > 200:
        return None
    return _hash(presented)


def live(row, digest: str) -> Token | None:
    """The token of a device_token row (id, agency, device, created_at, revoked_at, hash) found
    by `digest`, when it is not revoked."""
    if row is None or row[0] is None or row[4] is not None \
            or not hmac.compare_digest(row[5], digest):
        return None
    return Token(*row[:5])


def check(conn, presented: str | None) -> Token | None:
    """The live token matching what a request presented, or None."""
    d = digest(presented)
    if d is None:
        return None
    return live(conn.execute("SELECT id, agency, device, created_at, revoked_at, hash "
                             "FROM device_token WHERE hash = ?", (d,)).fetchone(), d)
