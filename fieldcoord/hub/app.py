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
caller may receive and send. The token is checked before the body is read, and every client is
held to `Limits` (docs/hub.md, "Limits"). Store work runs in worker threads, through the hub's
HubStore (hub/stores.py), which keeps one connection per thread.
"""
from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import math
import sqlite3
import time
import zlib
from collections import OrderedDict, deque
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import FieldcoordError, ValidationError
from ..core.validate import may_see
from ..store.exchange import BATCH_BYTES
from ..sync import protocol
from ..sync import snapshot as snapshots
from . import tokens
from .stores import Busy, HubStore, SqliteHubStore

log = logging.getLogger("fieldcoord.hub")
MAX_BODY = 24 * 1024 * 1024
CONTENT_TYPE = b"application/x-fieldcoord"
ROUTES = ("/v1/hello", "/v1/pull", "/v1/push", "/v1/snapshot")
_INT64 = 1 << 63
# What applying a batch raises when a part of it has a form the store cannot take
_MISSHAPEN = (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError,
              RecursionError, sqlite3.IntegrityError, sqlite3.InterfaceError,
              sqlite3.ProgrammingError, sqlite3.DataError)


@dataclass(frozen=True)
class Limits:
    """What one client may ask of the hub (docs/hub.md, "Limits"). The first group is held
    here, the second by uvicorn and hub.server."""
    max_body: int = MAX_BODY        # bytes of a request body: 413 above
    body_seconds: float = 60        # the whole body must arrive within this: 408 after
    failed_tokens: int = 20         # failed token checks from one address within `window`...
    window: float = 60              # ...make it wait this long (429)
    addresses: int = 10_000         # addresses whose failed checks are remembered
    head_seconds: float = 20        # request line and headers, from connecting or the last answer
    head_bytes: int = 8 * 1024      # request line and headers
    connections: int = 256          # open connections and running requests: 503 beyond
    keep_alive: int = 15            # seconds an idle connection stays open between requests
    backlog: int = 128              # connections the kernel queues before they are accepted


class HttpError(Exception):
    def __init__(self, status: int, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class FailedTokens:
    """Failed token checks by client address, in memory. An address with `limit` failures within
    `window` seconds then waits `window` seconds, answered 429 without a look at the database.
    At most `size` addresses are remembered (the one that failed longest ago goes first); an IPv6
    address counts as its /64, what one client usually holds. Used from the event loop only."""

    def __init__(self, limit: int = 20, window: float = 60, size: int = 10_000,
                 clock=time.monotonic):
        self.limit, self.window, self.size, self.clock = limit, window, size, clock
        self._failed: OrderedDict[str, list] = OrderedDict()    # [failure times, wait until]

    @staticmethod
    def address(client) -> str:
        host = client[0] if client else ""
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return host
        if ip.version == 6:
            if ip.ipv4_mapped:
                return str(ip.ipv4_mapped)
            return str(ipaddress.ip_network(f"{ip}/64", strict=False))
        return str(ip)

    def wait(self, address: str) -> float:
        """Seconds `address` must still wait before its token is checked (0: none)."""
        item = self._failed.get(address)
        return max(0.0, item[1] - self.clock()) if item else 0.0

    def failed(self, address: str) -> None:
        now = self.clock()
        item = self._failed.pop(address, None) or [deque(maxlen=self.limit), 0.0]
        self._failed[address] = item
        times = item[0]
        times.append(now)
        if len(times) == self.limit and now - times[0] <= self.window:
            item[1] = now + self.window
            times.clear()
        while len(self._failed) > self.size:
            self._failed.popitem(last=False)

    def __len__(self) -> int:
        return len(self._failed)


def _out_of_range(entries) -> str | None:
    """What in `entries` SQLite could not store, if anything: a batch sends clocks and sequence
    numbers as differences, and their sums can leave signed 64 bits though each one is inside
    (protocol.unpack has checked each integer of the message)."""
    for i, e in enumerate(entries):
        numbers = [e.seq, e.tx, e.hlc]
        for cell in e.cells.values():
            if isinstance(cell[0], int):
                numbers.append(cell[0])
            for part in cell[1:]:
                if isinstance(part, list):
                    numbers += [x for head in part if isinstance(head, list)
                                for x in head if isinstance(x, int)]
                elif isinstance(part, int):
                    numbers.append(part)
        if any(not -_INT64 <= x < _INT64 for x in numbers):
            return f"entry {i} of the batch holds a number outside signed 64 bits"
    return None


class Hub:
    """The protocol over a HubStore: messages parsed and checked, answers encoded
    (thread-safe; the store decides what is kept and sent)."""

    def __init__(self, store: HubStore | Path, batch_bytes: int = BATCH_BYTES):
        self.hub_store: HubStore = SqliteHubStore(Path(store)) \
            if isinstance(store, (str, Path)) else store
        self.batch_bytes = batch_bytes
        self.site, self.agency = self.hub_store.site, self.hub_store.agency

    def authenticate(self, header: str | None) -> tokens.Token:
        presented = header[7:].strip() if header and header.lower().startswith("bearer ") else None
        token = self.hub_store.check_token(presented)
        if token is None:
            raise HttpError(401, "a valid device token is needed (Authorization: Bearer ...)")
        return token

    def handle(self, route: str, token: tokens.Token, body: bytes) -> bytes:
        message = protocol.unpack(body)
        handler = {"/v1/hello": self.hello, "/v1/pull": self.pull,
                   "/v1/push": self.push}.get(route)
        if handler is None:
            raise HttpError(404, f"no such route {route}")
        return protocol.pack(handler(token, message))

    def snapshot(self, token: tokens.Token, body: bytes) -> snapshots.Built:
        """A snapshot file for the caller's agency (the caller streams, then deletes it)."""
        protocol.unpack(body)
        if token.agency != self.agency:
            # a snapshot is not verified entry by entry: only the agency's own devices, which
            # trust its hub with the agency's key, take one
            raise HttpError(403, f"snapshots are made for devices of {self.agency} only")
        try:
            built = self.hub_store.snapshot(token.agency)
        except Busy as e:
            raise HttpError(503, str(e)) from None
        except snapshots.SnapshotRefused as e:
            raise HttpError(403, str(e)) from None
        log.info("snapshot for %s (%s): %d bytes", token.agency, token.device, built.size)
        return built

    # ------------------------------------------------------------------ routes
    def hello(self, token: tokens.Token, message: dict) -> dict:
        caller = message.get("site")
        if not isinstance(caller, str) or not protocol.is_uuid(caller):
            raise protocol.ProtocolError("hello needs the caller's site id")
        if "buckets" in message:            # (checked before anything is written)
            protocol.differing_buckets(message["buckets"], {})
        greeting = self.hub_store.greet(caller, token, message)
        if "buckets" in message:
            # the caller sent digests of its vector: the streams of the buckets that differ
            part, differ = protocol.vector_answer(greeting.vector, message["buckets"])
            vector = {"vector": protocol.encode_vector(part), "differ": differ}
        else:
            vector = {"vector": protocol.encode_vector(greeting.vector)}
        return {"site": self.site, "agency": self.agency, "epoch": greeting.epoch, **vector,
                **greeting.keys}

    def pull(self, token: tokens.Token, message: dict) -> dict:
        since = protocol.decode_vector(message.get("since", []))
        batch, sites, more = self.hub_store.pull(token.agency, since, self.batch_bytes)
        return {"batch": protocol.encode_batch(batch, sites), "more": more}

    def push(self, token: tokens.Token, message: dict) -> dict:
        entries, sites = protocol.decode_batch(message.get("batch") or {})
        wrong = _out_of_range(entries)
        if wrong:
            raise protocol.ProtocolError(wrong)
        # who wrote what is decided by signatures and certificates, not by the batch's claims
        hidden = [e for e in entries if not may_see(token.agency, e.audience)]
        if hidden:
            raise HttpError(403, f"the batch holds {len(hidden)} changes agency {token.agency} "
                                 "may not hold; nothing was applied")
        try:
            report = self.hub_store.push(token, entries, sites)
        except _MISSHAPEN as e:
            # one transaction: nothing was applied
            log.warning("a batch from %s (%s) could not be applied", token.device,
                        token.agency, exc_info=True)
            raise protocol.ProtocolError("a part of the batch has a form this hub cannot "
                                         f"take ({type(e).__name__}: {e}); nothing was "
                                         "applied") from None
        return {"applied": report.applied, "duplicates": report.duplicates,
                "refused": [[e.origin, e.audience, e.seq, e.tbl, e.rid, why]
                            for e, why in report.refused],
                "gaps": [list(g) for g in sorted(report.gaps)],
                "skewed": report.skewed, "conflicts": report.conflicts,
                "tampered": [list(t) for t in report.tampered], "held": report.held,
                "unverified": report.unverified}


