-- A state group that changes one key carries that key itself (delta_type, delta_state_key,
-- delta_event_id): no state_group_entries row per state event. Groups written before keep their entry
-- row; readers take both.
ALTER TABLE state_groups ADD COLUMN delta_type TEXT;
ALTER TABLE state_groups ADD COLUMN delta_state_key TEXT;
