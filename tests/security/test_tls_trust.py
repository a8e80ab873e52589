# SPDX-License-Identifier: GPL-3.0-or-later
"""A hub served with TLS under an agency's own CA or a self-signed certificate, on 127.0.0.1:
refused without trust, with the ways forward; synced with --ca or the right --pin; a pinned
certificate that changes is refused loudly; `peer add` asks, or exits 2 when it cannot."""
import datetime
import hashlib
import io
import ipaddress
import sys
import threading
import time

import pytest

from fieldcoord.hub import tokens
from fieldcoord.hub.server import make_server
from fieldcoord.store import Store
from fieldcoord.sync import peers as ops
from fieldcoord.sync import runs, synclog, tls

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402


# ----------------------------------------------------------------------------- certificates
def _name(cn: str):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Clark County Fire")])


def _certificate(subject: str, key, issuer: str, issuer_key, ca: bool):
    now = datetime.datetime.now(datetime.UTC)
    b = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(days=1))
         .not_valid_after(now + datetime.timedelta(days=30))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca or subject == issuer:
        b = b.add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False)
    if ca:
        b = b.add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                          crl_sign=True, content_commitment=False,
                                          key_encipherment=False, data_encipherment=False,
                                          key_agreement=False, encipher_only=False,
                                          decipher_only=False), critical=True)
    return b.sign(issuer_key, hashes.SHA256())


def _pem(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _fingerprint(cert) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    """A self-signed hub certificate, and a small CA with a hub certificate it signed."""
    d = tmp_path_factory.mktemp("certs")
    out = {}
    key = ec.generate_private_key(ec.SECP256R1())
    self_signed = _certificate("hub.ccf.example", key, "hub.ccf.example", key, ca=False)
    (d / "self.pem").write_bytes(_pem(self_signed))
    (d / "self.key").write_bytes(_key_pem(key))
    out["self"] = (d / "self.pem", d / "self.key", _fingerprint(self_signed))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("CCF Root CA", ca_key, "CCF Root CA", ca_key, ca=True)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = _certificate("hub.ccf.example", leaf_key, "CCF Root CA", ca_key, ca=False)
    (d / "ca.pem").write_bytes(_pem(ca))
    (d / "leaf.pem").write_bytes(_pem(leaf))
    (d / "leaf.key").write_bytes(_key_pem(leaf_key))
    out["ca"] = d / "ca.pem"
    out["leaf"] = (d / "leaf.pem", d / "leaf.key", _fingerprint(leaf))
    other_key = ec.generate_private_key(ec.SECP256R1())
    out["other"] = _fingerprint(_certificate("x", other_key, "x", other_key, ca=False))
    return out


# ------------------------------------------------------------------------------------ hubs
class Hub:
    """A hub of CCF served with TLS in a thread of this process."""

    def __init__(self, tmp, cert, key):
        self.db = tmp / "hub.db"
        Store.create(self.db, "Clark County Fire", "CCF", device="hub").close()
        self.server, sock = make_server(self.db, "127.0.0.1", 0, cert, key)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]},
                                       daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        self.url = f"https://127.0.0.1:{sock.getsockname()[1]}"

    def token(self, device="laptop-1"):
        with Store.open(self.db) as s, s.transaction():
            return tokens.issue(s.conn, "CCF", device)[1]

    def stop(self):
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def hubs(tmp_path, certs):
    """Start a hub with the self-signed ("self") or the CA-signed ("leaf") certificate."""
    started = []

    def start(which):
        cert, key, _ = certs[which]
        folder = tmp_path / f"hub-{len(started)}"
        folder.mkdir()
        started.append(Hub(folder, cert, key))
        return started[-1]
    yield start
    for hub in started:
        hub.stop()


@pytest.fixture
def laptop(tmp_path, memory_keyring):
    db = tmp_path / "laptop.db"
    Store.create(db, "Clark County Fire", "CCF", device="laptop-1").close()
    return db


def add_peer(db, hub, **trust):
    with Store.open(db) as s:
        ops.save_peer(s, "hub", hub.url, hub.token(), adding=True, **trust)


def sync_once(db):
    (outcome,) = runs.sync_peers(db)
    return outcome