async def respond(send, status: int, body: bytes, content_type: bytes, close: bool = False,
                  retry_after: int | None = None) -> None:
    """Send a whole answer; `close` ends the connection after it (a body is left unread)."""
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="fieldcoord"'))
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def limit_bodies(app, limits: Limits):
    """ASGI middleware holding request bodies to `limits` (uvicorn has no such option): a
    request declaring a body over `max_body` is answered 413 at once; what the app reads counts
    against `max_body` as it arrives and must all come within `body_seconds` of the first read,
    else the app's `receive` raises HttpError 413 or 408."""

    async def limited(scope, receive, send):
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > limits.max_body:
            await respond(send, 413, json.dumps({"error": "request larger than "
                                                 f"{limits.max_body} bytes"}).encode(),
                          b"application/json", close=True)
            return
        size, deadline = 0, None

        async def receive_limited():
            nonlocal size, deadline
            if deadline is None:
                deadline = asyncio.get_running_loop().time() + limits.body_seconds
            try:
                async with asyncio.timeout_at(deadline):
                    event = await receive()
            except TimeoutError:
                raise HttpError(408, "the request body did not arrive within "
                                     f"{limits.body_seconds:g} s") from None
            size += len(event.get("body", b""))
            if size > limits.max_body:
                raise HttpError(413, f"request larger than {limits.max_body} bytes")
            return event

        await app(scope, receive_limited, send)

    return limited


