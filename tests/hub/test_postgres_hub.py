# SPDX-License-Identifier: GPL-3.0-or-later
"""A regional hub on PostgreSQL: an SQLite hub moved in with `hub import-sqlite` serves its
laptops without a resend; laptops converge through it with conflicts kept; a partner's forged
change is refused as by every replica; a new laptop's first sync adopts a snapshot made from
PostgreSQL rows. Over real HTTP, against the throwaway server the tests start."""
import json
import subprocess
import sys
import time

import pytest
from region import Region
from serving import wait_until_serving

from fieldcoord.hub import tokens
from fieldcoord.hub.server import start_in_thread
from fieldcoord.store import Store, identity
from fieldcoord.store.exchange import outgoing, sites_of, vector
from fieldcoord.store.postgres import open_store
from fieldcoord.sync import snapshot
from fieldcoord.sync.engine import StorePeer, sync
from fieldcoord.sync.http import HttpPeer


def contacts(store):
    return sorted(c["name"] for c in json.loads(store.dump())["contact"])


@pytest.fixture
def moved(tmp_path, postgres, request):
    """An SQLite hub of CCF with two laptops in step and a partner hub of MPD, moved into
    PostgreSQL by the command line and served from there."""
    region = Region()
    hub = region.make(tmp_path / "hub.db", "CCF", device="ccf-hub")
    a = region.make(tmp_path / "a.db", "CCF", device="laptop-a")
    b = region.make(tmp_path / "b.db", "CCF", device="laptop-b")
    mpd = region.make(tmp_path / "mpd.db", "MPD", device="mpd-hub")
    evil = region.make(tmp_path / "evil.db", "MPD", device="mpd-evil")
    hub.add("agency", {"name": "Metro Police Department", "code": "MPD"})
    mpd.add("agency", {"name": "Clark County Fire", "code": "CCF"})
    a.add("contact", {"name": "Dana Whitfield", "agency": "CCF", "phone": "360 555 0100"})
    for s in (a, b, mpd, a):
        sync(s, StorePeer(hub))
    sync(evil, StorePeer(mpd))
    with hub.transaction():
        token_a = tokens.issue(hub.conn, "CCF", "laptop-a")[1]
        token_b = tokens.issue(hub.conn, "CCF", "laptop-b")[1]
        token_m = tokens.issue(hub.conn, "MPD", "mpd-hub")[1]
    fingerprint = identity.describe(hub)["agency_fingerprint"]
    hub.close()
    url = postgres.create_database(f"hub{abs(hash(request.node.name)) % 10**9}")
    done = subprocess.run([sys.executable, "-m", "fieldcoord", "--db", str(tmp_path / "hub.db"),
                           "hub", "--database-url", url, "import-sqlite"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "moved" in done.stdout and "device tokens" in done.stdout
    served, stop = start_in_thread(tmp_path / "hub.db", database_url=url)

    def peer(token):
        p = HttpPeer(served, token, "hub")
        p.key_fingerprint = fingerprint
        return p
    yield {"a": a, "b": b, "mpd": mpd, "evil": evil, "url": url, "db": tmp_path / "hub.db",
           "peer": peer, "tokens": {"a": token_a, "b": token_b, "mpd": token_m},
           "region": region, "tmp": tmp_path}
    stop()
    for s in (a, b, mpd, evil):
        s.close()


def test_a_moved_hub_serves_its_laptops_without_a_resend(moved):
    a, peer = moved["a"], moved["peer"]
    result = sync(a, peer(moved["tokens"]["a"]))
    assert result.received.applied == 0 and result.sent.applied == 0
    with open_store(moved["url"], moved["db"]) as h:
        assert contacts(h) == ["Dana Whitfield"]
        assert h.conn.execute("SELECT count(*) FROM device_token").fetchone()[0] == 3


def test_laptops_converge_through_postgresql_with_conflicts_kept(moved):
    a, b, mpd, peer, t = moved["a"], moved["b"], moved["mpd"], moved["peer"], moved["tokens"]
    dana = json.loads(a.dump())["contact"][0]["id"]
    a.edit(dana, {"title": "Battalion Chief"})
    b.edit(dana, {"title": "Division Chief"})
    b.add("contact", {"name": "Avery Stone", "agency": "CCF", "scope": "private"})
    mpd.add("contact", {"name": "José Núñez", "agency": "MPD", "scope": "CCF,MPD"})
    for s, tok in ((a, "a"), (b, "b"), (mpd, "mpd"), (a, "a"), (b, "b")):
        sync(s, peer(t[tok]))
    assert a.dump() == b.dump()
    assert contacts(a) == ["Avery Stone", "Dana Whitfield", "José Núñez"]
    assert "Avery Stone" not in mpd.dump()                 # private to CCF
    open_a = [c for c in json.loads(a.dump())["conflicts"]]
    assert open_a and open_a == json.loads(b.dump())["conflicts"]
    with open_store(moved["url"], moved["db"]) as h:
        assert h.dump() == a.dump()


def test_a_forged_change_is_refused_by_the_postgresql_hub(moved):
    """MPD's hub passes on a change of CCF's contact whose value it altered after signing:
    the PostgreSQL hub verifies it as every replica does."""
    a, peer, t = moved["a"], moved["peer"], moved["tokens"]
    dana = json.loads(a.dump())["contact"][0]["id"]
    a.edit(dana, {"title": "Chief", "scope": "CCF,MPD"})
    mpd_laptop = moved["evil"]
    mpd_laptop.add("contact", {"name": "Forged Person", "agency": "MPD", "scope": "all"})
    mpd_laptop.sign_heads()
    since = {k: 0 for k in vector(mpd_laptop.conn) if k[0] == mpd_laptop.site_uuid}
    batches = list(outgoing(mpd_laptop.conn, since, agency="MPD"))
    entry = batches[0][-1]
    entry.cells["name"] = ["Someone Else"]          # altered after it was signed
    p = peer(t["mpd"])
    report = p.push("MPD", batches[0], sites_of(mpd_laptop.conn, batches[0]))
    assert report.tampered and report.applied == 0
    with open_store(moved["url"], moved["db"]) as h:
        assert "Someone Else" not in h.dump() and "Forged Person" not in h.dump()


def test_a_new_laptops_first_sync_adopts_a_snapshot_of_postgresql_rows(moved, monkeypatch):
    monkeypatch.setattr(snapshot, "SNAPSHOT_AT", 1)
    with open_store(moved["url"], moved["db"]) as h, h.transaction():
        token = tokens.issue(h.conn, "CCF", "laptop-c")[1]
    c = Store.create(moved["tmp"] / "c.db", "Clark County Fire", "CCF", device="laptop-c",
                     founder=False)
    result = sync(c, moved["peer"](token))
    assert result.snapshot is not None
    assert contacts(c) == ["Dana Whitfield"]
    assert [h.title for h in c.search("whitfield")] == ["Dana Whitfield"]   # indexed here
    c.close()


def test_two_hub_processes_on_one_database_keep_every_losing_value(moved):
    """Two `hub serve` processes on the same PostgreSQL database, a laptop on each; both
    laptops change one field at once: every replica ends with the same value and the same
    conflict, whichever process took which write."""
    import socket


    procs, urls = [], []
    for _ in range(2):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "fieldcoord", "--db", str(moved["db"]), "hub",
             "--database-url", moved["url"], "serve", "--port", str(port)],
            stderr=subprocess.PIPE, text=True))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for url, proc in zip(urls, procs):
            wait_until_serving(url, proc)
        a, b, t = moved["a"], moved["b"], moved["tokens"]
        fingerprint = moved["peer"](t["a"]).key_fingerprint

        def via(url, token):
            p = HttpPeer(url, token, "hub")
            p.key_fingerprint = fingerprint
            return p
        dana = json.loads(a.dump())["contact"][0]["id"]
        a.edit(dana, {"title": "Battalion Chief"})
        b.edit(dana, {"title": "Division Chief"})
        import threading
        errors = []

        def run(path, url, token):
            try:
                with Store.open(path) as store:      # (a connection of this thread)
                    sync(store, via(url, token))
            except Exception as e:          # shown by the assert below
                errors.append(e)
        both = [threading.Thread(target=run, args=(moved["tmp"] / "a.db", urls[0], t["a"])),
                threading.Thread(target=run, args=(moved["tmp"] / "b.db", urls[1], t["b"]))]
        for th in both:
            th.start()
        for th in both:
            th.join()
        assert errors == []
        sync(a, via(urls[1], t["a"]))
        sync(b, via(urls[0], t["b"]))
        assert a.dump() == b.dump()
        conflicts = json.loads(a.dump())["conflicts"]
        kept = json.loads(a.dump())["contact"][0]["title"]
        # the value that won is the record's, the one that lost is kept as the conflict's
        assert len(conflicts) == 1 and conflicts[0]["field"] == "title"
        assert {kept, conflicts[0]["value"]} == {"Battalion Chief", "Division Chief"}
        with open_store(moved["url"], moved["db"]) as h:
            assert h.dump() == a.dump()
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=20)


