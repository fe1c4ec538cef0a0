-- Invites from other servers that a local user rejected while the room's servers could not be reached:
-- the reject is already done here (the membership row says leave), the leave still has to reach the room
-- through make_leave/send_leave. One row per (room, user), written in the reject's own transaction and
-- removed once a server took the leave or refused it for good; the sender retries the rest, also after
-- a restart.
-- PostgreSQL twin of sqlite/homeserver/0014_pending_rejections.sql.
CREATE TABLE pending_rejections (
  room_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  invite_event_id TEXT NOT NULL,  -- the invite rejected; a newer invite or membership makes the row moot
  servers TEXT NOT NULL,          -- JSON array of the servers to ask, in order
  reason TEXT,                    -- the user's reason, for the leave's content
  queued_ts BIGINT NOT NULL,
  PRIMARY KEY (room_id, user_id)
);
