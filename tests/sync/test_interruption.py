# SPDX-License-Identifier: GPL-3.0-or-later
"""A sync cut anywhere resumes: at most one batch is sent again, the database stays sound."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from fieldcoord.store import Store, trust
from fieldcoord.sync.engine import StorePeer, sync
from fieldcoord.sync.http import PeerError


class CutPeer(StorePeer):
    """A peer whose connection drops after `after` batches of a pull."""

    def __init__(self, store, after):
        super().__init__(store)
        self.after, self.sent = after, 0

    def pull(self, agency, since):
        for i, item in enumerate(super().pull(agency, since)):
            if i == self.after:
                raise PeerError("connection dropped")
            self.sent += 1
            yield item


def fill(store, n=120):
    with store.transaction():
        for i in range(n):
            store.add("contact", {"name": f"Person {i}", "agency": "CCF", "notes": "n" * 3000,
                                  "phone": f"360 555 01{i % 100:02d}"})


@pytest.mark.parametrize("cut_after", [0, 1, 3])
def test_a_dropped_connection_costs_at_most_one_batch(replicas, monkeypatch, cut_after):
    from fieldcoord.store import exchange
    monkeypatch.setattr(exchange, "BATCH_BYTES", 60_000)
    # a head signed after every entry, so batches may end anywhere
    monkeypatch.setattr(trust, "HEAD_EVERY", 1)
    hub, laptop = replicas("hub"), replicas("laptop")
    fill(hub)
    peer = CutPeer(hub, cut_after)
    with pytest.raises(PeerError):
        sync(laptop, peer)
    got = laptop.conn.execute("SELECT count(*) FROM contact").fetchone()[0]
    assert laptop.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    again = CutPeer(hub, 10_000)
    result = sync(laptop, again)
    assert laptop.dump() == hub.dump()
    assert result.received.duplicates == 0, "nothing applied before the cut is sent again"
    assert got > 0 or cut_after == 0


KILL_SCRIPT = textwrap.dedent("""
    import sys
    from fieldcoord.store import Store
    from fieldcoord.sync.engine import StorePeer, sync
    hub, laptop = Store.open(sys.argv[1]), Store.open(sys.argv[2])
    print("ready", flush=True)
    sync(laptop, StorePeer(hub))
""")


def test_a_process_killed_while_applying_resumes(replicas, tmp_path):
    hub, laptop = replicas("hub"), replicas("laptop")
    fill(hub, 1500)
    script = tmp_path / "apply.py"
    script.write_text(KILL_SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(hub.path), str(laptop.path)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(0.4)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    fresh = Store.open(laptop.path)
    assert fresh.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    sync(fresh, StorePeer(hub))
    assert fresh.dump() == hub.dump()
    fresh.close()
