-- SPDX-License-Identifier: GPL-3.0-or-later
-- Schema version 7: revoked device certificates.

-- A device whose certificate its agency revoked (a lost or stolen laptop): `statement` is the
-- agency key's signature over it. Nothing more from that device is accepted.
CREATE TABLE revocation (
    site TEXT PRIMARY KEY NOT NULL,
    agency TEXT NOT NULL,
    statement BLOB NOT NULL
);
