# SPDX-License-Identifier: GPL-3.0-or-later
"""Partner keys from the command line: a sync or an import meeting a partner's key asks at a
terminal, is refused elsewhere with the fingerprint and the command that confirms it."""
import io
import json
import sys

import pytest

from fieldcoord.hub import tokens
from fieldcoord.hub.server import start_in_thread
from fieldcoord.store import Store, identity


def cli(db, *args, stdin="", tty=False, monkeypatch=None):
    """`fieldcoord` in this process: (exit status, stdout, stderr)."""
    from fieldcoord.cli import main

    class Input(io.StringIO):
        def isatty(self):
            return tty
    out, err = io.StringIO(), io.StringIO()
    with monkeypatch.context() as m:
        m.setattr(sys, "stdin", Input(stdin))
        m.setattr(sys, "stdout", out)
        m.setattr(sys, "stderr", err)
        code = main(["--db", str(db), *map(str, args)])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def setting(tmp_path, monkeypatch):
    hub = tmp_path / "ccf-hub.db"
    with Store.create(hub, "Clark County Fire", "CCF", device="ccf-hub") as h:
        h.add("agency", {"name": "Metro Police Department", "code": "MPD"})
        h.add("contact", {"name": "Dana Whitfield", "agency": "CCF", "scope": "all"})
        with h.transaction():
            _, token = tokens.issue(h.conn, "MPD", "mpd-hub")
        fp = identity.describe(h)["agency_fingerprint"]
    mpd = tmp_path / "mpd.db"
    Store.create(mpd, "Metro Police Department", "MPD", device="mpd-hub").close()
    url, stop = start_in_thread(hub)
    monkeypatch.setenv("FIELDCOORD_TOKEN_CCF", token)
    with Store.open(mpd) as s:
        with s.transaction():
            s.conn.execute("INSERT INTO peer (name, url) VALUES ('ccf', ?)", (url,))
    yield mpd, fp
    stop()


def test_a_sync_asks_at_a_terminal_and_says_how_elsewhere(setting, monkeypatch):
    mpd, fp = setting
    code, out, err = cli(mpd, "sync", monkeypatch=monkeypatch)
    assert code == 1 and fp in err and "fieldcoord keys trust CCF" in err
    code, out, err = cli(mpd, "sync", stdin="n\n", tty=True, monkeypatch=monkeypatch)
    assert code == 1 and "Do the fingerprints match?" in err
    with Store.open(mpd) as s:
        assert identity.trusted_key(s.conn, "CCF") is None and "Dana" not in s.dump()
    code, out, err = cli(mpd, "sync", stdin="y\n", tty=True, monkeypatch=monkeypatch)
    assert code == 0, err
    with Store.open(mpd) as s:
        assert "Dana Whitfield" in s.dump()
    code, out, _ = cli(mpd, "--json", "keys", monkeypatch=monkeypatch)
    partners = json.loads(out)["partners"]
    assert partners == [{"agency": "CCF", "fingerprint": fp, "trust": "confirmed", "seen": True}]


def test_keys_trust_takes_a_fingerprint_read_over_the_phone(setting, monkeypatch):
    mpd, fp = setting
    code, _, err = cli(mpd, "keys", "trust", "CCF", "12345 12345", monkeypatch=monkeypatch)
    assert code == 2 and "not a key fingerprint" in err
    code, _, err = cli(mpd, "keys", "trust", "CCF", fp.replace(" ", "-"), monkeypatch=monkeypatch)
    assert code == 0, err
    code, out, err = cli(mpd, "sync", monkeypatch=monkeypatch)
    assert code == 0, err
    # a second, different key for CCF is refused loudly
    code, _, err = cli(mpd, "keys", "trust", "CCF", "11111 " * 5 + "11111",
                       monkeypatch=monkeypatch)
    assert code != 0 and "refusing" in err
