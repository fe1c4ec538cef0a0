-- When a local user joins a room through another server, the room's state arrives as a snapshot (the
-- send_join answer): those events are the room's state and stay stored with it, but they never happened
-- in this server's timeline. They are kept in `events` with in_timeline = 0, so current state, state
-- groups and member lists read them as any other, while /sync, /messages and /context skip them.
ALTER TABLE events ADD COLUMN in_timeline INTEGER NOT NULL DEFAULT 1;
