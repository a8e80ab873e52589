-- SPDX-License-Identifier: GPL-3.0-or-later
-- Schema version 5: keys, certificates and signed streams (docs/security.md).

-- Agency keys this replica trusts. Its own agency's key ('home'); partners' keys confirmed
-- by a user here ('confirmed') or vouched for by this replica's own agency ('endorsed':
-- `endorsement` is the home agency key's signature). A fingerprint may be confirmed before the
-- key itself is seen: `key` stays NULL until a key with that fingerprint arrives.
CREATE TABLE agency_key (
    code TEXT PRIMARY KEY NOT NULL,
    fingerprint TEXT NOT NULL,
    key BLOB,
    trust TEXT NOT NULL,
    endorsement BLOB,
    at TEXT NOT NULL
);

-- Signed heads of change streams: the origin's signature over the stream's chain hash at a
-- position. A receiver applies entries only up to a head it has verified.
CREATE TABLE head (
    stream INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL,
    sig BLOB NOT NULL,
    PRIMARY KEY (stream, seq)
) WITHOUT ROWID;

-- The chain hash of each stream at its sequence number `seq`.
ALTER TABLE stream ADD COLUMN hash BLOB;

-- A replica's device key and the certificate its agency's key signed for it. `agency` is only
-- ever set from a verified certificate (or, for this replica, from its own identity).
ALTER TABLE site ADD COLUMN key BLOB;
ALTER TABLE site ADD COLUMN cert BLOB;
ALTER TABLE site ADD COLUMN verified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE site ADD COLUMN revoked_at TEXT;

-- How this replica reaches a peer safely: a CA file or a pinned certificate fingerprint for
-- TLS, and the fingerprint of the peer agency's key confirmed for it.
ALTER TABLE peer ADD COLUMN tls_ca TEXT;
ALTER TABLE peer ADD COLUMN tls_pin TEXT;
ALTER TABLE peer ADD COLUMN key_fingerprint TEXT;

-- The device key a token enrolled (a token enrolls one device only).
ALTER TABLE device_token ADD COLUMN device_key BLOB;
ALTER TABLE device_token ADD COLUMN site TEXT;
