# SPDX-License-Identifier: GPL-3.0-or-later
"""Sync between replicas: the exchange, its wire format, transports and bundles (sync layer)."""
