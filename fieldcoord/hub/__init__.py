# SPDX-License-Identifier: GPL-3.0-or-later
"""The hub: a headless replica serving sync over HTTP to devices and partner hubs (hub layer)."""
