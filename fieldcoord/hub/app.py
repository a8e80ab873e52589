# SPDX-License-Identifier: GPL-3.0-or-later
"""The hub's HTTP service: an ASGI app over a store, served by uvicorn (hub layer).

Routes (POST bodies and answers are zlib-compressed JSON, see sync.protocol):
  GET  /v1/health  reachability check, no data
  POST /v1/hello   vectors and identities
  POST /v1/pull    the next batch of what the caller lacks
  POST /v1/push    a batch for the hub to apply
  POST /v1/snapshot  a filtered copy of the database for a new replica's first sync (streamed,
                   zlib-compressed; size and SHA-256 of the database in the headers)
Every POST needs `Authorization: Bearer <device token>`; the token's agency decides what the
caller may receive and send. Store work runs in worker threads, one connection per thread.
"""
from __future__ import annotations

import asyncio
import json
import logging
import threading
import zlib
from pathlib import Path

from ..core.errors import FieldcoordError, ValidationError
from ..core.validate import may_see
from ..store import Store
from ..store.exchange import (BATCH_BYTES, apply_batch, more_after, outgoing, sites_of,
                              visible_vector)
from ..sync import keyexchange, protocol
from ..sync import snapshot as snapshots
from . import tokens

log = logging.getLogger("fieldcoord.hub")
MAX_BODY = 24 * 1024 * 1024
CONTENT_TYPE = b"application/x-fieldcoord"


class HttpError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class Hub:
    """Request handlers over the hub's database (thread-safe: a store per thread)."""

    def __init__(self, db: Path, batch_bytes: int = BATCH_BYTES):
        self.db = Path(db)
        self.batch_bytes = batch_bytes
        self._local = threading.local()
        self._write = threading.Lock()
        self._snapshot = threading.Lock()      # one snapshot made at a time (disk space)
        with Store.open(self.db) as s:
            self.site, self.agency = s.site_uuid, s.home
        snapshots.remove_stale(self.db)

    def store(self) -> Store:
        s = getattr(self._local, "store", None)
        if s is None:
            s = self._local.store = Store.open(self.db)
        return s

    def authenticate(self, header: str | None) -> tokens.Token:
        presented = header[7:].strip() if header and header.lower().startswith("bearer ") else None
        token = tokens.check(self.store().conn, presented)
        if token is None:
            raise HttpError(401, "a valid device token is needed (Authorization: Bearer ...)")
        return token

    def handle(self, route: str, auth: str | None, body: bytes) -> bytes:
        token = self.authenticate(auth)
        message = protocol.unpack(body)
        handler = {"/v1/hello": self.hello, "/v1/pull": self.pull,
                   "/v1/push": self.push}.get(route)
        if handler is None:
            raise HttpError(404, f"no such route {route}")
        return protocol.pack(handler(token, message))

    def snapshot(self, auth: str | None, body: bytes) -> snapshots.Built:
        """A snapshot file for the caller's agency (the caller streams, then deletes it)."""
        token = self.authenticate(auth)
        protocol.unpack(body)
        if token.agency != self.agency:
            # a snapshot is not verified entry by entry: only the agency's own devices, which
            # trust its hub with the agency's key, take one
            raise HttpError(403, f"snapshots are made for devices of {self.agency} only")
        if not self._snapshot.acquire(timeout=60):
            raise HttpError(503, "the hub is busy making another snapshot; sync again later")
        try:
            built = snapshots.build(self.store().conn, token.agency, self.db, self.site)
        except snapshots.SnapshotRefused as e:
            raise HttpError(403, str(e)) from None
        finally:
            self._snapshot.release()
        log.info("snapshot for %s (%s): %d bytes", token.agency, token.device, built.size)
        return built

    # ------------------------------------------------------------------ routes
    def hello(self, token: tokens.Token, message: dict) -> dict:
        s = self.store()
        caller = message.get("site")
        if not isinstance(caller, str) or not protocol.is_uuid(caller):
            raise protocol.ProtocolError("hello needs the caller's site id")
        with self._write:
            keys = keyexchange.answer(s, caller, token.agency, message, token)
        return {"site": s.site_uuid, "agency": s.home, "epoch": s.epoch,
                "vector": protocol.encode_vector(visible_vector(s.conn, token.agency)), **keys}

    def pull(self, token: tokens.Token, message: dict) -> dict:
        s = self.store()
        since = protocol.decode_vector(message.get("since", []))
        allowed = {k: v for k, v in since.items() if may_see(token.agency, k[1])}
        batch = next(outgoing(s.conn, allowed, self.batch_bytes, agency=token.agency), [])
        more = more_after(s.conn, allowed, batch)
        return {"batch": protocol.encode_batch(batch, sites_of(s.conn, batch)), "more": more}

    def push(self, token: tokens.Token, message: dict) -> dict:
        s = self.store()
        entries, sites = protocol.decode_batch(message.get("batch") or {})
        # who wrote what is decided by signatures and certificates, not by the batch's claims
        hidden = [e for e in entries if not may_see(token.agency, e.audience)]
        if hidden:
            raise HttpError(403, f"the batch holds {len(hidden)} changes agency {token.agency} "
                                 "may not hold; nothing was applied")
        with self._write:
            report = apply_batch(s, entries, sites)
            for e, reason in report.refused:
                s.conn.execute("INSERT INTO sync_event (at, peer, kind, message, detail) VALUES "
                               "(strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?, 'refused', ?, ?)",
                               (token.device, reason, json.dumps([e.tbl, e.rid])))
            for origin, _aud, _seq, what in report.tampered:
                s.conn.execute("INSERT INTO sync_event (at, peer, kind, message, detail) VALUES "
                               "(strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?, 'tampered', ?, ?)",
                               (token.device, what, json.dumps(origin)))
        return {"applied": report.applied, "duplicates": report.duplicates,
                "refused": [[e.origin, e.audience, e.seq, e.tbl, e.rid, why]
                            for e, why in report.refused],
                "gaps": [list(g) for g in sorted(report.gaps)],
                "skewed": report.skewed, "conflicts": report.conflicts,
                "tampered": [list(t) for t in report.tampered], "held": report.held,
                "unverified": report.unverified}


