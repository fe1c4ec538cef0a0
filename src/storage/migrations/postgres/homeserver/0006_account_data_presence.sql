-- Account data (global when room_id is '') and presence. Both take their positions from the same stream
-- as room events, so one /sync token ("s<N>") covers every change a client can see.
-- PostgreSQL twin of sqlite/homeserver/0006_account_data_presence.sql (without SQLite's WITHOUT ROWID).
CREATE TABLE account_data (
  user_id TEXT NOT NULL,
  room_id TEXT NOT NULL,
  type TEXT NOT NULL,
  content TEXT NOT NULL,
  stream_ordering BIGINT NOT NULL,
  PRIMARY KEY (user_id, room_id, type)
);
CREATE INDEX account_data_by_stream ON account_data(user_id, stream_ordering);

CREATE TABLE presence (
  user_id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  status_msg TEXT,
  last_active_ts BIGINT NOT NULL,
  stream_ordering BIGINT NOT NULL
);
CREATE INDEX presence_by_stream ON presence(stream_ordering);
