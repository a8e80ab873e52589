# SPDX-License-Identifier: GPL-3.0-or-later
"""Running the hub on uvicorn: TLS from certificate files, plain HTTP on loopback only unless
the administrator insists, connections held to the hub's limits (hub layer)."""
from __future__ import annotations

import ipaddress
import logging
import os
import socket
import threading
import time
from pathlib import Path

from ..core.errors import ValidationError
from .app import Hub, Limits, asgi_app
from .stores import open_hub_store

log = logging.getLogger("fieldcoord.hub")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_tls(host: str, cert: Path | None, key: Path | None, insecure: bool) -> None:
    """Refuse settings that would send partner data in clear text over a network."""
    if bool(cert) != bool(key):
        raise ValidationError("give both --cert and --key for TLS")
    for f in (cert, key):
        if f and not Path(f).is_file():
            raise ValidationError(f"no such file: {f}")
    if not cert and not is_loopback(host) and not insecure:
        raise ValidationError(f"refusing plain HTTP on {host}: give --cert and --key for TLS, "
                              "or --insecure if a trusted network protects the link")


def _http_protocol(head_seconds: float):
    """uvicorn's HTTP/1.1 protocol (h11), closing a connection that has not sent a whole request
    line and headers within `head_seconds` of connecting or of its previous answer. uvicorn has
    no such option: its keep-alive timeout stops at the first byte of a request, so a client
    sending a byte now and then (or nothing at all after connecting) would hold a connection."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeadDeadline(H11Protocol):
        _head_timer = None

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._await_head()

        def on_response_complete(self) -> None:
            self._await_head()
            super().on_response_complete()

        def connection_lost(self, exc) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
            super().connection_lost(exc)

        def _await_head(self) -> None:
            answered = self.cycle              # a new request replaces it

            def expire() -> None:
                if self.cycle is answered and not self.transport.is_closing():
                    self.transport.close()
            if self._head_timer is not None:
                self._head_timer.cancel()
            self._head_timer = self.loop.call_later(head_seconds, expire)

    return HeadDeadline


def make_server(db: Path, host: str, port: int, cert: Path | None = None,
                key: Path | None = None, insecure: bool = False, limits: Limits = Limits(),
                database_url: str | None = None):
    """(uvicorn server, bound socket) for the hub of database `db` (its records in PostgreSQL
    at `database_url` when given), clients held to `limits`.

    uvicorn's options used (docs/hub.md, "Limits"):
      limit_concurrency              open connections and running requests; a request beyond
                                     them is answered 503 at once
      timeout_keep_alive             an idle connection is closed this long after an answer
      h11_max_incomplete_event_size  bytes of a request line and headers (400 beyond)
      backlog                        connections the kernel queues before they are accepted
    and where uvicorn has no option, the hub's own: a deadline for each request's line and
    headers (_http_protocol), the body's size and deadline (app.limit_bodies), failed tokens
    per address (app.FailedTokens)."""
    check_tls(host, cert, key, insecure)
    sock = _bind(host, port)
    return _server(Hub(open_hub_store(db, database_url)), cert, key, limits), sock


def _bind(host: str, port: int, share: bool = False) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if share:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _server(hub: Hub, cert: Path | None, key: Path | None, limits: Limits):
    import uvicorn
    config = uvicorn.Config(asgi_app(hub, limits), log_level="warning", lifespan="off",
                            ssl_certfile=str(cert) if cert else None,
                            ssl_keyfile=str(key) if key else None,
                            http=_http_protocol(limits.head_seconds),
                            limit_concurrency=limits.connections,
                            timeout_keep_alive=limits.keep_alive,
                            h11_max_incomplete_event_size=limits.head_bytes,
                            backlog=limits.backlog, server_header=False,
                            timeout_graceful_shutdown=5)
    return uvicorn.Server(config)


def serve_workers(db: Path, host: str, port: int, workers: int, cert: Path | None = None,
                  key: Path | None = None, insecure: bool = False, limits: Limits = Limits(),
                  database_url: str | None = None, on_ready=None) -> int:
    """Serve the hub from `workers` processes on one port (Linux and macOS: fork). Each
    process opens its own connections after it starts. Where the system has SO_REUSEPORT each
    worker listens on a socket of its own and the kernel spreads new connections evenly among
    them (one shared socket lets the first worker to wake accept a whole burst of laptops,
    which then keep their connection to it); the parent holds the port bound. Elsewhere they
    share one listening socket. SIGTERM or SIGINT stops them all; when one ends by itself the
    others are stopped too and 1 is returned (the service manager starts the hub again)."""
    import signal
    check_tls(host, cert, key, insecure)
    share = workers > 1 and hasattr(socket, "SO_REUSEPORT")
    sock = _bind(host, port, share)
    if not share:
        sock.listen(limits.backlog)
    if on_ready is not None:
        on_ready(sock)
    children: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:                                # a worker
            code = 0
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                own = sock
                if share:
                    own = _bind(host, sock.getsockname()[1], share=True)
                    own.listen(limits.backlog)
                _server(Hub(open_hub_store(db, database_url)), cert, key, limits).run(
                    sockets=[own])
            except BaseException:
                log.exception("a hub worker stopped")
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    stopping = False

    def stop(signum, _frame) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            try:
                os.kill(child, signal.SIGTERM)
            except ProcessLookupError:
                pass
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = 0
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        if pid in children:
            children.remove(pid)
            if not stopping:
                log.warning("a hub worker (process %d) ended (status %d): stopping the others",
                            pid, status)
                code = 1
                stop(signal.SIGTERM, None)
    sock.close()
    return code


def start_in_thread(db: Path, host: str = "127.0.0.1", port: int = 0,
                    limits: Limits = Limits(), database_url: str | None = None):
    """Start a hub in a background thread (tests, the app's own LAN hub); returns
    (url, stop) where stop() shuts it down."""
    server, sock = make_server(db, host, port, limits=limits, database_url=database_url)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    url = f"http://{host}:{sock.getsockname()[1]}"

    def stop():
        server.should_exit = True
        thread.join(timeout=10)
    return url, stop


def restore(backup: Path, db: Path) -> str:
    """Copy a backup into place (through SQLite's backup API), with the key file beside it when
    it has one, and give it a new epoch: replicas that see the epoch change know the hub may
    lack changes and re-send them. Returns it."""
    import sqlite3
    import uuid

    from ..store import Store
    src = Store.open(backup)           # checks it is a fieldcoord database, migrates it
    try:
        dst = sqlite3.connect(str(db))
        try:
            src.conn.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    keys = Path(str(backup) + ".keys")
    if keys.is_file() and keys.resolve() != Path(str(db) + ".keys").resolve():
        import shutil
        shutil.copyfile(keys, Path(str(db) + ".keys"))    # (hub backup copies it beside)
    epoch = str(uuid.uuid4())
    with Store.open(db) as s:
        s.conn.execute("UPDATE meta SET value = ? WHERE key = 'epoch'", (epoch,))
    return epoch
