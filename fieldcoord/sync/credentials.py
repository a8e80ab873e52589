# SPDX-License-Identifier: GPL-3.0-or-later
"""Peer tokens in the OS keyring (SecretService, Windows Credential Manager, macOS Keychain)
(sync layer).

Without a keyring that encrypts, a token is kept only when the user agrees, where the replica's
own private keys are: in the keyring's unencrypted file (keyrings.alt), else in the database
itself, or encrypted in `<database>.keys` when the replica's keys are there (see store.keys).
A token given in FIELDCOORD_TOKEN_<PEER> always comes first."""
from __future__ import annotations

import os

from ..core import places
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
    return places.token_env(peer)


def _keyring():
    import keyring
    from keyring.errors import NoKeyringError
    return keyring, NoKeyringError


def _no_keyring(peer: str) -> NoKeyring:
    return NoKeyring(
        "no keyring is available on this machine to keep the token safely (on Linux, install "
        "and unlock GNOME Keyring or KWallet). For now, give the token at each sync in the "
        f"environment variable {env_name(peer)}, or agree to keep it unencrypted in the "
        "database file (peer add --allow-plaintext-keyring, or the box in the app's peer "
        "dialog)")


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


def has_keyring() -> bool:
    """Whether any keyring backend (encrypting or not) is there to hold tokens."""
    try:
        import keyring
        from keyring.backends import chainer, fail
        backend = keyring.get_keyring()
    except Exception:                               # a broken keyring installation
        return False
    return not (isinstance(backend, fail.Keyring) or (
        isinstance(backend, chainer.ChainerBackend) and not backend.backends))


def _beside_keys(store) -> str:
    """Where a token goes without a keyring: beside the replica's private keys."""
    return "file" if getattr(store, "keystore", None) == "file" else "database"


def token_home(store) -> str:
    """Where a token given now would be kept: 'keyring', 'plaintext keyring', 'file'
    (encrypted beside the database) or 'database' (unencrypted, in the database file)."""
    if has_keyring():
        return "plaintext keyring" if plaintext_backend() else "keyring"
    return _beside_keys(store)


def _token_name(peer: str) -> str:
    return f"token/{peer}"


def store_token(site: str, peer: str, token: str, allow_plaintext: bool = False,
                store=None) -> None:
    """Keep a peer's token. A keyring that would write it unencrypted to a file raises
    PlaintextKeyring unless `allow_plaintext`; with no keyring at all, the token goes beside
    the replica's keys in `store` (encrypted there only when they are in `<db>.keys`), which
    needs `allow_plaintext` unless they are encrypted."""
    if not has_keyring() and store is not None:
        from ..store import keys
        where = _beside_keys(store)
        if where == "database" and not allow_plaintext:
            raise _no_keyring(peer)
        with store.transaction():
            keys.save(store.conn, store.path, site, _token_name(peer), token.encode(), where)
        return
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


def _from_store(store, site: str, peer: str) -> str | None:
    from ..store import keys
    if store is None:
        return None
    for where in ("database", "file") if _beside_keys(store) == "database" else ("file",):
        got = keys.load(store.conn, store.path, site, _token_name(peer), where)
        if got:
            return got.decode()
    return None


def load_token(site: str, peer: str, store=None) -> str:
    """The peer's token: from FIELDCOORD_TOKEN_<PEER> if set, else from the keyring, else from
    beside the replica's keys in `store` (where store_token put it without a keyring)."""
    from_env = os.environ.get(env_name(peer))
    if from_env:
        return from_env.strip()
    token = None
    if has_keyring():
        keyring, NoKeyringError = _keyring()
        try:
            token = keyring.get_password(SERVICE, _account(site, peer))
        except NoKeyringError:
            pass
    token = token or _from_store(store, site, peer)
    if token:
        return token
    if not has_keyring():
        raise _no_keyring(peer)
    raise FieldcoordError(f"no token stored for peer {peer}: run fieldcoord peer add "
                          f"{peer} URL --token-stdin again")


def has_token(site: str, peer: str, store=None) -> bool:
    """Whether a sync with the peer would find its token (without raising)."""
    try:
        return bool(load_token(site, peer, store))
    except Exception:                               # none, or a locked keyring
        return False


def forget_token(site: str, peer: str, store=None) -> None:
    if store is not None:
        from ..store import keys
        with store.transaction():
            for where in ("database", "file"):
                try:
                    keys.forget(store.conn, store.path, site, _token_name(peer), where)
                except FieldcoordError:             # an unreadable key file: nothing there
                    pass
    if not has_keyring():
        return
    keyring, NoKeyringError = _keyring()
    try:
        keyring.delete_password(SERVICE, _account(site, peer))
    except NoKeyringError:
        return
    except Exception:                               # nothing stored: nothing to forget
        return
