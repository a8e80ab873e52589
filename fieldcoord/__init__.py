# SPDX-License-Identifier: GPL-3.0-or-later
"""fieldcoord: an offline-first partner directory and coordination records for field liaisons."""

__version__ = "0.1.0"
APP_ID = "org.fieldcoord.Fieldcoord"
