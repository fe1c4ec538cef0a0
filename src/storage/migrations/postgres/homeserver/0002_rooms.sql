-- Rooms, their events (each event keeps its PDU; state events are those with a state_key, so the state
-- at any stream position can be read back), current state, memberships, aliases, transaction IDs, filters.
-- PostgreSQL twin of sqlite/homeserver/0002_rooms.sql.
CREATE TABLE rooms (
  room_id TEXT PRIMARY KEY,
  room_version TEXT NOT NULL,
  creator TEXT NOT NULL,
  is_public INTEGER NOT NULL DEFAULT 0,
  created_ts BIGINT NOT NULL
);

CREATE TABLE events (
  stream_ordering BIGINT PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  room_id TEXT NOT NULL REFERENCES rooms(room_id),
  type TEXT NOT NULL,
  state_key TEXT,
  sender TEXT NOT NULL,
  membership TEXT,
  pdu TEXT NOT NULL,
  unsigned_json TEXT,
  redacted_by TEXT
);
CREATE INDEX events_by_room ON events(room_id, stream_ordering);
CREATE INDEX events_state_by_room ON events(room_id, type, state_key, stream_ordering);

CREATE TABLE current_state (
  room_id TEXT NOT NULL,
  type TEXT NOT NULL,
  state_key TEXT NOT NULL,
  event_id TEXT NOT NULL,
  PRIMARY KEY (room_id, type, state_key)
);

CREATE TABLE memberships (
  room_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  membership TEXT NOT NULL,
  event_id TEXT NOT NULL,
  stream_ordering BIGINT NOT NULL,
  forgotten INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (room_id, user_id)
);
CREATE INDEX memberships_by_user ON memberships(user_id);

CREATE TABLE room_aliases (
  alias TEXT PRIMARY KEY,
  room_id TEXT NOT NULL,
  creator TEXT NOT NULL
);
CREATE INDEX room_aliases_by_room ON room_aliases(room_id);

CREATE TABLE event_transactions (
  user_id TEXT NOT NULL,
  device_id TEXT NOT NULL,
  txn_key TEXT NOT NULL,
  event_id TEXT NOT NULL,
  PRIMARY KEY (user_id, device_id, txn_key)
);

CREATE TABLE filters (
  user_id TEXT NOT NULL,
  filter_id BIGINT NOT NULL,
  filter_json TEXT NOT NULL,
  PRIMARY KEY (user_id, filter_id)
);
