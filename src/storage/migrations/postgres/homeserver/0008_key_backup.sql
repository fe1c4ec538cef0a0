-- Server-side key backup (room_keys): opaque data the clients encrypt; the server only stores and serves it.
-- A deleted version keeps its row (deleted = 1) so that its number is never handed out again.
-- PostgreSQL twin of sqlite/homeserver/0008_key_backup.sql (without SQLite's WITHOUT ROWID).
CREATE TABLE key_backup_versions (
  user_id TEXT NOT NULL,
  version BIGINT NOT NULL,
  algorithm TEXT NOT NULL,
  auth_data TEXT NOT NULL,  -- JSON object
  etag BIGINT NOT NULL DEFAULT 0,  -- bumped by every change to the version's keys
  deleted INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (user_id, version)
);

CREATE TABLE key_backup_sessions (
  user_id TEXT NOT NULL,
  version BIGINT NOT NULL,
  room_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  first_message_index BIGINT NOT NULL,
  forwarded_count BIGINT NOT NULL,
  is_verified INTEGER NOT NULL,
  session_data TEXT NOT NULL,  -- JSON object
  PRIMARY KEY (user_id, version, room_id, session_id)
);

-- Devices: when and from where each was last used (written at most once a minute per device).
ALTER TABLE devices ADD COLUMN last_seen_ts BIGINT;
ALTER TABLE devices ADD COLUMN last_seen_ip TEXT;
