# SPDX-License-Identifier: GPL-3.0-or-later
"""A self-signed certificate for a hub on 127.0.0.1, for the tests that serve over TLS."""
from __future__ import annotations

import datetime
import hashlib
import ipaddress
from pathlib import Path


def self_signed(folder: Path) -> tuple[Path, Path, str]:
    """(cert.pem, key.pem, SHA-256 fingerprint of the certificate) written into `folder`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hub.ccf.example")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    der = cert.public_bytes(serialization.Encoding.DER)
    return folder / "cert.pem", folder / "key.pem", hashlib.sha256(der).hexdigest()
