# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the format tests: a fresh directory, a private config folder, file writers."""
from pathlib import Path

import pytest


@pytest.fixture
def hcem(tmp_path):
    """A fresh directory whose home agency is Harbor County Emergency Management (HCEM)."""
    from fieldcoord.store import Store
    s = Store.create(tmp_path / "hcem.db", "Harbor County Emergency Management", "HCEM",
                     device="laptop-1")
    yield s
    s.close()


@pytest.fixture
def other_store(tmp_path):
    """A second, empty directory (to import what the first one exported)."""
    from fieldcoord.store import Store
    s = Store.create(tmp_path / "other.db", "Harbor County Emergency Management", "HCEM",
                     device="laptop-2")
    yield s
    s.close()


@pytest.fixture
def write(tmp_path):
    """write(name, text or bytes, newline='\\r\\n') -> path of a file in tmp_path."""
    def _write(name: str, content, newline: str = "\r\n", encoding: str = "utf-8") -> Path:
        p = tmp_path / name
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            text = "\n".join(line for line in content.strip("\n").split("\n")) + "\n"
            p.write_bytes(text.replace("\n", newline).encode(encoding))
        return p
    return _write