def _cli(db, url, *args):
    return subprocess.run([sys.executable, "-m", "fieldcoord", "--db", str(db), "hub",
                           "--database-url", url, *args], capture_output=True, text=True,
                          timeout=120)


def test_an_older_schema_is_refused_until_hub_migrate(moved):
    import psycopg
    url = moved["url"]
    with psycopg.connect(url) as c:             # the hub as an earlier release left it
        c.execute('ALTER TABLE resource_request DROP COLUMN "agreement"')
        c.execute("DROP INDEX agency_by_code")
        c.execute("DELETE FROM _sqlite_migrations WHERE name IN ('0013_request_agreement', "
                  "'0015_agency_codes', '0016_pending_documents')")
    from fieldcoord.core.errors import NotInitialised
    with pytest.raises(NotInitialised, match="hub --database-url URL migrate"):
        open_store(url, moved["db"])
    done = _cli(moved["db"], url, "migrate")
    assert done.returncode == 0 and "0016_pending_documents" in done.stdout, done.stderr
    with psycopg.connect(url) as c:
        assert c.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'agency_by_code'")\
            .fetchone()[0] == 1
    with open_store(url, moved["db"]) as h:
        h.add("request", {"requesting_agency": "CCF", "description": "Two engines",
                          "agreement": None, "status": "requested"})
    assert "up to date" in _cli(moved["db"], url, "migrate").stdout


