# SPDX-License-Identifier: GPL-3.0-or-later
"""A large write pauses the garbage collector's automatic passes and always lets it run again
afterwards, as it was: nested pauses, several threads, a write that fails."""
import gc
import threading

import pytest

from fieldcoord.core import gcpause
from fieldcoord.core.errors import ValidationError
from fieldcoord.store import replica


@pytest.fixture(autouse=True)
def collector_on():
    assert gcpause.paused() == 0
    gc.enable()
    yield
    assert gcpause.paused() == 0, "a pause was left held"
    gc.enable()


def test_pauses_nest_and_the_last_resume_lets_the_collector_run():
    gcpause.pause()
    gcpause.pause()
    assert not gc.isenabled()
    gcpause.resume()
    assert not gc.isenabled()
    gcpause.resume()
    assert gc.isenabled()
    gcpause.resume()                    # one resume too many changes nothing
    assert gc.isenabled() and gcpause.paused() == 0


def test_a_collector_disabled_before_stays_disabled():
    gc.disable()
    gcpause.pause()
    gcpause.resume()
    assert not gc.isenabled()


def test_pauses_from_several_threads_end_with_the_collector_running():
    start = threading.Barrier(8)

    def work():
        start.wait()
        for _ in range(200):
            gcpause.pause()
            gcpause.resume()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert gc.isenabled()


def _add_contacts(store, n):
    for i in range(n):
        store.add("contact", {"name": f"Responder {i}", "agency": "CCF"})


def test_a_large_transaction_pauses_the_collector_until_it_commits(store, monkeypatch):
    monkeypatch.setattr(replica, "GC_PAUSE_RECORDS", 20)
    with store.transaction():
        _add_contacts(store, 19)
        assert gc.isenabled()
        _add_contacts(store, 1)
        assert not gc.isenabled()        # the twentieth record
        _add_contacts(store, 30)
    assert gc.isenabled()
    assert store.conn.execute("SELECT count(*) FROM contact").fetchone()[0] == 50
    store.add("contact", {"name": "One more", "agency": "CCF"})
    assert gc.isenabled()                 # a single write never pauses it


def test_a_large_transaction_that_fails_lets_the_collector_run_again(store, monkeypatch):
    monkeypatch.setattr(replica, "GC_PAUSE_RECORDS", 20)
    with pytest.raises(ValidationError):
        with store.transaction():
            _add_contacts(store, 25)
            assert not gc.isenabled()
            store.add("contact", {"name": "Nobody", "agency": "NOPE"})
    assert gc.isenabled()
    assert store.conn.execute("SELECT count(*) FROM contact").fetchone()[0] == 0


def test_making_batches_to_send_pauses_the_collector_only_while_each_is_made(store, monkeypatch):
    """Reading the log for a partner pauses the collector while it makes a batch, lets it run
    while the caller has the batch, and leaves it running when the caller stops early."""
    from fieldcoord.store import exchange
    made = exchange.Batch.__init__
    seen: list[bool] = []

    def noting(self, *args):
        seen.append(gc.isenabled())
        made(self, *args)

    monkeypatch.setattr(exchange.Batch, "__init__", noting)
    _add_contacts(store, 300)
    store.take_recent()
    store.sign_heads()
    since = {k: 0 for k in exchange.vector(store.conn)}
    batches = []
    for batch in exchange.outgoing(store.conn, since, max_bytes=2_000):
        assert gc.isenabled() and gcpause.paused() == 0      # the caller's turn
        batches.append(batch)
    assert len(batches) > 1 and seen and not any(seen)
    assert sum(map(len, batches)) == 301                    # (the agency's own record too)
    early = exchange.outgoing(store.conn, since, max_bytes=2_000)
    next(early)
    early.close()
    assert gc.isenabled() and gcpause.paused() == 0
