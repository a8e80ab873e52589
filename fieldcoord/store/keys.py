# SPDX-License-Identifier: GPL-3.0-or-later
"""Where a replica keeps its private keys (store layer).

In order of preference:
- a file beside the database encrypted with a passphrase (`<database>.keys`), when the
  passphrase is given in FIELDCOORD_KEY_PASSPHRASE (a hub run as a service; Argon2id and
  XSalsa20-Poly1305 from libsodium);
- the operating system's keyring (GNOME Keyring/KWallet, Windows Credential Manager, macOS
  Keychain), when it has a backend that encrypts;
- otherwise the database itself, unencrypted, and `warning()` says so: anyone who copies the
  file can then sign as this replica.
The database's `meta` key `keystore` records which one holds this replica's keys.
"""
from __future__ import annotations

import base64
import json
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ..core import places
from ..core.errors import FieldcoordError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend
    from nacl.secret import SecretBox

SERVICE = "fieldcoord-keys"
PASSPHRASE_ENV = places.PASSPHRASE_ENV
STORE_ENV = places.KEYSTORE_ENV
NAMES = ("device", "agency")


class KeysUnavailable(FieldcoordError):
    """This replica's private keys cannot be read (a locked keyring, a wrong passphrase)."""


class Keyring(Protocol):
    """What this module uses of the `keyring` module."""

    def get_password(self, service_name: str, username: str) -> str | None: ...

    def set_password(self, service_name: str, username: str, password: str) -> None: ...

    def delete_password(self, service_name: str, username: str) -> None: ...


def plaintext_backend(backend: KeyringBackend) -> bool:
    """Whether a keyring backend keeps secrets unencrypted (keyrings.alt's plaintext file)."""
    kind = type(backend)
    name = f"{kind.__module__}.{kind.__qualname__}".lower()
    return "plaintext" in name or ("keyrings.alt" in name and "encrypt" not in name)


def secure_keyring() -> Keyring | None:
    """The keyring module when it has a backend that encrypts, else None."""
    try:
        import keyring
        from keyring.backends import chainer, fail
        backend = keyring.get_keyring()
    except Exception:                   # a broken keyring installation
        return None
    if isinstance(backend, fail.Keyring):
        return None
    if isinstance(backend, chainer.ChainerBackend):
        if not backend.backends or any(plaintext_backend(b) for b in backend.backends):
            return None
    elif plaintext_backend(backend):
        return None
    return keyring


def _file(db: Path) -> Path:
    return Path(str(db) + ".keys")


def _box(passphrase: str, salt: bytes) -> SecretBox:
    from nacl import pwhash, secret
    key = pwhash.argon2id.kdf(secret.SecretBox.KEY_SIZE, passphrase.encode("utf-8"), salt,
                              opslimit=pwhash.argon2id.OPSLIMIT_INTERACTIVE,
                              memlimit=pwhash.argon2id.MEMLIMIT_INTERACTIVE)
    return secret.SecretBox(key)


def _read_file(db: Path) -> dict[str, str]:
    """{"salt": base64, key name: base64 of the key encrypted}"""
    path = _file(db)
    if not path.exists():
        return {}
    try:
        data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        return data
    except (OSError, ValueError):
        raise KeysUnavailable(f"{path} is damaged: this replica cannot sign") from None


_boxes: dict[tuple[str, str], SecretBox] = {}


def _file_box(db: Path, data: dict[str, str]) -> SecretBox:
    try:
        passphrase = places.key_passphrase()
    except OSError as e:
        raise KeysUnavailable(f"the passphrase file cannot be read: {e}") from None
    if not passphrase:
        raise KeysUnavailable(f"this replica's keys are in {_file(db)}, encrypted with a "
                              f"passphrase: set {PASSPHRASE_ENV} (or "
                              f"{places.PASSPHRASE_FILE_ENV} to a file holding it)")
    if "salt" not in data:
        from nacl.utils import random
        data["salt"] = base64.b64encode(random(16)).decode()
    key = (passphrase, data["salt"])
    if key not in _boxes:
        _boxes[key] = _box(passphrase, base64.b64decode(data["salt"]))
    return _boxes[key]


def choose() -> str:
    """Where a new replica's keys go: 'file', 'keyring' or 'database' (FIELDCOORD_KEYSTORE
    names one; otherwise the first that is available)."""
    asked = os.environ.get(STORE_ENV, "").strip().lower()
    if asked in ("file", "keyring", "database"):
        return asked
    try:
        if places.key_passphrase():
            return "file"
    except OSError:
        return "file"                   # a passphrase file is named: the keys go there
    return "keyring" if secure_keyring() is not None else "database"


_cache: dict[tuple[str, str], bytes] = {}


def save(conn: sqlite3.Connection, db: Path, site: str, name: str, seed: bytes,
         where: str | None) -> None:
    """Keep a private key (inside the caller's transaction for 'database')."""
    if where == "file":
        data = _read_file(db)
        box = _file_box(db, data)
        data[name] = base64.b64encode(box.encrypt(seed)).decode()
        tmp = _file(db).with_suffix(".keys.part")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.chmod(tmp, 0o600)
        tmp.replace(_file(db))
    elif where == "keyring":
        keyring = secure_keyring()
        if keyring is None:
            raise KeysUnavailable("the keyring is not available")
        keyring.set_password(SERVICE, f"{site}/{name}", seed.hex())
    else:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                     (f"key:{name}", seed.hex()))
    _cache[(site, name)] = seed


def load(conn: sqlite3.Connection, db: Path, site: str, name: str,
         where: str | None) -> bytes | None:
    """A private key, or None when this replica has none of that name."""
    got = _cache.get((site, name))
    if got is not None:
        return got
    if where == "file":
        data = _read_file(db)
        if name not in data:
            return None
        try:
            seed = _file_box(db, data).decrypt(base64.b64decode(data[name]))
        except KeysUnavailable:
            raise
        except Exception:
            raise KeysUnavailable(f"the passphrase given ({PASSPHRASE_ENV}, or the file "
                                  f"{places.PASSPHRASE_FILE_ENV} names) does not open "
                                  f"{_file(db)}") from None
    elif where == "keyring":
        keyring = secure_keyring()
        if keyring is None:
            raise KeysUnavailable("this replica's keys are in the keyring, which is not "
                                  "available now (unlock it, or log in to the desktop)")
        text = keyring.get_password(SERVICE, f"{site}/{name}")
        if not text:
            return None
        seed = bytes.fromhex(text)
    else:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (f"key:{name}",)).fetchone()
        if not row:
            return None
        seed = bytes.fromhex(row[0])
    _cache[(site, name)] = seed
    return seed


def forget(conn: sqlite3.Connection, db: Path, site: str, name: str, where: str | None) -> None:
    _cache.pop((site, name), None)
    if where == "file":
        data = _read_file(db)
        if data.pop(name, None) is not None:
            _file(db).write_text(json.dumps(data), encoding="utf-8")
    elif where == "keyring":
        keyring = secure_keyring()
        if keyring is not None:
            try:
                keyring.delete_password(SERVICE, f"{site}/{name}")
            except Exception:
                pass
    else:
        conn.execute("DELETE FROM meta WHERE key = ?", (f"key:{name}",))


def warning(where: str | None) -> str | None:
    """What the user should know about where the keys are, or None when they are safe."""
    if where == "database":
        return ("this replica's private keys are kept unencrypted in its database (no keyring "
                "on this machine): anyone who copies the file can sign as this device. Install "
                f"and unlock a keyring, or set {PASSPHRASE_ENV} to keep them in an encrypted "
                "file")
    return None
