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


def store_token(site: str, peer: str, token: str) -> None:
    keyring, NoKeyringError = _keyring()
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
