# SPDX-License-Identifier: GPL-3.0-or-later
"""The hub against a hostile client, over raw HTTP: no body is read before the token is checked,
bodies are held to their size and deadline, idle and slow connections are closed, failed
tokens make an address wait, and 100 stalled uploads cost the hub little memory or time."""
import http.client
import select
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fieldcoord.hub import tokens
from fieldcoord.hub.app import FailedTokens, Limits
from fieldcoord.hub.server import start_in_thread
from fieldcoord.store import Store
from fieldcoord.sync import protocol

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def hub_db(tmp_path):
    path = tmp_path / "hub.db"
    Store.create(path, "Clark County Fire", "CCF", device="hub").close()
    return path


@pytest.fixture
def serve(hub_db):
    """serve(limits) -> (host, port) of a hub over `hub_db` held to `limits`."""
    stops = []

    def start(limits: Limits = Limits()):
        url, stop = start_in_thread(hub_db, limits=limits)
        stops.append(stop)
        host, port = url.removeprefix("http://").split(":")
        return host, int(port)
    yield start
    for stop in stops:
        stop()


def token_for(hub_db) -> str:
    with Store.open(hub_db) as s:
        with s.transaction():
            return tokens.issue(s.conn, "CCF", "laptop")[1]


def head(route: str, length: int | None, token: str | None = None, extra: str = "") -> bytes:
    lines = [f"POST {route} HTTP/1.1", "Host: hub", "Content-Type: application/x-fieldcoord"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode("latin-1")


def answer(sock: socket.socket, timeout: float = 5) -> tuple[int, dict, bytes]:
    """(status, headers, body) of the next answer on `sock`."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before an answer: {data!r}")
        data += chunk
    top, _, body = data.partition(b"\r\n\r\n")
    lines = top.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    while len(body) < int(headers.get("content-length", 0)):
        body += sock.recv(65536)
    return int(lines[0].split()[1]), headers, body


def closed(sock: socket.socket, within: float) -> bool:
    """Whether the hub ends the connection within `within` seconds (what else it sends is
    dropped)."""
    deadline = time.monotonic() + within
    try:
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except TimeoutError:
        pass
    return False


# --------------------------------------------------------------------------- tokens and bodies
@pytest.mark.parametrize("token", [None, "fc1_" + "x" * 43])
def test_a_request_without_a_valid_token_is_answered_before_its_body(serve, token):
    host, port = serve()
    with socket.create_connection((host, port)) as sock:
        sock.sendall(head("/v1/push", 23_000_000, token))       # and not one byte of the body
        status, headers, body = answer(sock)
        assert status == 401 and b"token" in body
        assert headers["connection"] == "close" and closed(sock, 2)


def test_a_body_over_the_limit_is_refused_and_the_connection_closed(serve, hub_db):
    token = token_for(hub_db)
    host, port = serve(Limits(max_body=100_000))
    with socket.create_connection((host, port)) as sock:
        sock.sendall(head("/v1/push", 100_001, token))
        status, headers, body = answer(sock)
        assert status == 413 and b"larger than 100000 bytes" in body
        assert closed(sock, 2)
    # without a Content-Length (chunked), counted as it arrives
    with socket.create_connection((host, port)) as sock:
        sock.sendall(head("/v1/push", None, token, "Transfer-Encoding: chunked\r\n"))
        for _ in range(20):
            if select.select([sock], [], [], 0.05)[0]:
                break
            sock.sendall(b"%x\r\n%s\r\n" % (10_000, b"x" * 10_000))
        status, headers, body = answer(sock)
        assert status == 413 and closed(sock, 2)


def test_a_body_arriving_too_slowly_is_cut_off(serve, hub_db):
    token = token_for(hub_db)
    host, port = serve(Limits(body_seconds=1))
    with socket.create_connection((host, port)) as sock:
        sock.sendall(head("/v1/push", 1000, token))
        start = time.monotonic()
        while not select.select([sock], [], [], 0.1)[0]:   # 10 bytes every 0.1 s: 10 s in all
            assert time.monotonic() - start < 5, "the slow body was not cut off"
            sock.sendall(b"x" * 10)
        status, headers, body = answer(sock)
        assert status == 408 and b"did not arrive within 1 s" in body
        assert 0.9 < time.monotonic() - start < 3 and closed(sock, 2)


def test_defaults():
    limits = Limits()
    assert limits.max_body == 24 * 1024 * 1024 and limits.body_seconds == 60
    assert (limits.failed_tokens, limits.window) == (20, 60)


# --------------------------------------------------------------------------- connections
def test_a_connection_that_sends_no_whole_request_is_closed(serve):
    host, port = serve(Limits(head_seconds=1, keep_alive=1))
    with socket.create_connection((host, port)) as silent, \
            socket.create_connection((host, port)) as trickle:
        start = time.monotonic()
        for byte in b"POST /v1/push HTTP/1.1\r\nHost: hub\r\n":      # a byte every 0.1 s
            try:
                trickle.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.1)
        assert closed(trickle, 1) and closed(silent, 0.1)
        assert time.monotonic() - start < 2.5
    # after an answer, an idle connection is closed too
    with socket.create_connection((host, port)) as sock:
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: hub\r\n\r\n")
        assert answer(sock)[0] == 200
        assert closed(sock, 3)


def test_a_request_head_over_8_kb_is_refused(serve):
    host, port = serve()
    with socket.create_connection((host, port)) as sock:
        # headers that never end: the hub holds no more than 8 KB of them
        sock.sendall(head("/v1/hello", 0, None, "X-Padding: " + "x" * 10_000 + "\r\n")[:-2])
        status, _, _ = answer(sock)
        assert status == 400 and closed(sock, 2)


def test_connections_beyond_the_cap_are_answered_503(serve):
    host, port = serve(Limits(connections=4))
    idle = [socket.create_connection((host, port)) for _ in range(4)]
    time.sleep(0.3)                                 # all accepted by the hub
    try:
        with socket.create_connection((host, port)) as sock:
            sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: hub\r\n\r\n")
            assert answer(sock)[0] == 503
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.3)
    with socket.create_connection((host, port)) as sock:
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: hub\r\n\r\n")
        assert answer(sock)[0] == 200


# --------------------------------------------------------------------------- failed tokens
def test_failed_tokens_make_an_address_wait_a_minute(serve, hub_db, monkeypatch):
    good = token_for(hub_db)
    checked = []
    real_check = tokens.check
    monkeypatch.setattr(tokens, "check", lambda conn, presented: checked.append(presented)
                        or real_check(conn, presented))
    host, port = serve()
    body = protocol.pack({"site": "x", "vector": []})

    def post(token):
        with socket.create_connection((host, port)) as sock:
            sock.sendall(head("/v1/hello", len(body), token) + body)
            status, headers, _ = answer(sock)
            return status, headers
    for i in range(20):
        assert post(f"fc1_guess{i}")[0] == 401
    assert len(checked) == 20
    status, headers = post(good)                    # even a good token waits
    assert status == 429 and 55 <= int(headers["retry-after"]) <= 60
    assert headers["connection"] == "close"
    assert post("fc1_guess")[0] == 429
    assert len(checked) == 20                       # the database was not asked
    # the honest client meanwhile says why and for how long, in words
    from fieldcoord.sync.http import HttpPeer, PeerError
    peer = HttpPeer(f"http://{host}:{port}", good, "hub")
    with pytest.raises(PeerError, match=r"answers again in \d+ s") as e:
        peer.hello("5b0c2a54-1d1e-4c55-9a52-2f6d7c2f6f10", "CCF", {})
    peer.close()
    assert e.value.status == 429


def test_failed_tokens_are_remembered_for_a_minute_and_for_few_addresses():
    now = [1000.0]
    failures = FailedTokens(limit=20, window=60, size=100, clock=lambda: now[0])
    for _ in range(19):
        failures.failed("203.0.113.9")
        now[0] += 3                                 # 20 failures over 57 s
    assert not failures.wait("203.0.113.9")
    failures.failed("203.0.113.9")
    assert failures.wait("203.0.113.9") == 60
    now[0] += 59.5
    assert 0 < failures.wait("203.0.113.9") <= 0.5
    now[0] += 1
    assert not failures.wait("203.0.113.9")
    # spread over more than a minute: no wait
    for _ in range(40):
        failures.failed("203.0.113.10")
        now[0] += 4
    assert not failures.wait("203.0.113.10")
    # bounded: the addresses that failed longest ago are forgotten
    for i in range(1000):
        failures.failed(f"10.0.{i // 256}.{i % 256}")
    assert len(failures) == 100
    # an IPv6 client counts as its /64
    assert FailedTokens.address(("2001:db8::1", 1)) == FailedTokens.address(
        ("2001:db8::ffff:1", 2)) == "2001:db8::/64"
    assert FailedTokens.address(("::ffff:192.0.2.7", 1)) == "192.0.2.7"


# --------------------------------------------------------------------------- under load
HUB = """
import sys
from fieldcoord.hub.server import make_server
server, sock = make_server(sys.argv[1], "127.0.0.1", 0)
print(sock.getsockname()[1], flush=True)
server.run(sockets=[sock])
"""


def _rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def _health_seconds(port: int) -> float:
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/v1/health")
        assert conn.getresponse().status == 200
    finally:
        conn.close()
    return time.perf_counter() - start


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_hub_limits_under_load(hub_db):
    """100 clients without a token start 23 MB uploads at once, send what the network takes
    (up to 4 MB each), then stall: the hub's memory grows by less than 150 MB in all and
    /v1/health answers in under 100 ms meanwhile."""
    hub = subprocess.Popen([sys.executable, "-c", HUB, str(hub_db)], cwd=ROOT,
                           stdout=subprocess.PIPE, text=True)
    clients: list[socket.socket] = []
    try:
        port = int(hub.stdout.readline())
        deadline = time.monotonic() + 10
        while True:                         # listening once uvicorn has started
            try:
                _health_seconds(port)
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        for _ in range(5):
            _health_seconds(port)
        time.sleep(0.3)
        before = _rss_kb(hub.pid)
        peak = [before]
        sampling = threading.Event()

        def sample():
            while not sampling.is_set():
                peak[0] = max(peak[0], _rss_kb(hub.pid))
                time.sleep(0.005)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()

        start = threading.Barrier(100)
        chunk = memoryview(b"\0" * 4 * 1024 * 1024)

        def upload():
            sock = socket.create_connection(("127.0.0.1", port))
            clients.append(sock)
            sock.settimeout(5)
            start.wait()
            try:
                sock.sendall(head("/v1/push", 23_000_000))
                sock.sendall(chunk)
            except OSError:
                pass                        # answered and cut off: the hub read no more
        uploads = [threading.Thread(target=upload) for _ in range(100)]
        for t in uploads:
            t.start()
        for t in uploads:
            t.join(20)
        latencies = []
        for _ in range(20):                 # while the 100 connections stall
            latencies.append(_health_seconds(port))
            time.sleep(0.05)
        sampling.set()
        sampler.join()
        grown = (peak[0] - before) / 1024
        print(f"hub memory {before / 1024:.0f} MB, grew {grown:.1f} MB under 100 stalled "
              f"uploads; /v1/health max {max(latencies) * 1000:.1f} ms, median "
              f"{sorted(latencies)[10] * 1000:.1f} ms")
        assert grown < 150
        assert max(latencies) < 0.1
        assert hub.poll() is None
    finally:
        for sock in clients:
            sock.close()
        hub.terminate()
        hub.wait(10)