# ------------------------------------------------------------------------------ syncing
def test_a_hub_the_computer_does_not_trust_is_refused_with_the_ways_forward(laptop, hubs, certs):
    hub = hubs("self")
    add_peer(laptop, hub)
    outcome = sync_once(laptop)
    fingerprint = tls.show_fingerprint(certs["self"][2])
    assert "not trusted by this computer" in outcome.error
    assert "--ca FILE" in outcome.error and f"--pin {fingerprint}" in outcome.error
    assert "Traceback" not in outcome.error
    with Store.open(laptop) as s:
        assert "not trusted" in s.conn.execute("SELECT last_error FROM peer").fetchone()[0]


def test_with_the_agency_ca_the_sync_works(laptop, hubs, certs):
    hub = hubs("leaf")
    add_peer(laptop, hub, tls_ca=certs["ca"].read_text())
    outcome = sync_once(laptop)
    assert outcome.error is None and outcome.reachable
    with Store.open(laptop) as s:
        assert s.conn.execute("SELECT tls_ca FROM peer").fetchone()[0].startswith(
            "-----BEGIN CERTIFICATE-----")
    assert ops.probe_peers({"hub": hub.url}) == {"hub": False}, "not without the CA"
    with Store.open(laptop) as s:
        assert ops.probe_peers(ops.probe_targets(s)) == {"hub": True}


def test_a_ca_that_did_not_sign_the_hub_certificate_is_refused(laptop, hubs, certs):
    hub = hubs("self")
    add_peer(laptop, hub, tls_ca=certs["ca"].read_text())
    outcome = sync_once(laptop)
    assert "does not verify against the CA stored for this peer" in outcome.error
    assert tls.show_fingerprint(certs["self"][2]) in outcome.error


def test_the_right_pin_is_accepted_whatever_signed_the_certificate(laptop, hubs, certs):
    hub = hubs("self")
    pin = tls.show_fingerprint(certs["self"][2]).lower()        # colons, lower case
    add_peer(laptop, hub, tls_pin=pin)
    with Store.open(laptop) as s:
        assert s.conn.execute("SELECT tls_pin FROM peer").fetchone()[0] == certs["self"][2]
        assert ops.probe_peers(ops.probe_targets(s)) == {"hub": True}
    outcome = sync_once(laptop)
    assert outcome.error is None and outcome.reachable


def test_a_pinned_certificate_that_changed_is_refused_loudly(laptop, hubs, certs):
    hub = hubs("self")
    add_peer(laptop, hub, tls_pin=certs["other"])
    outcome = sync_once(laptop)
    old, new = tls.show_fingerprint(certs["other"]), tls.show_fingerprint(certs["self"][2])
    assert "certificate changed" in outcome.error
    assert old in outcome.error and new in outcome.error
    assert f"fieldcoord peer add hub {hub.url} --pin {new}" in outcome.error
    with Store.open(laptop) as s:
        assert ops.probe_peers(ops.probe_targets(s)) == {"hub": False}
        events = [m for _, _, kind, m, _ in synclog.sync_events(s) if kind == "error"]
    assert any("certificate changed" in m for m in events)