def test_a_hub_restored_from_pg_dump_gets_back_what_it_lost(moved, postgres):
    from pgserver import binaries
    a, peer, t = moved["a"], moved["peer"], moved["tokens"]
    dump = moved["tmp"] / "hub.dump"
    done = subprocess.run([str(binaries() / "pg_dump"), "--format=custom", "--file", str(dump),
                           "--dbname", moved["url"]], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    a.add("contact", {"name": "Casey Moreno", "agency": "CCF"})
    first = sync(a, peer(t["a"]))
    assert first.sent.applied >= 1
    # the server is lost; the dump goes into a new database
    restored = postgres.create_database("restored")
    done = subprocess.run([str(binaries() / "pg_restore"), "--dbname", restored, str(dump)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with open_store(restored, moved["db"]) as h:
        assert "Casey Moreno" not in h.dump()
    assert _cli(moved["db"], restored, "new-epoch").returncode == 0
    served, stop = start_in_thread(moved["db"], database_url=restored)
    try:
        p = HttpPeer(served, t["a"], "hub")
        p.key_fingerprint = peer(t["a"]).key_fingerprint
        again = sync(a, p)
    finally:
        stop()
    assert again.peer.epoch != first.peer.epoch and again.sent.applied >= 1
    with open_store(restored, moved["db"]) as h:
        assert "Casey Moreno" in h.dump()


def _connections(pid: int, port: int) -> int:
    """Established TCP connections to `port` that process `pid` holds open."""
    import os
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    n = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if int(f[1].rsplit(":", 1)[1], 16) == port and f[3] == "01" and f[9] in inodes:
                n += 1
    return n


def test_hub_serve_with_workers_runs_several_processes_on_one_port(moved):
    import os
    import signal
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "fieldcoord", "--db", str(moved["db"]), "hub",
                             "--database-url", moved["url"], "serve", "--port", str(port),
                             "--workers", "3"], stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, proc)

        def workers():
            out = []
            for d in os.listdir("/proc"):
                if d.isdigit():
                    try:
                        stat = open(f"/proc/{d}/stat").read()
                    except OSError:
                        continue
                    if int(stat.rsplit(")", 1)[1].split()[1]) == proc.pid:
                        out.append(int(d))
            return out
        assert len(workers()) == 3
        # a burst of laptops connecting at once is spread over the workers (each listens on
        # a socket of its own): none is left idle while another holds them all
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(30)]
        try:
            deadline = time.monotonic() + 10
            while True:
                counts = [_connections(pid, port) for pid in workers()]
                if all(counts) and sum(counts) == 30 or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert all(counts) and sum(counts) == 30, counts
        finally:
            for c in held:
                c.close()
        a = moved["a"]
        a.add("contact", {"name": "Casey Moreno", "agency": "CCF"})
        p = HttpPeer(url, moved["tokens"]["a"], "hub")
        p.key_fingerprint = moved["peer"](moved["tokens"]["a"]).key_fingerprint
        assert sync(a, p).sent.applied >= 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert workers() == []
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "from 3 processes" in proc.stderr.read()


