# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared fixtures: headless Qt, a fresh store, the shared corpus."""
import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch):
    """Settings such as saved column mappings go to a folder of the test's own, never the
    user's configuration."""
    d = tmp_path / "config"
    monkeypatch.setenv("FIELDCOORD_CONFIG_DIR", str(d))
    # private keys in the test's own database, never in the user's keyring (tests of the
    # keyring and of encrypted key files choose those themselves)
    monkeypatch.setenv("FIELDCOORD_KEYSTORE", "database")
    # log files too go to the test's own folder
    monkeypatch.setenv("FIELDCOORD_LOG_DIR", str(tmp_path / "logs"))
    return d


@pytest.fixture
def store(tmp_path):
    from fieldcoord.store import Store
    s = Store.create(tmp_path / "fc.db", "Clark County Fire", "CCF", device="laptop-1")
    yield s
    s.close()


@pytest.fixture
def corpus():
    if not CORPUS.is_dir():
        pytest.skip(f"the shared corpus is not at {CORPUS}")
    return CORPUS


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """The demo region loaded once per test session; copy it before writing to it."""
    from fieldcoord.demo import DEMO_HOME_CODE, DEMO_HOME_NAME, load_demo
    from fieldcoord.store import Store
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    # made before any test's own fixtures: its keys go to the database, whatever keyring a
    # test before it left behind
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FIELDCOORD_KEYSTORE", "database")
        with Store.create(path, DEMO_HOME_NAME, DEMO_HOME_CODE, device="laptop-1") as s:
            load_demo(s)
            s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def memory_keyring():
    """A keyring that encrypts, as far as fieldcoord can tell, kept in memory."""
    from memkeyring import MemoryKeyring, using
    with using(MemoryKeyring()) as backend:
        yield backend


@pytest.fixture
def plaintext_keyring():
    """A keyring that keeps secrets unencrypted, as keyrings.alt's PlaintextKeyring does."""
    from memkeyring import PlaintextKeyring, using
    with using(PlaintextKeyring()) as backend:
        yield backend


@pytest.fixture
def replicas(tmp_path):
    """make(name, agency="CCF") -> a replica of that agency in a region whose agencies know
    each other's keys (tests/support/region.py)."""
    from region import Region
    region = Region()

    def make(name, agency="CCF", agency_name=None):
        return region.make(tmp_path / f"{name}.db", agency, device=name, agency_name=agency_name)
    yield make
    for s in region.replicas:
        s.close()


@pytest.fixture
def demo_db(demo_template, tmp_path):
    """A private copy of the demo database for one test."""
    path = tmp_path / "demo.db"
    import shutil
    shutil.copy(demo_template, path)
    return path


@pytest.fixture
def demo_store(demo_db):
    from fieldcoord.store import Store
    store = Store.open(demo_db)
    yield store
    store.close()


@pytest.fixture
def xvfb():
    """A virtual X display (Xvfb) for the tests that map real windows; yields its name."""
    import shutil
    import subprocess
    exe = shutil.which("Xvfb")
    assert exe, "Xvfb is missing: `make setup` installs it (package xvfb) for this test"
    read, write = os.pipe()
    proc = subprocess.Popen([exe, "-displayfd", str(write), "-screen", "0", "1280x800x24",
                             "-nolisten", "tcp"], pass_fds=(write,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as f:
        number = f.readline().strip()
    assert number, "Xvfb did not start"
    yield f":{number}"
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server (tests/support/pgserver.py), stopped at the end."""
    from pgserver import PostgresServer
    server = PostgresServer().start()
    yield server
    server.stop()