# ----------------------------------------------------------------------------- settings
def test_trust_settings_are_checked_before_anything_is_written(laptop, certs, tmp_path):
    from fieldcoord.core.errors import ValidationError
    key_and_cert = certs["self"][1].read_text() + certs["self"][0].read_text()
    assert tls.ca_bundle(key_and_cert) == certs["self"][0].read_text(), "the key is left out"
    with Store.open(laptop) as s:
        for kwargs, field, words in (
                ({"tls_ca": "not a certificate"}, "ca", "no certificate in PEM form"),
                ({"tls_ca": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"},
                 "ca", "damaged"),
                ({"tls_pin": "ab:cd"}, "pin", "64 hexadecimal digits"),
                ({"tls_pin": certs["other"], "tls_ca": certs["ca"].read_text()}, "pin",
                 "not both")):
            with pytest.raises(ValidationError, match=words) as e:
                ops.save_peer(s, "hub", "https://hub.example:8765", "t", adding=True, **kwargs)
            assert e.value.field == field
        with pytest.raises(ValidationError, match="for https:// addresses"):
            ops.save_peer(s, "hub", "http://127.0.0.1:8765", "t", adding=True,
                          tls_pin=certs["other"])
        assert s.conn.execute("SELECT count(*) FROM peer").fetchone()[0] == 0
    assert tls.normalize_pin("SHA256 Fingerprint=" + tls.show_fingerprint(certs["other"])) \
        == certs["other"]


# ---------------------------------------------------------------------------------- CLI
def cli(db, *args, stdin="", tty=False, monkeypatch=None):
    """Run `fieldcoord` in this process: (exit status, stdout, stderr)."""
    from fieldcoord.cli import main

    class Input(io.StringIO):
        def isatty(self):
            return tty
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdin", Input(stdin))
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    code = main(["--db", str(db), *map(str, args)])
    monkeypatch.undo()
    return code, out.getvalue(), err.getvalue()


def tokens_in(backend) -> list:
    return backend.tokens()


def peer_rows(db):
    with Store.open(db) as s:
        return s.conn.execute("SELECT name, url, tls_ca, tls_pin FROM peer").fetchall()


def test_peer_add_without_trust_names_the_fingerprint_and_exits_2(laptop, hubs, certs,
                                                                   memory_keyring, monkeypatch):
    hub = hubs("self")
    code, out, err = cli(laptop, "peer", "add", "hub", hub.url, "--token-stdin",
                         stdin=hub.token() + "\n", monkeypatch=monkeypatch)
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("error: hub: ")
    assert f"--pin {tls.show_fingerprint(certs['self'][2])}" in err and "--ca FILE" in err
    assert peer_rows(laptop) == [] and not tokens_in(memory_keyring), "nothing written"


def test_peer_add_asks_at_a_terminal_and_pins_what_the_user_confirms(laptop, hubs, certs,
                                                                      memory_keyring,
                                                                      monkeypatch):
    hub = hubs("self")
    code, _, err = cli(laptop, "peer", "add", "hub", hub.url, "--token-stdin",
                       stdin="n\n" + hub.token() + "\n", tty=True, monkeypatch=monkeypatch)
    assert code == 2 and "pin this certificate? [y/N]" in err and peer_rows(laptop) == []
    assert tls.show_fingerprint(certs["self"][2]) in err and "CN=hub.ccf.example" in err
    assert "Expires: " in err
    code, out, err = cli(laptop, "peer", "add", "hub", hub.url, "--token-stdin",
                         stdin="y\n" + hub.token() + "\n", tty=True, monkeypatch=monkeypatch)
    assert code == 0, err
    assert peer_rows(laptop) == [("hub", hub.url, None, certs["self"][2])]
    assert sync_once(laptop).error is None


def test_peer_add_with_ca_or_pin_then_sync(laptop, hubs, certs, memory_keyring, monkeypatch):
    hub = hubs("leaf")
    code, out, err = cli(laptop, "peer", "add", "hub", hub.url, "--ca", certs["ca"],
                         "--token-stdin", stdin=hub.token() + "\n", monkeypatch=monkeypatch)
    assert code == 0, err
    assert "certificate checked against the given CA" in out
    [(_, _, ca, pin)] = peer_rows(laptop)
    assert ca == certs["ca"].read_text() and pin is None
    assert sync_once(laptop).error is None
    # re-pinning an existing peer keeps its token
    code, out, err = cli(laptop, "peer", "add", "hub", hub.url, "--pin", certs["leaf"][2].upper(),
                         monkeypatch=monkeypatch)
    assert code == 0, err
    assert "stored token kept" in out
    assert peer_rows(laptop) == [("hub", hub.url, None, certs["leaf"][2])]
    assert sync_once(laptop).error is None
    code, _, err = cli(laptop, "peer", "add", "hub", hub.url, "--pin", certs["other"],
                       monkeypatch=monkeypatch)
    assert code == 2 and "certificate changed" in err
    assert peer_rows(laptop)[0][3] == certs["leaf"][2], "a refused pin is not written"
    code, _, err = cli(laptop, "peer", "add", "hub", hub.url, "--ca", certs["self"][1],
                       monkeypatch=monkeypatch)
    assert code == 2 and "no certificate in PEM form" in err
