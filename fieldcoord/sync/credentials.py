# SPDX-License-Identifier: GPL-3.0-or-later
"""Peer tokens in the OS keyring (SecretService, Windows Credential Manager, macOS Keychain)
(sync layer). Without a keyring backend, the user is told so and how to proceed."""
from __future__ import annotations

import os
import re

from ..core.errors import FieldcoordError

SERVICE = "fieldcoord"


class NoKeyring(FieldcoordError):
    """No keyring backend: tokens cannot be stored on this machine."""


class PlaintextKeyring(NoKeyring):
    """The only keyring would keep the token unencrypted in a file; it was not stored."""


def _account(site: str, peer: str) -> str:
    return f"{site}/{peer}"


def env_name(peer: str) -> str:
    """The environment variable that may carry a peer's token: FIELDCOORD_TOKEN_<PEER>."""
    return "FIELDCOORD_TOKEN_" + re.sub(r"[^A-Z0-9]", "_", peer.upper())


def _keyring():
    import keyring
    from keyring.errors import NoKeyringError
    return keyring, NoKeyringError


def _no_keyring(peer: str) -> NoKeyring:
    return NoKeyring(
        "no keyring is available on this machine to keep the token safely (on Linux, install "
        "and unlock GNOME Keyring or KWallet). For now, give the token at each sync in the "
        f"environment variable {env_name(peer)}")


def _plaintext(backend) -> str | None:
    """The backend's name when it keeps secrets unencrypted in a file: keyrings.alt's
    PlaintextKeyring and any backend of keyrings.alt or named Plaintext… that is not one of
    their encrypted ones. A chain of backends stores in its first (highest priority) one."""
    from keyring.backends import chainer
    if isinstance(backend, chainer.ChainerBackend):
        return _plaintext(backend.backends[0]) if backend.backends else None
    cls = type(backend)
    names = [c.__name__ for c in cls.__mro__]
    if any("crypt" in n.lower() for n in names):
        return None
    if "keyrings.alt" in cls.__module__ or any(n.lower().startswith("plaintext") for n in names):
        return f"{cls.__module__}.{cls.__name__}"
    return None


def plaintext_backend() -> str | None:
    """The keyring backend's name when tokens would go unencrypted to a file, else None."""
    try:
        keyring, _ = _keyring()
        return _plaintext(keyring.get_keyring())
    except Exception:                               # no keyring, or a broken installation
        return None


def _plaintext_refused(peer: str, backend: str) -> PlaintextKeyring:
    return PlaintextKeyring(
        f"the only keyring on this machine ({backend}) keeps tokens unencrypted in a file, so "
        "the token was not stored: install and unlock GNOME Keyring or KWallet, or give the "
        f"token at each sync in the environment variable {env_name(peer)}")


def store_token(site: str, peer: str, token: str, allow_plaintext: bool = False) -> None:
    """Keep a peer's token in the keyring. A keyring that would write it unencrypted to a file
    raises PlaintextKeyring unless `allow_plaintext`."""
    keyring, NoKeyringError = _keyring()
    backend = plaintext_backend()
    if backend and not allow_plaintext:
        raise _plaintext_refused(peer, backend)
    try:
        keyring.set_password(SERVICE, _account(site, peer), token)
    except NoKeyringError:
        raise _no_keyring(peer) from None
    except Exception as e:                          # a locked or broken keyring
        raise NoKeyring(f"the keyring refused the token: {e}") from None


def load_token(site: str, peer: str) -> str:
    """The peer's token: from FIELDCOORD_TOKEN_<PEER> if set, else from the keyring."""
    from_env = os.environ.get(env_name(peer))
    if from_env:
        return from_env.strip()
    keyring, NoKeyringError = _keyring()
    try:
        token = keyring.get_password(SERVICE, _account(site, peer))
    except NoKeyringError:
        raise _no_keyring(peer) from None
    if not token:
        raise FieldcoordError(f"no token stored for peer {peer}: run fieldcoord peer add "
                              f"{peer} URL --token-stdin again")
    return token


def forget_token(site: str, peer: str) -> None:
    keyring, NoKeyringError = _keyring()
    try:
        keyring.delete_password(SERVICE, _account(site, peer))
    except NoKeyringError:
        return
    except Exception:                               # nothing stored: nothing to forget
        return
