-- End-to-end encryption support: the homeserver stores, serves and forwards what clients send (it does
-- no cryptography with it). Device list changes and to-device messages take positions on the stream /sync
-- reads. user_id/device_id are plain text so remote users' devices fit once federation brings them.
-- PostgreSQL twin of sqlite/homeserver/0007_e2e_keys.sql (without SQLite's WITHOUT ROWID).
CREATE TABLE device_keys (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  key_json TEXT NOT NULL,
  PRIMARY KEY (user_id, device_id)
);

CREATE TABLE one_time_keys (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  key_id TEXT NOT NULL,
  key_json TEXT NOT NULL,
  PRIMARY KEY (user_id, device_id, algorithm, key_id)
);

-- One fallback key per device and algorithm; `used` (0/1) once it was handed out by /keys/claim.
CREATE TABLE fallback_keys (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  key_id TEXT NOT NULL,
  key_json TEXT NOT NULL,
  used INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, device_id, algorithm)
);

-- master, self_signing and user_signing keys, with the signatures others added to them.
CREATE TABLE cross_signing_keys (
  user_id TEXT NOT NULL,
  key_type TEXT NOT NULL,
  key_json TEXT NOT NULL,
  PRIMARY KEY (user_id, key_type)
);

-- Signatures uploaded through /keys/signatures/upload, merged into the signed object when served.
CREATE TABLE key_signatures (
  target_user TEXT NOT NULL,
  target_id TEXT NOT NULL,     -- a device ID, or a cross-signing public key
  signer_user TEXT NOT NULL,
  signer_key_id TEXT NOT NULL,
  signature TEXT NOT NULL,
  PRIMARY KEY (target_user, target_id, signer_user, signer_key_id)
);

-- A user's devices or keys changed at this position.
CREATE TABLE device_list_changes (
  stream_ordering BIGINT PRIMARY KEY,
  user_id TEXT NOT NULL
);
CREATE INDEX device_list_changes_by_user ON device_list_changes(user_id, stream_ordering);

CREATE TABLE to_device_messages (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  stream_ordering BIGINT NOT NULL,
  message_json TEXT NOT NULL,
  PRIMARY KEY (user_id, device_id, stream_ordering)
);

-- Idempotency of PUT /sendToDevice/{eventType}/{txnId} per sending device.
CREATE TABLE to_device_transactions (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  txn_key TEXT NOT NULL,
  PRIMARY KEY (user_id, device_id, txn_key)
);