def test_the_same_batches_give_the_same_dump_on_sqlite_and_postgresql(moved):
    """The hub's SQLite file (left where it was by import-sqlite) and its PostgreSQL copy take
    the same batches from the laptops: their dumps are the same bytes."""
    from fieldcoord.store.exchange import apply_batch
    a, b, mpd = moved["a"], moved["b"], moved["mpd"]
    dana = json.loads(a.dump())["contact"][0]["id"]
    a.edit(dana, {"title": "Battalion Chief", "languages": "en, es"})
    b.edit(dana, {"title": "Division Chief"})
    b.add("contact", {"name": "Avery Stone", "agency": "CCF", "scope": "CCF,MPD"})
    mpd.add("agency", {"name": "Harbor EMS", "code": "HEMS"})
    with Store.open(moved["db"]) as lite, open_store(moved["url"], moved["db"]) as pg:
        assert lite.dump() == pg.dump()
        for laptop in (a, b, mpd):
            since = {k: 0 for k in vector(laptop.conn) if k[0] == laptop.site_uuid}
            for batch in laptop.outgoing(since, agency="CCF"):
                sites = sites_of(laptop.conn, batch)
                got = [apply_batch(hub, batch, sites) for hub in (lite, pg)]
                assert (got[0].applied, got[0].conflicts, len(got[0].refused)) == \
                    (got[1].applied, got[1].conflicts, len(got[1].refused))
        assert lite.dump() == pg.dump()
        assert "Avery Stone" in pg.dump() and json.loads(pg.dump())["conflicts"]


# ---------------------------------------------------------------- round trips and parallel pushes
def _serve(moved, workers=1):
    """A `hub serve` process on the PostgreSQL database; returns (url, process)."""
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "fieldcoord", "--db", str(moved["db"]), "hub",
                             "--database-url", moved["url"], "serve", "--port", str(port),
                             "--workers", str(workers)], stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url, proc)
    except BaseException:
        proc.kill()
        raise
    return url, proc


def _stop(proc):
    proc.terminate()
    proc.wait(timeout=20)


def _next_batch(laptop, **values):
    """The laptop's edit of its first contact, as the batch it pushes, with its sites."""
    rid = json.loads(laptop.dump())["contact"][0]["id"]
    since = {k: v for k, v in vector(laptop.conn).items() if k[0] == laptop.site_uuid}
    laptop.edit(rid, values)
    batch = next(laptop.outgoing(since, agency="CCF"))
    return batch, sites_of(laptop.conn, batch)


class Statements:
    """Counts the statements psycopg sends (each one a round trip)."""

    def __init__(self, monkeypatch):
        import psycopg
        self.sent = []
        execute, many = psycopg.Cursor.execute, psycopg.Cursor.executemany

        def counted(cur, query, *a, **k):
            self.sent.append(str(query))
            return execute(cur, query, *a, **k)

        def counted_many(cur, query, *a, **k):
            self.sent.append(str(query))
            return many(cur, query, *a, **k)
        monkeypatch.setattr(psycopg.Cursor, "execute", counted)
        monkeypatch.setattr(psycopg.Cursor, "executemany", counted_many)

    def during(self, fn):
        self.sent.clear()
        fn()
        return len(self.sent)


