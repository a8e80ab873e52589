# SPDX-License-Identifier: GPL-3.0-or-later
"""Where fieldcoord keeps its files, and what the environment may say about it, in one place
(core layer: it reads the environment and names folders, and writes nothing).

    FIELDCOORD_DB              the database (default: fieldcoord.db in the user data folder)
    FIELDCOORD_CONFIG_DIR      settings of the command line (saved CSV mappings)
    FIELDCOORD_LOG_DIR         the log files of the app, the CLI and the hub
    FIELDCOORD_KEYSTORE        where a new replica's private keys go: keyring, file, database
    FIELDCOORD_KEY_PASSPHRASE  the passphrase of the encrypted key file (<database>.keys)
    FIELDCOORD_TOKEN_<PEER>    a peer's device token, given at each sync
    FIELDCOORD_DEBUG           an unexpected error in the CLI shows its traceback
"""
from __future__ import annotations

import os
import re
from pathlib import Path

APP = "fieldcoord"
DB_ENV = "FIELDCOORD_DB"
CONFIG_ENV = "FIELDCOORD_CONFIG_DIR"
LOG_ENV = "FIELDCOORD_LOG_DIR"
KEYSTORE_ENV = "FIELDCOORD_KEYSTORE"
PASSPHRASE_ENV = "FIELDCOORD_KEY_PASSPHRASE"
DEBUG_ENV = "FIELDCOORD_DEBUG"


def _given(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def default_db() -> Path:
    given = _given(DB_ENV)
    if given:
        return Path(given)
    import platformdirs
    return Path(platformdirs.user_data_dir(APP, appauthor=False)) / "fieldcoord.db"


def db_given() -> bool:
    """Whether the environment names the database."""
    return _given(DB_ENV) is not None


def config_dir() -> Path:
    given = _given(CONFIG_ENV)
    if given:
        return Path(given)
    import platformdirs
    return Path(platformdirs.user_config_dir(APP, appauthor=False))


def log_dir() -> Path:
    given = _given(LOG_ENV)
    if given:
        return Path(given)
    import platformdirs
    return Path(platformdirs.user_log_dir(APP, appauthor=False))


def token_env(peer: str) -> str:
    """The environment variable that may carry a peer's token: FIELDCOORD_TOKEN_<PEER>."""
    return "FIELDCOORD_TOKEN_" + re.sub(r"[^A-Z0-9]", "_", peer.upper())


def debugging() -> bool:
    return _given(DEBUG_ENV) is not None
