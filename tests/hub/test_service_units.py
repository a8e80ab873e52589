# SPDX-License-Identifier: GPL-3.0-or-later
"""The hub's systemd units (packaging/systemd): systemd finds nothing wrong in them, their
hardening scores well, and their command lines, run as systemd would run them (its specifiers
and credentials filled in), serve sync over TLS with the key file's passphrase from a
credential, and take a backup."""
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import certs
import pytest
import requests
from serving import wait_until_serving

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "packaging" / "systemd"
INSTALLED = "/opt/fieldcoord/bin/fieldcoord"
FIELDCOORD = str(Path(sys.executable).with_name("fieldcoord"))


def unit(name: str) -> dict[str, list[str]]:
    """The settings of a unit file: {key: [values]} (continuation lines joined)."""
    text = (UNITS / name).read_text().replace("\\\n", " ")
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            out.setdefault(key, []).append(value.strip())
    return out


def command(settings: dict[str, list[str]], state: Path, logs: Path, creds: Path,
            env: dict[str, str]) -> list[str]:
    """ExecStart as systemd runs it: specifiers and ${VARIABLES} replaced."""
    line = settings["ExecStart"][0]
    line = line.replace("%S", str(state)).replace("%L", str(logs)).replace("%d", str(creds))
    line = line.replace(INSTALLED, FIELDCOORD)
    return [re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], a) for a in shlex.split(line)]


def environment(settings: dict[str, list[str]], logs: Path) -> dict[str, str]:
    env = {}
    for value in settings.get("Environment", []):
        for pair in shlex.split(value.replace("%L", str(logs))):
            k, _, v = pair.partition("=")
            env[k] = v
    return env


systemd_analyze = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(systemd_analyze is None,
                                   reason="systemd-analyze is not installed here")


@needs_systemd
def test_systemd_finds_nothing_wrong_in_the_units(tmp_path):
    for f in UNITS.iterdir():
        if f.suffix in (".service", ".timer"):
            # the programs named must exist for verify: the test's own fieldcoord stands in
            # for the installed one
            (tmp_path / f.name).write_text(f.read_text().replace(INSTALLED, FIELDCOORD))
    names = sorted(str(p) for p in tmp_path.iterdir())
    assert len(names) == 5
    done = subprocess.run([systemd_analyze, "verify", "--man=no", *names],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr


@needs_systemd
def test_the_hub_service_is_hardened(tmp_path):
    (tmp_path / "fieldcoord-hub.service").write_text(
        (UNITS / "fieldcoord-hub.service").read_text().replace(INSTALLED, FIELDCOORD))
    done = subprocess.run([systemd_analyze, "security", "--offline=true", "--no-pager",
                           str(tmp_path / "fieldcoord-hub.service")],
                          capture_output=True, text=True, timeout=60)
    if "--offline" in done.stderr:
        pytest.skip("this systemd-analyze cannot score a unit file offline")
    line = [x for x in done.stdout.splitlines() if "Overall exposure level" in x][0]
    exposure = float(line.split(":")[1].split()[0])
    assert exposure <= 2.0, line
    hub = unit("fieldcoord-hub.service")
    for key in ("NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp"):
        assert hub[key] in (["yes"], ["strict"]), key
    assert hub["User"] == ["fieldcoord"] and hub["Restart"] == ["on-failure"]


def test_the_units_commands_serve_over_tls_and_back_up(tmp_path):
    state, logs, creds = tmp_path / "lib", tmp_path / "log", tmp_path / "credentials"
    for d in (state / "fieldcoord-hub", logs / "fieldcoord-hub", creds):
        d.mkdir(parents=True)
    certs.self_signed(creds)
    (creds / "fieldcoord-passphrase").write_text("correct horse battery staple\n")
    hub = unit("fieldcoord-hub.service")
    env = environment(hub, logs)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env.update(FIELDCOORD_HUB_ADDRESS="127.0.0.1", FIELDCOORD_HUB_PORT=str(port),
               CREDENTIALS_DIRECTORY=str(creds))
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDCOORD_")} | env
    db = state / "fieldcoord-hub" / "hub.db"
    # what docs/hub.md has the administrator run once, as the service's user
    subprocess.run([FIELDCOORD, "--db", str(db), "init", "--agency", "Clark County Fire",
                    "--code", "CCF", "--device", "hub"], env=run_env, check=True,
                   capture_output=True, timeout=120)
    assert (state / "fieldcoord-hub" / "hub.db.keys").is_file(), "keys in the encrypted file"
    cmd = command(hub, state, logs, creds, env)
    assert cmd[-4:] == ["--cert", str(creds / "cert.pem"), "--key", str(creds / "key.pem")]
    proc = subprocess.Popen(cmd, env=run_env, stderr=subprocess.PIPE, text=True)
    try:
        url = f"https://127.0.0.1:{port}"
        wait_until_serving(url, proc, verify=str(creds / "cert.pem"))
        got = requests.get(url + "/v1/health", verify=str(creds / "cert.pem"), timeout=5)
        assert got.status_code == 200
        backup_unit = unit("fieldcoord-hub-backup.service")
        done = subprocess.run(command(backup_unit, state, logs, creds, env), env=run_env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert len(list((state / "fieldcoord-hub" / "backups").glob("hub-*.db"))) == 1
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert any((logs / "fieldcoord-hub").iterdir()), "the hub logs where the unit says"


def test_the_admin_command_runs_fieldcoord_on_the_hubs_database(tmp_path):
    """fieldcoord-hub: the administrator's short form, with the service's passphrase file."""
    import getpass
    state, etc = tmp_path / "lib", tmp_path / "etc"
    state.mkdir()
    etc.mkdir()
    (etc / "passphrase").write_text("correct horse battery staple\n")
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path),
           "FIELDCOORD_HUB_USER": getpass.getuser(), "FIELDCOORD_HUB_STATE": str(state),
           "FIELDCOORD_HUB_ETC": str(etc), "FIELDCOORD_HUB_LOGS": str(tmp_path / "log"),
           "FIELDCOORD_BIN": FIELDCOORD}

    def admin(*args):
        return subprocess.run([str(UNITS / "fieldcoord-hub"), *args], env=env,
                              capture_output=True, text=True, timeout=120)
    done = admin("init", "--agency", "Clark County Fire", "--code", "CCF", "--device", "hub")
    assert done.returncode == 0, done.stderr
    assert (state / "hub.db.keys").is_file()
    done = admin("hub", "token", "add", "--agency", "CCF", "--device", "laptop-ortiz")
    assert done.returncode == 0 and len(done.stdout.strip()) > 20, done.stderr
    done = admin("keys")
    assert done.returncode == 0 and "CCF" in done.stdout, done.stderr
    (etc / "passphrase").write_text("wrong\n")
    from fieldcoord.store import Store
    with Store.open(state / "hub.db") as s:
        s.add("contact", {"name": "Dana", "agency": "CCF"})
    done = admin("bundle", "export", str(tmp_path / "x.fcb"), "--for", "CCF")
    assert done.returncode != 0 and "does not open" in done.stderr
    env["FIELDCOORD_BIN"] = str(tmp_path / "missing")
    done = admin("keys")
    assert done.returncode == 1 and "no fieldcoord at" in done.stderr
