-- Accounts, devices and access tokens (stored as SHA-256 of the token, never the token itself).
-- PostgreSQL twin of sqlite/homeserver/0001_accounts.sql. Flags stay 0/1 integers (the stores write 0/1).
CREATE TABLE users (
  user_id TEXT PRIMARY KEY,
  password_hash TEXT,
  created_ts BIGINT NOT NULL,
  is_admin INTEGER NOT NULL DEFAULT 0,
  deactivated INTEGER NOT NULL DEFAULT 0,
  displayname TEXT,
  avatar_url TEXT
);

CREATE TABLE devices (
  user_id TEXT NOT NULL REFERENCES users(user_id),
  device_id TEXT NOT NULL,
  display_name TEXT,
  created_ts BIGINT NOT NULL,
  PRIMARY KEY (user_id, device_id)
);

CREATE TABLE access_tokens (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  created_ts BIGINT NOT NULL,
  FOREIGN KEY (user_id, device_id) REFERENCES devices(user_id, device_id) ON DELETE CASCADE
);
CREATE INDEX access_tokens_by_device ON access_tokens(user_id, device_id);
