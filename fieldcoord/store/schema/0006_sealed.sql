-- SPDX-License-Identifier: GPL-3.0-or-later
-- Schema version 6: the key bundles are sealed to.

-- An agency's key for sealed bundles (X25519), as a statement its agency key signed. Every
-- enrolled device of the agency holds the private half, so any of them can open a bundle
-- written for the agency.
ALTER TABLE agency_key ADD COLUMN box BLOB;