def test_a_converged_laptops_hello_and_pull_take_few_round_trips(moved, monkeypatch):
    """Once a hub process has read the hub's keys, certificates and vector, a converged
    laptop's hello is one statement (its token with the counters of slow-changing rows and of
    streams), two after a push (the vector read again), and its pull reads no stream it holds
    to the end."""
    from fieldcoord.hub.app import Hub
    from fieldcoord.hub.stores import PostgresHubStore
    from fieldcoord.sync import keyexchange, protocol
    a = moved["a"]
    hub = Hub(PostgresHubStore(moved["url"], moved["db"]))
    try:
        mine = vector(a.conn)
        hello = protocol.pack({"site": a.site_uuid, "agency": "CCF",
                               "buckets": protocol.vector_digests(mine),
                               **keyexchange.offer(a)})
        pull = protocol.pack({"since": protocol.encode_vector(mine)})
        count = Statements(monkeypatch)

        def request(route, body):
            token = hub.authenticate("Bearer " + moved["tokens"]["a"])
            return protocol.unpack(hub.handle(route, token, body))
        def answer():
            out = request("/v1/hello", hello)
            assert out.pop("box")           # (sealed afresh each time)
            return out
        first = answer()
        assert count.during(lambda: request("/v1/hello", hello)) == 1
        assert answer() == first
        # (token, signed heads, then one snapshot: sites, streams, site certificates, vector)
        assert count.during(lambda: request("/v1/pull", pull)) <= 8
        assert not any("FROM change" in q for q in count.sent)
        from fieldcoord.store.exchange import apply_batch
        batch, sites = _next_batch(moved["b"], title="Division Chief")
        with open_store(moved["url"], moved["db"]) as h:
            apply_batch(h, batch, sites)
        assert count.during(lambda: request("/v1/hello", hello)) == 2
        assert count.during(lambda: request("/v1/hello", hello)) == 1
    finally:
        hub.hub_store.close()


def test_a_hello_sees_at_once_what_another_process_changed(moved):
    """A hub process keeps what it read of keys, revocations and the vector while nothing
    changes them: a device revoked and a change pushed by another process are in the very next
    hello's answer."""
    from fieldcoord.hub.app import Hub
    from fieldcoord.hub.stores import PostgresHubStore
    from fieldcoord.sync import keyexchange, protocol
    a, b = moved["a"], moved["b"]
    hub = Hub(PostgresHubStore(moved["url"], moved["db"]))
    try:
        hello = protocol.pack({"site": a.site_uuid, "agency": "CCF",
                               "buckets": protocol.vector_digests(vector(a.conn)),
                               **keyexchange.offer(a)})

        def answer():
            token = hub.authenticate("Bearer " + moved["tokens"]["a"])
            out = protocol.unpack(hub.handle("/v1/hello", token, hello))
            out.pop("box")                  # (sealed afresh each time)
            return out
        before = answer()
        assert answer() == before and before["revocations"] == [] and before["differ"] == []
        with open_store(moved["url"], moved["db"]) as h:    # another connection: a CLI
            identity.revoke_device(h, b.site_uuid)
        assert len(answer()["revocations"]) == 1
        from fieldcoord.store.exchange import apply_batch
        batch, sites = _next_batch(a, title="Battalion Chief")
        with open_store(moved["url"], moved["db"]) as h:    # another hub process's push
            assert apply_batch(h, batch, sites).applied == 1
        vector_now = protocol.decode_vector(answer()["vector"])
        assert vector_now[(a.site_uuid, batch[0].audience)] == batch[-1].seq
    finally:
        hub.hub_store.close()


def test_a_revoked_token_is_refused_at_once_by_every_process(moved):
    import requests
    t = moved["tokens"]
    served = [_serve(moved), _serve(moved)]
    try:
        a = moved["a"]

        def status(url):
            p = HttpPeer(url, t["a"], "hub")
            p.key_fingerprint = moved["peer"](t["a"]).key_fingerprint
            try:
                sync(a, p)
                return 200
            except Exception:
                return requests.post(url + "/v1/hello", data=b"",
                                     headers={"Authorization": f"Bearer {t['a']}"}).status_code
        assert [status(url) for url, _ in served] == [200, 200]
        with open_store(moved["url"], moved["db"]) as h:
            token_id = next(tok.id for tok in tokens.listing(h.conn) if tok.device == "laptop-a")
        done = _cli(moved["db"], moved["url"], "token", "revoke", str(token_id))
        assert done.returncode == 0, done.stderr
        assert [status(url) for url, _ in served] == [401, 401]
    finally:
        for _, proc in served:
            _stop(proc)


