# SPDX-License-Identifier: GPL-3.0-or-later
"""From the command line: a hub and two laptops of CCF and a hub of partner MPD, on 127.0.0.1,
converge after offline edits; a conflict shows everywhere until resolved; private stays private."""
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

SUPPORT = Path(__file__).resolve().parents[1] / "support"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    def __init__(self, tmp: Path, name: str, env: dict):
        self.db, self.name, self.env = tmp / f"{name}.db", name, env

    def __call__(self, *args, json_out=False, stdin=None, code=0):
        cmd = [sys.executable, "-m", "fieldcoord", "--db", str(self.db)]
        r = subprocess.run(cmd + (["--json"] if json_out else []) + [str(a) for a in args],
                           capture_output=True, text=True, input=stdin, env=self.env, timeout=120)
        assert r.returncode == code, f"{self.name} {args}: {r.returncode}\n{r.stdout}\n{r.stderr}"
        return json.loads(r.stdout) if json_out else r.stdout

    def serve(self, port: int):
        proc = subprocess.Popen([sys.executable, "-m", "fieldcoord", "--db", str(self.db), "hub",
                                 "serve", "--port", str(port)], env=self.env,
                                stderr=subprocess.PIPE, text=True)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(url + "/v1/health", timeout=1).ok:
                    return proc, url
            except requests.RequestException:
                time.sleep(0.1)
        proc.kill()
        raise AssertionError(f"hub {self.name} did not start: {proc.stderr.read()}")


@pytest.fixture
def env(tmp_path):
    e = dict(os.environ)
    e.update(PYTHON_KEYRING_BACKEND="filekeyring.FileKeyring",
             PYTHONPATH=os.pathsep.join([str(SUPPORT), e.get("PYTHONPATH", "")]),
             FIELDCOORD_TEST_KEYRING=str(tmp_path / "keyring.json"))
    return e


def test_two_agencies_converge_from_the_command_line(tmp_path, env):
    hub_ccf, laptop1, laptop2 = (Node(tmp_path, n, env) for n in ("hub-ccf", "laptop1", "laptop2"))
    hub_mpd = Node(tmp_path, "hub-mpd", env)
    hub_ccf("init", "--agency", "Clark County Fire", "--code", "CCF", "--device", "hub-ccf")
    for node in (laptop1, laptop2):
        node("init", "--agency", "Clark County Fire", "--code", "CCF", "--device", node.name,
             "--join")
    hub_mpd("init", "--agency", "Metro Police Department", "--code", "MPD")
    hub_ccf("add", "agency", "name=Metro Police Department", "code=MPD")
    # the two administrators read each other their agency key's fingerprint
    ccf_fp = hub_ccf("keys", "show", json_out=True)["agency_fingerprint"]
    mpd_fp = hub_mpd("keys", "show", json_out=True)["agency_fingerprint"]
    hub_ccf("keys", "trust", "MPD", mpd_fp)
    procs = []
    try:
        p1, url_ccf = hub_ccf.serve(free_port())
        p2, url_mpd = hub_mpd.serve(free_port())
        procs += [p1, p2]
        for laptop in (laptop1, laptop2):
            token = hub_ccf("hub", "token", "add", "--agency", "CCF", "--device", laptop.name)
            laptop("peer", "add", "hub", url_ccf, "--token-stdin", stdin=token)
        token = hub_ccf("hub", "token", "add", "--agency", "MPD", "--device", "hub-mpd")
        hub_mpd("peer", "add", "ccf", url_ccf, "--token-stdin", "--trust", ccf_fp, stdin=token)

        laptop1("sync")
        laptop2("sync")
        # offline edits on each
        shared = laptop1("add", "contact", "name=Dana Whitfield", "agency=CCF", "scope=MPD",
                         "phone=360 555 0100").strip()
        secret = laptop1("add", "contact", "name=Informant Line", "agency=CCF",
                         "scope=private").strip()
        laptop2("add", "contact", "name=Sam Ortiz", "agency=CCF", "title=Duty Officer")
        laptop1("sync")
        laptop2("sync")
        laptop1("edit", shared, "title=Captain")
        laptop2("edit", shared, "title=Chief")
        for _ in range(2):
            for node in (laptop1, laptop2, hub_mpd):
                node("sync")
        dumps = [n("dump") for n in (laptop1, laptop2)]
        assert dumps[0] == dumps[1]
        conflicts = [n("conflicts", "list", json_out=True) for n in (laptop1, laptop2, hub_mpd)]
        assert all(len(c) == 1 and c[0]["record"] == shared for c in conflicts)
        mpd_dump = hub_mpd("dump")
        assert "Informant" not in mpd_dump and secret not in mpd_dump
        assert "Dana Whitfield" in mpd_dump and "Sam Ortiz" in mpd_dump

        laptop2("conflicts", "resolve", conflicts[1][0]["id"], "--keep", "current")
        for _ in range(2):
            for node in (laptop2, laptop1, hub_mpd):
                node("sync")
        assert all(n("conflicts", "list", json_out=True) == [] for n in (laptop1, hub_mpd))
        assert laptop1("dump") == laptop2("dump")

        # a bundle carried from a laptop to MPD's hub applies once however often imported
        laptop1("add", "contact", "name=Carried Person", "agency=CCF", "scope=all")
        stick = tmp_path / "stick.fcb"
        laptop1("bundle", "export", stick, "--for", "MPD")
        first = hub_mpd("bundle", "import", stick, json_out=True)
        assert first["applied"] >= 1 and Path(first["receipt"]).exists()
        before = hub_mpd("dump")
        again = hub_mpd("bundle", "import", stick, json_out=True)
        assert again["applied"] == 0 and hub_mpd("dump") == before
        assert "Carried Person" in before and "Informant" not in before

        # a wrong token is refused and the laptop says so
        laptop1("peer", "add", "bad", url_ccf, "--token-stdin", stdin="fc1_wrong")
        out = laptop1("sync", "bad", code=1)
        assert out == ""
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)
