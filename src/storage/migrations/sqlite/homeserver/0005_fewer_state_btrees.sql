-- Fewer b-trees written per event (each is a page dirtied per commit): a member's current state lives
-- only in memberships (current_state keeps the other state), and both tables are clustered on their
-- primary keys (WITHOUT ROWID) instead of a rowid table plus a key index.
CREATE TABLE current_state_v5 (
  room_id TEXT NOT NULL,
  type TEXT NOT NULL,
  state_key TEXT NOT NULL,
  event_id TEXT NOT NULL,
  PRIMARY KEY (room_id, type, state_key)
) WITHOUT ROWID;
INSERT INTO current_state_v5 (room_id, type, state_key, event_id)
  SELECT room_id, type, state_key, event_id FROM current_state WHERE type <> 'm.room.member';
DROP TABLE current_state;
ALTER TABLE current_state_v5 RENAME TO current_state;

CREATE TABLE memberships_v5 (
  room_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  membership TEXT NOT NULL,
  event_id TEXT NOT NULL,
  stream_ordering BIGINT NOT NULL,
  forgotten INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (room_id, user_id)
) WITHOUT ROWID;
INSERT INTO memberships_v5 (room_id, user_id, membership, event_id, stream_ordering, forgotten)
  SELECT room_id, user_id, membership, event_id, stream_ordering, forgotten FROM memberships;
DROP TABLE memberships;
ALTER TABLE memberships_v5 RENAME TO memberships;
CREATE INDEX memberships_by_user ON memberships(user_id);
