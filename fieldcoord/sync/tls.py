# SPDX-License-Identifier: GPL-3.0-or-later
"""How this replica trusts a hub's TLS certificate (sync layer).

Three ways: the certificate authorities the computer trusts (a hub with a public certificate);
a CA bundle of the agency's own, kept as PEM text in the peer's row (`tls_ca`); or the SHA-256
fingerprint of the hub's own certificate, pinned (`tls_pin`: then only that certificate is
accepted, whatever signed it and whatever names it holds). The checks themselves are the ssl
module's and urllib3's (`assert_fingerprint`); this module chooses them and explains a refusal.
"""
from __future__ import annotations

import hashlib
import re
import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter

from ..core.errors import ValidationError

FETCH_TIMEOUT = 5.0          # seconds to read a certificate that failed verification
_PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----")
_PIN_LABEL = re.compile(r"^(sha-?256)?\s*(fingerprint)?\s*=", re.IGNORECASE)


# ------------------------------------------------------------------------------ settings
def normalize_pin(text: str) -> str:
    """A SHA-256 fingerprint as 64 lowercase hex digits. Colons, spaces, either case and the
    `sha256 Fingerprint=` that openssl prints are accepted; ValidationError(field="pin")
    otherwise."""
    pin = re.sub(r"[\s:]", "", _PIN_LABEL.sub("", (text or "").strip())).lower()
    if not re.fullmatch(r"[0-9a-f]{64}", pin):
        raise ValidationError("a certificate fingerprint is the SHA-256 of the hub's certificate: "
                              "64 hexadecimal digits, colons allowed (openssl x509 -noout "
                              "-fingerprint -sha256 -in cert.pem prints it)", field="pin")
    return pin


def show_fingerprint(pin: str) -> str:
    """AB:CD:… as certificate tools show fingerprints."""
    pin = pin.replace(":", "").upper()
    return ":".join(pin[i:i + 2] for i in range(0, len(pin), 2))


def ca_bundle(text: str, source: str = "the CA file") -> str:
    """The certificates of a PEM bundle, checked and joined into one text; anything else in it
    (a private key, say) is left out. ValidationError(field="ca") when it holds no certificate
    or a damaged one."""
    certs = _PEM_CERT.findall(text or "")
    if not certs:
        raise ValidationError(f"{source} holds no certificate in PEM form (-----BEGIN "
                              "CERTIFICATE-----); a DER file converts with openssl x509 -inform "
                              "der -in FILE -out FILE.pem", field="ca")
    pem = "\n".join(c.strip() for c in certs) + "\n"
    try:
        ssl.create_default_context(cadata=pem)
    except (ssl.SSLError, ValueError) as e:
        raise ValidationError(f"{source} holds a damaged certificate ({e})", field="ca") from None
    return pem


def read_ca_file(path) -> str:
    """The checked certificates of a CA file (PEM); the file itself is not needed afterwards."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ValidationError(f"cannot read {path}: {e.strerror or e}", field="ca") from None
    return ca_bundle(data.decode("ascii", errors="replace"), str(path))


# ------------------------------------------------------------------------------ adapters
class PinnedAdapter(HTTPAdapter):
    """Accepts exactly the certificate whose SHA-256 fingerprint is `pin` (urllib3's
    assert_fingerprint). Its chain and host names are not checked: the pin says more."""

    def __init__(self, pin: str, **kwargs):
        self.pin = pin
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["assert_fingerprint"] = self.pin
        super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        proxy_kwargs["assert_fingerprint"] = self.pin
        return super().proxy_manager_for(proxy, **proxy_kwargs)

    def send(self, request, **kwargs):
        kwargs["verify"] = False             # the fingerprint takes the chain's place
        return super().send(request, **kwargs)


class CAAdapter(HTTPAdapter):
    """Verifies the chain and the host name against this CA bundle (PEM text) only."""

    def __init__(self, ca_pem: str, **kwargs):
        self.context = ssl.create_default_context(cadata=ca_pem)
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["ssl_context"] = self.context
        super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        proxy_kwargs["ssl_context"] = self.context
        return super().proxy_manager_for(proxy, **proxy_kwargs)

    def send(self, request, **kwargs):
        kwargs["verify"] = True              # not a bundle named in the environment
        return super().send(request, **kwargs)

    def cert_verify(self, conn, url, verify, cert):
        super().cert_verify(conn, url, verify, cert)
        conn.ca_certs = conn.ca_cert_dir = None      # the context's CAs, not the system's too


def adapter(tls_ca: str | None = None, tls_pin: str | None = None, **kwargs) -> HTTPAdapter:
    """The adapter for https:// with a peer's trust settings (the pin wins over the CA)."""
    if tls_pin:
        return PinnedAdapter(tls_pin, **kwargs)
    if tls_ca:
        return CAAdapter(tls_ca, **kwargs)
    return HTTPAdapter(**kwargs)


