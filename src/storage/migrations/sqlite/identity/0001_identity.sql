-- The identity server's tables. Tokens are stored as SHA-256 of the token, never the token itself.
CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

CREATE TABLE accounts (
  user_id TEXT PRIMARY KEY,
  created_ts BIGINT NOT NULL
);

CREATE TABLE account_tokens (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES accounts(user_id),
  created_ts BIGINT NOT NULL
);
CREATE INDEX account_tokens_by_user ON account_tokens(user_id);

-- Terms URLs each account accepted (accepting appends, never replaces).
CREATE TABLE accepted_terms (
  user_id TEXT NOT NULL REFERENCES accounts(user_id),
  url TEXT NOT NULL,
  PRIMARY KEY (user_id, url)
);

-- Email validation sessions, one per (medium, address, client_secret).
CREATE TABLE validation_sessions (
  sid TEXT PRIMARY KEY,
  medium TEXT NOT NULL,
  address TEXT NOT NULL,
  client_secret TEXT NOT NULL,
  token TEXT NOT NULL,
  send_attempt BIGINT NOT NULL,
  next_link TEXT,
  modified_ts BIGINT NOT NULL,
  validated_ts BIGINT,
  UNIQUE (medium, address, client_secret)
);

-- Published 3PID -> Matrix ID bindings; lookup_hash = sha256("<address> <medium> <pepper>").
CREATE TABLE associations (
  medium TEXT NOT NULL,
  address TEXT NOT NULL,
  lookup_hash TEXT NOT NULL,
  mxid TEXT NOT NULL,
  ts BIGINT NOT NULL,
  not_before BIGINT NOT NULL,
  not_after BIGINT NOT NULL,
  PRIMARY KEY (medium, address)
);
CREATE INDEX associations_by_hash ON associations(lookup_hash);

-- Invitations stored for an address that is not bound yet (store-invite).
CREATE TABLE invites (
  token TEXT PRIMARY KEY,
  medium TEXT NOT NULL,
  address TEXT NOT NULL,
  room_id TEXT NOT NULL,
  sender TEXT NOT NULL,
  ephemeral_public_key TEXT NOT NULL,
  received_ts BIGINT NOT NULL,
  sent_ts BIGINT
);
CREATE INDEX invites_by_address ON invites(medium, address);

-- Ephemeral public keys handed out by store-invite, as handed out (URL-safe base64).
CREATE TABLE ephemeral_keys (
  public_key TEXT PRIMARY KEY,
  created_ts BIGINT NOT NULL
);

-- Signed onbind callbacks waiting to reach the bound user's homeserver.
CREATE TABLE onbind_queue (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  mxid TEXT NOT NULL,
  body TEXT NOT NULL,
  invite_tokens TEXT NOT NULL,
  attempts BIGINT NOT NULL,
  next_attempt_ts BIGINT NOT NULL,
  created_ts BIGINT NOT NULL,
  last_error TEXT
);
