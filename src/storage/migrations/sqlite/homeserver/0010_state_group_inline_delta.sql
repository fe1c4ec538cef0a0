-- A state group that changes one key carries that key itself (delta_type, delta_state_key,
-- delta_event_id): no state_group_entries row per state event. Groups written before keep their entry
-- row; readers take both. state_group becomes the table's rowid (INTEGER PRIMARY KEY): one B-tree per
-- insert instead of the table and its separate primary-key index.
CREATE TABLE state_groups_v2 (
  state_group INTEGER PRIMARY KEY,
  room_id TEXT NOT NULL,
  prev_group BIGINT,
  delta_event_id TEXT,
  delta_type TEXT,
  delta_state_key TEXT,
  chain_length BIGINT NOT NULL,
  state_size BIGINT NOT NULL
);
INSERT INTO state_groups_v2 (state_group, room_id, prev_group, delta_event_id, chain_length, state_size)
  SELECT state_group, room_id, prev_group, delta_event_id, chain_length, state_size FROM state_groups;
DROP TABLE state_groups;
ALTER TABLE state_groups_v2 RENAME TO state_groups;