# ------------------------------------------------------------------------------ refusals
@dataclass
class Certificate:
    """The certificate a hub presented, as a user compares it with what its admin says."""
    fingerprint: str            # SHA-256, 64 lowercase hex digits
    subject: str = ""
    expires: str = ""

    def lines(self) -> list[str]:
        out = [f"SHA-256 fingerprint: {show_fingerprint(self.fingerprint)}"]
        if self.subject:
            out.append(f"Subject: {self.subject}")
        if self.expires:
            out.append(f"Expires: {self.expires}")
        return out


def _describe(der: bytes) -> tuple[str, str]:
    """(subject, expiry date) of a certificate, when the cryptography package is here."""
    try:
        from cryptography import x509
        cert = x509.load_der_x509_certificate(der)
        expires = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after
        return cert.subject.rfc4514_string(), expires.strftime("%Y-%m-%d")
    except Exception:                      # not installed, or a certificate it cannot read
        return "", ""


def fetch_certificate(url: str, timeout: float = FETCH_TIMEOUT) -> Certificate:
    """The certificate the hub at `url` presents, read without verifying it (to show it, or to
    compare it with a pin). Raises OSError when the hub does not answer TLS."""
    parts = urlsplit(url)
    pem = ssl.get_server_certificate((parts.hostname, parts.port or 443), timeout=timeout)
    der = ssl.PEM_cert_to_DER_cert(pem)
    subject, expires = _describe(der)
    return Certificate(hashlib.sha256(der).hexdigest(), subject, expires)


def _verify_reason(error: BaseException) -> str:
    """What the ssl module said when verification failed ("self-signed certificate"…)."""
    todo, seen = [error], set()
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, ssl.SSLCertVerificationError):
            return e.verify_message or str(e)
        todo += [a for a in getattr(e, "args", ()) if isinstance(a, BaseException)]
        todo += [getattr(e, "reason", None), e.__cause__, e.__context__]
    return ""


def refusal(name: str, url: str, tls_ca: str | None, tls_pin: str | None,
            error: BaseException) -> tuple[str, Certificate | None]:
    """Why the TLS connection to peer `name` failed, in one line that says what to do, and the
    certificate the hub presented (None when it could not be read)."""
    try:
        cert = fetch_certificate(url) if urlsplit(url).scheme == "https" else None
    except (OSError, ValueError):
        cert = None
    reason = _verify_reason(error)
    if cert is None or (tls_pin and cert.fingerprint == tls_pin):
        return (f"{name}: TLS failed ({reason or error.__class__.__name__}); check the hub's "
                "certificate"), cert
    new = show_fingerprint(cert.fingerprint)
    if tls_pin:
        return (f"{name}: the hub's certificate changed: pinned {show_fingerprint(tls_pin)}, "
                f"presented now {new}. Refused: this is also what an attacker between you and "
                "the hub would look like. Ask the hub's administrator whether they replaced the "
                f"certificate; if so, pin the new one: fieldcoord peer add {name} {url} "
                f"--pin {new}"), cert
    if tls_ca:
        return (f"{name}: the hub's certificate does not verify against the CA stored for this "
                f"peer ({reason or 'refused'}); it presents {new}. Give the right CA file "
                f"(fieldcoord peer add {name} {url} --ca FILE) or, after checking that "
                f"fingerprint with the hub's administrator, --pin {new}"), cert
    return (f"{name}: the hub's certificate is not trusted by this computer "
            f"({reason or 'refused'}). If it is signed by your agency's own CA, add the peer with "
            f"--ca FILE; if it is self-signed, check its fingerprint with the hub's "
            f"administrator and add the peer with --pin {new}"), cert
