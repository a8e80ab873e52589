# SPDX-License-Identifier: GPL-3.0-or-later
"""fieldcoord: an offline-first partner directory and coordination records for field liaisons."""
from importlib import metadata

try:
    __version__ = metadata.version("fieldcoord")      # the one place: pyproject.toml
except metadata.PackageNotFoundError:                 # run from a checkout never installed
    __version__ = "0+unknown"
APP_ID = "org.fieldcoord.Fieldcoord"