def asgi_app(hub: Hub):
    """The ASGI callable serving `hub`."""

    async def respond(send, status: int, body: bytes, content_type: bytes) -> None:
        headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
        if status == 401:
            headers.append((b"www-authenticate", b'Bearer realm="fieldcoord"'))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def stream_snapshot(send, built: snapshots.Built) -> None:
        """Send the file zlib-compressed (level 1) as it is read, then delete it."""
        try:
            f = open(built.path, "rb")
            pack = zlib.compressobj(1)

            def next_chunk() -> tuple[bytes, bool]:
                """(compressed bytes, whether they are the last)"""
                while True:
                    block = f.read(snapshots.CHUNK)
                    if not block:
                        return pack.flush(), True
                    out = pack.compress(block)
                    if out:
                        return out, False
            try:
                await send({"type": "http.response.start", "status": 200, "headers": [
                    (b"content-type", b"application/octet-stream"),
                    (b"x-fieldcoord-snapshot-size", str(built.size).encode()),
                    (b"x-fieldcoord-snapshot-sha256", built.sha256.encode())]})
                last = False
                try:
                    while not last:
                        chunk, last = await asyncio.to_thread(next_chunk)
                        if chunk:
                            await send({"type": "http.response.body", "body": chunk,
                                        "more_body": True})
                    await send({"type": "http.response.body", "body": b""})
                except Exception as e:      # the status is sent: the client sees a short file
                    log.warning("snapshot stream stopped: %s", e)
            finally:
                f.close()
        finally:
            built.path.unlink(missing_ok=True)

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                event = await receive()
                if event["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif event["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        route, method = scope["path"], scope["method"]
        try:
            if method == "GET" and route == "/v1/health":
                body = json.dumps({"ok": True, "protocol": protocol.PROTOCOL, "site": hub.site,
                                   "agency": hub.agency}).encode()
                await respond(send, 200, body, b"application/json")
                return
            if method != "POST":
                raise HttpError(405, "use POST")
            length = int(headers.get("content-length") or 0)
            if length > MAX_BODY:
                raise HttpError(413, f"request larger than {MAX_BODY} bytes")
            chunks, size = [], 0
            while True:
                event = await receive()
                chunk = event.get("body", b"")
                size += len(chunk)
                if size > MAX_BODY:
                    raise HttpError(413, f"request larger than {MAX_BODY} bytes")
                chunks.append(chunk)
                if not event.get("more_body"):
                    break
            if route == "/v1/snapshot":
                built = await asyncio.to_thread(hub.snapshot, headers.get("authorization"),
                                                b"".join(chunks))
                await stream_snapshot(send, built)
                return
            out = await asyncio.to_thread(hub.handle, route, headers.get("authorization"),
                                          b"".join(chunks))
            await respond(send, 200, out, CONTENT_TYPE)
        except HttpError as e:
            await respond(send, e.status, json.dumps({"error": str(e)}).encode(),
                          b"application/json")
        except (protocol.ProtocolError, ValidationError) as e:
            await respond(send, 400, json.dumps({"error": str(e)}).encode(), b"application/json")
        except FieldcoordError as e:
            await respond(send, 500, json.dumps({"error": str(e)}).encode(), b"application/json")
        except Exception:                                    # logged, never shown as a trace
            log.exception("request to %s failed", route)
            await respond(send, 500, b'{"error": "internal error; see the hub log"}',
                          b"application/json")

    return app
