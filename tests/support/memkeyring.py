# SPDX-License-Identifier: GPL-3.0-or-later
"""Keyring backends for tests, kept in memory: one that stands for an encrypting desktop keyring,
and one that stands for keyrings.alt's PlaintextKeyring (what it is given is kept as is)."""
from contextlib import contextmanager

import keyring
from keyring.backend import KeyringBackend


class MemoryKeyring(KeyringBackend):
    """Secrets in a dictionary, through the keyring API."""
    priority = 1

    def __init__(self):
        super().__init__()
        self.secrets = {}

    def set_password(self, service, username, password):
        self.secrets[(service, username)] = password

    def get_password(self, service, username):
        return self.secrets.get((service, username))

    def delete_password(self, service, username):
        self.secrets.pop((service, username), None)

    def tokens(self) -> list:
        """The peer tokens kept (service "fieldcoord")."""
        return [v for (service, _), v in self.secrets.items() if service == "fieldcoord"]


class PlaintextKeyring(MemoryKeyring):
    """Stands for keyrings.alt's PlaintextKeyring."""


@contextmanager
def using(backend):
    """`backend` as the keyring for a while, the one before afterwards."""
    before = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(before)