def asgi_app(hub: Hub,  # noqa: C901 - counts its closures: every route; to split with app.py
             limits: Limits = Limits()):
    """The ASGI callable serving `hub`, its clients held to `limits`."""
    failures = FailedTokens(limits.failed_tokens, limits.window, limits.addresses)

    async def authenticate(scope, header: str | None) -> tokens.Token:
        """The caller's token, checked (in a worker thread) before its body is read. An address
        that keeps presenting bad ones waits, and reaches no database meanwhile."""
        address = failures.address(scope.get("client"))
        wait = failures.wait(address)
        if wait:
            raise HttpError(429, "too many failed token checks from this address; try again in "
                                 f"{math.ceil(wait)} s", retry_after=math.ceil(wait))
        try:
            return await asyncio.to_thread(hub.authenticate, header)
        except HttpError as e:
            if e.status == 401:
                failures.failed(address)
            raise

    async def read_body(receive) -> bytes:
        chunks = []
        while True:
            event = await receive()
            if event["type"] == "http.disconnect":
                raise HttpError(400, "the request ended before its body")
            chunks.append(event.get("body", b""))
            if not event.get("more_body"):
                return b"".join(chunks)

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
        body_read = False
        try:
            if method == "GET" and route == "/v1/health":
                body = json.dumps({"ok": True, "protocol": protocol.PROTOCOL, "site": hub.site,
                                   "agency": hub.agency}).encode()
                await respond(send, 200, body, b"application/json")
                return
            if method != "POST":
                raise HttpError(405, "use POST")
            if route not in ROUTES:
                raise HttpError(404, f"no such route {route}")
            token = await authenticate(scope, headers.get("authorization"))
            body = await read_body(receive)
            body_read = True
            if route == "/v1/snapshot":
                built = await asyncio.to_thread(hub.snapshot, token, body)
                await stream_snapshot(send, built)
                return
            out = await asyncio.to_thread(hub.handle, route, token, body)
            await respond(send, 200, out, CONTENT_TYPE)
        except HttpError as e:
            # answered before the whole body came: the connection ends, the rest is never read
            await respond(send, e.status, json.dumps({"error": str(e)}).encode(),
                          b"application/json", close=not body_read, retry_after=e.retry_after)
        except (protocol.ProtocolError, ValidationError) as e:
            await respond(send, 400, json.dumps({"error": str(e)}).encode(), b"application/json")
        except FieldcoordError as e:
            await respond(send, 500, json.dumps({"error": str(e)}).encode(), b"application/json")
        except Exception:                                    # logged, never shown as a trace
            log.exception("request to %s failed", route)
            await respond(send, 500, b'{"error": "internal error; see the hub log"}',
                          b"application/json")

    return limit_bodies(app, limits)
