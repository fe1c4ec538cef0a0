-- The event graph (docs/event-pipeline.md): each event's prev and auth edges, each room's forward
-- extremities, state groups (the state before/after any event, as a chain of small deltas ended by a
-- full snapshot), the prev events a room is still missing, and the events kept outside the timeline
-- (outliers, rejected and soft-failed events).

-- kind 0: prev event, kind 1: auth event. Keyed by the referring timeline event's stream position, so
-- each event's edges are appended beside the last one's (an event ID key would dirty a random page).
CREATE TABLE event_edges (
  stream_ordering BIGINT NOT NULL,
  kind INTEGER NOT NULL,
  target_id TEXT NOT NULL,
  PRIMARY KEY (stream_ordering, kind, target_id)
) WITHOUT ROWID;

-- Events nothing refers to yet: the prev_events of the room's next event.
CREATE TABLE forward_extremities (
  room_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  PRIMARY KEY (room_id, event_id)
) WITHOUT ROWID;

-- prev events that were referred to but are not stored yet (the transport fetches them). An event
-- that arrives later and is listed here is not a forward extremity: something already follows it.
CREATE TABLE missing_prev_events (
  room_id TEXT NOT NULL,
  missing_id TEXT NOT NULL,
  referrer_id TEXT NOT NULL,
  PRIMARY KEY (missing_id, referrer_id)
) WITHOUT ROWID;
CREATE INDEX missing_prev_events_by_room ON missing_prev_events(room_id);

-- A state group's state is its prev_group's state overlaid by its delta: one event (delta_event_id)
-- or the rows in state_group_entries. A group with no prev_group is a full snapshot.
-- chain_length counts the deltas to walk to reach a snapshot, so reads stay bounded.
CREATE TABLE state_groups (
  state_group BIGINT PRIMARY KEY,
  room_id TEXT NOT NULL,
  prev_group BIGINT,
  delta_event_id TEXT,
  chain_length BIGINT NOT NULL,
  state_size BIGINT NOT NULL
);

-- event_id NULL: the key is absent from this group (resolution may drop a key).
CREATE TABLE state_group_entries (
  state_group BIGINT NOT NULL,
  type TEXT NOT NULL,
  state_key TEXT NOT NULL,
  event_id TEXT,
  PRIMARY KEY (state_group, type, state_key)
) WITHOUT ROWID;

-- The state before and after each timeline event (NULL for events stored before this migration:
-- their rooms' histories are linear, and stream order answers for them).
ALTER TABLE events ADD COLUMN state_before BIGINT;
ALTER TABLE events ADD COLUMN state_after BIGINT;

-- The room's current state (resolved at its forward extremities) as a state group; NULL until the
-- room is first written after this migration, which snapshots current_state then.
ALTER TABLE rooms ADD COLUMN current_state_group BIGINT;

-- Events that are not in the room's timeline: outliers (stored for their state or auth role, their
-- place in the graph unknown), rejected events (failed the auth rules; never part of any state) and
-- soft-failed events (valid, but refused by the current state: not shown, not an extremity).
CREATE TABLE events_outside_timeline (
  event_id TEXT PRIMARY KEY,
  room_id TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT,
  pdu TEXT NOT NULL,
  state_before BIGINT,
  received_ts BIGINT NOT NULL
);
CREATE INDEX events_outside_timeline_by_room ON events_outside_timeline(room_id, status);

-- Rooms written before this migration: their latest event is their one forward extremity.
INSERT INTO forward_extremities (room_id, event_id)
  SELECT e.room_id, e.event_id FROM events e
  JOIN (SELECT room_id, MAX(stream_ordering) AS s FROM events GROUP BY room_id) m ON e.stream_ordering = m.s;
