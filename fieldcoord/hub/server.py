# SPDX-License-Identifier: GPL-3.0-or-later
"""Running the hub on uvicorn: TLS from certificate files, plain HTTP on loopback only unless
the administrator insists (hub layer)."""
from __future__ import annotations

import ipaddress
import socket
import threading
import time
from pathlib import Path

from ..core.errors import ValidationError
from .app import Hub, asgi_app


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


def make_server(db: Path, host: str, port: int, cert: Path | None = None,
                key: Path | None = None, insecure: bool = False):
    """(uvicorn server, bound socket) for the hub of database `db`."""
    import uvicorn
    check_tls(host, cert, key, insecure)
    hub = Hub(db)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(asgi_app(hub), log_level="warning", lifespan="off",
                            ssl_certfile=str(cert) if cert else None,
                            ssl_keyfile=str(key) if key else None, timeout_keep_alive=30,
                            timeout_graceful_shutdown=5)
    return uvicorn.Server(config), sock


def start_in_thread(db: Path, host: str = "127.0.0.1", port: int = 0):
    """Start a hub in a background thread (tests, the app's own LAN hub); returns
    (url, stop) where stop() shuts it down."""
    server, sock = make_server(db, host, port)
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
    """Copy a backup into place (through SQLite's backup API) and give it a new epoch: replicas
    that see the epoch change know the hub may lack changes and re-send them. Returns it."""
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
    epoch = str(uuid.uuid4())
    with Store.open(db) as s:
        s.conn.execute("UPDATE meta SET value = ? WHERE key = 'epoch'", (epoch,))
    return epoch
