# SPDX-License-Identifier: GPL-3.0-or-later
"""Where fieldcoord keeps its files, and what the environment may say about it, in one place
(core layer: it reads the environment and names folders, and writes nothing).

    FIELDCOORD_DB              the database (default: fieldcoord.db in the user data folder)
    FIELDCOORD_CONFIG_DIR      settings of the command line (saved CSV mappings)
    FIELDCOORD_LOG_DIR         the log files of the app, the CLI and the hub
    FIELDCOORD_KEYSTORE        where a new replica's private keys go: keyring, file, database
    FIELDCOORD_KEY_PASSPHRASE  the passphrase of the encrypted key file (<database>.keys)
    FIELDCOORD_KEY_PASSPHRASE_FILE  a file holding that passphrase instead (a service's
                               credential); a systemd credential named fieldcoord-passphrase is
                               read when neither is set
    FIELDCOORD_TOKEN_<PEER>    a peer's device token, given at each sync
    FIELDCOORD_DATABASE_URL    a regional hub's PostgreSQL database (hub --database-url)
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
PASSPHRASE_FILE_ENV = "FIELDCOORD_KEY_PASSPHRASE_FILE"
DATABASE_URL_ENV = "FIELDCOORD_DATABASE_URL"
# the name of the credential a systemd unit passes (LoadCredential=fieldcoord-passphrase:...)
PASSPHRASE_CREDENTIAL = "fieldcoord-passphrase"


def _given(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def key_passphrase() -> str | None:
    """The key file's passphrase: FIELDCOORD_KEY_PASSPHRASE, else the first line of the file
    FIELDCOORD_KEY_PASSPHRASE_FILE names, else that of the systemd credential
    fieldcoord-passphrase; None when none is given. A named file that cannot be read is an
    error (OSError), not a missing passphrase."""
    given = os.environ.get(PASSPHRASE_ENV)
    if given:
        return given
    named = _given(PASSPHRASE_FILE_ENV)
    if named is None:
        creds = _given("CREDENTIALS_DIRECTORY")
        if creds is None or not (Path(creds) / PASSPHRASE_CREDENTIAL).is_file():
            return None
        named = str(Path(creds) / PASSPHRASE_CREDENTIAL)
    text = Path(named).read_text(encoding="utf-8")
    return text.splitlines()[0] if text.strip() else None


def database_url() -> str | None:
    """The PostgreSQL database of a regional hub the environment names, if any."""
    return _given(DATABASE_URL_ENV)


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