def _hold_commit(store):
    """Make the next commit of `store`'s connection wait: returns (reached, release)."""
    import threading
    reached, release = threading.Event(), threading.Event()
    conn = store.conn
    commit = conn.commit

    def held():
        reached.set()
        assert release.wait(60)
        conn.commit = commit
        commit()
    conn.commit = held
    return reached, release


def test_pushes_to_different_streams_commit_side_by_side(moved):
    """Laptop A's push holds its transaction open in this process; laptop B's push to another
    stream and record commits through a hub process meanwhile, and is seen before A's. A push
    that changes A's record waits for A's commit, and the losing value is kept."""
    import threading

    from fieldcoord.hub.stores import PostgresHubStore
    a, b, t = moved["a"], moved["b"], moved["tokens"]
    b.add("contact", {"name": "Avery Stone", "agency": "CCF"})
    sync(b, moved["peer"](t["b"]))
    batch_a, sites_a = _next_batch(a, title="Battalion Chief")
    # B edits its own record (another stream, another record)...
    avery = next(c["id"] for c in json.loads(b.dump())["contact"] if c["name"] == "Avery Stone")
    since_b = {k: v for k, v in vector(b.conn).items() if k[0] == b.site_uuid}
    b.edit(avery, {"title": "Captain"})
    batch_b = next(b.outgoing(since_b, agency="CCF"))
    sites_b = sites_of(b.conn, batch_b)
    # ...then A's record (Dana), in its next batch
    since_b2 = {(e.origin, e.audience): e.seq for e in batch_b}
    dana = next(c["id"] for c in json.loads(b.dump())["contact"] if c["name"] == "Dana Whitfield")
    b.edit(dana, {"title": "Division Chief"})
    batch_b2 = next(b.outgoing(since_b2, agency="CCF"))
    sites_b2 = sites_of(b.conn, batch_b2)

    hub = PostgresHubStore(moved["url"], moved["db"])
    url, proc = _serve(moved)
    held = {}
    try:
        token_a = hub.check_token(t["a"])

        def push_a():
            store = hub.store()
            reached, release = _hold_commit(store)
            held["reached"], held["release"] = reached, release
            held["report"] = hub.push(token_a, batch_a, sites_a)
            hub.close()
        ta = threading.Thread(target=push_a)
        ta.start()
        deadline = time.monotonic() + 30
        while "reached" not in held and time.monotonic() < deadline:
            time.sleep(0.01)
        assert held["reached"].wait(30)             # A's transaction is open, its locks held
        peer_b = HttpPeer(url, t["b"], "hub")
        got = {}
        tb = threading.Thread(target=lambda: got.setdefault(
            "b", peer_b.push("CCF", batch_b, sites_b)))
        tb.start()
        tb.join(30)
        assert not tb.is_alive() and got["b"].applied == 1     # committed while A's is open
        with open_store(moved["url"], moved["db"]) as h:
            titles = {c["name"]: c.get("title") for c in json.loads(h.dump())["contact"]}
        assert titles["Avery Stone"] == "Captain"
        assert titles["Dana Whitfield"] != "Battalion Chief"   # A's not committed yet
        # B's edit of A's record waits for A's transaction
        tc = threading.Thread(target=lambda: got.setdefault(
            "b2", peer_b.push("CCF", batch_b2, sites_b2)))
        tc.start()
        tc.join(1.5)
        assert tc.is_alive()
        held["release"].set()
        ta.join(30)
        tc.join(30)
        assert not ta.is_alive() and not tc.is_alive()
        assert held["report"].applied == 1 and got["b2"].applied == 1
        assert hub.alone == 0                       # A's push ran beside the others
        with open_store(moved["url"], moved["db"]) as h:
            dump = json.loads(h.dump())
        dana_now = next(c for c in dump["contact"] if c["name"] == "Dana Whitfield")
        kept = [c for c in dump["conflicts"] if c["field"] == "title"]
        assert len(kept) == 1
        assert {dana_now["title"], kept[0]["value"]} == {"Battalion Chief", "Division Chief"}
    finally:
        if "release" in held:
            held["release"].set()
        _stop(proc)
        hub.close()


def test_a_push_beside_others_that_reaches_the_hubs_own_streams_starts_again(moved):
    """The hub's own streams are written by one writer at a time: a transaction begun beside
    other pushes that reaches them stops (nothing written), and PostgresHubStore.push applies
    such a batch again alone."""
    from fieldcoord.store.postgres import WholeHub, lock_key
    with open_store(moved["url"], moved["db"]) as h:
        before = h.dump()
        h.conn.push_locks = [lock_key("record", "contact", "x")]
        with pytest.raises(WholeHub):
            h.add("contact", {"name": "Written Alone", "agency": "CCF"})
        h.conn.push_locks = None
        assert h.dump() == before
        h.add("contact", {"name": "Written Alone", "agency": "CCF"})
        assert "Written Alone" in h.dump()


def test_pushes_through_two_processes_at_once_hold_what_one_at_a_time_would(moved):
    """Two laptops push edits of one shared record and of a record each, batch after batch, at
    once through two hub processes: the PostgreSQL hub ends with the same bytes as the SQLite
    hub that takes the same batches one at a time (every losing value kept as a conflict)."""
    import threading

    from fieldcoord.store.exchange import apply_batch
    a, b, t = moved["a"], moved["b"], moved["tokens"]
    dana = json.loads(a.dump())["contact"][0]["id"]
    laptops = {"a": a, "b": b}
    batches, own = {}, {}
    for name, laptop in laptops.items():
        since = {k: v for k, v in vector(laptop.conn).items() if k[0] == laptop.site_uuid}
        own[name] = laptop.add("contact", {"name": f"Liaison {name}", "agency": "CCF"})
        batches[name] = []
        for n in range(8):
            if n:
                laptop.edit(own[name], {"title": f"{name} {n}"})
            laptop.edit(dana, {"title": f"{name} {n}", "notes": f"from {name}, {n}"})
            batch = next(laptop.outgoing(since, agency="CCF"))
            batches[name].append((batch, sites_of(laptop.conn, batch)))
            since.update({(e.origin, e.audience): e.seq for e in batch})
    served = [_serve(moved), _serve(moved)]
    try:
        errors, reports = [], []

        def push(name, url):
            try:
                for batch, sites in batches[name]:
                    reports.append(HttpPeer(url, t[name], "hub").push("CCF", batch, sites))
            except Exception as e:          # shown by the assert below
                errors.append(e)
        threads = [threading.Thread(target=push, args=(n, served[i][0]))
                   for i, n in enumerate(laptops)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
        assert errors == [] and len(reports) == 16
        assert all(r.applied >= 1 and not r.gaps and not r.refused for r in reports), \
            [(r.applied, r.gaps, r.refused, r.duplicates, r.held) for r in reports]
    finally:
        for _, proc in served:
            _stop(proc)
    with Store.open(moved["db"]) as lite, open_store(moved["url"], moved["db"]) as pg:
        for name in ("b", "a"):
            for batch, sites in batches[name]:
                apply_batch(lite, batch, sites)
        assert json.loads(pg.dump())["conflicts"]
        assert pg.dump() == lite.dump()
        assert vector(pg.conn) == vector(lite.conn)


def test_the_locks_of_a_push_name_its_streams_records_and_sites_whatever_its_cells():
    from fieldcoord.hub.stores import push_locks
    from fieldcoord.store.incoming import Entry
    from fieldcoord.store.postgres import lock_key
    site, other = "0" * 8 + "-0000-4000-8000-" + "0" * 12, "1" * 8 + "-1111-4111-8111-" + "1" * 12
    good = Entry(site, "all", 1, 1, "contact", "r1", 1, site, {"title": ["x", 1, other]})
    odd = Entry(site, "all", 2, 2, "contact", "r2", 2, site, {"title": 5, "_seen": "?"})
    locks = push_locks([good, odd], {})
    assert locks == sorted(locks)
    assert set(locks) >= {lock_key("stream", site, "all"), lock_key("record", "contact", "r1"),
                          lock_key("record", "contact", "r2"), lock_key("site", site),
                          lock_key("site", other)}


def test_an_agency_renamed_on_the_postgresql_hub_itself(moved):
    """A hub on PostgreSQL keeps no search documents: renaming an agency there (a record the
    hub edits itself) has none to refresh, and the change reaches its laptops."""
    with open_store(moved["url"], moved["db"]) as h:
        rid = h.agency_id("MPD") or h.add("agency", {"name": "Metro Police Department",
                                                     "code": "MPD"})
        assert h.edit(rid, {"name": "Metro Transit Police"}).values["name"] == \
            "Metro Transit Police"
        assert h.get(rid).values["name"] == "Metro Transit Police"
