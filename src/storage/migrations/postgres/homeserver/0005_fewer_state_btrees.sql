-- Fewer b-trees written per event (each is a page dirtied per commit): a member's current state lives
-- only in memberships (current_state keeps the other state).
-- PostgreSQL twin of sqlite/homeserver/0005_fewer_state_btrees.sql. There the tables were also rebuilt
-- clustered on their primary keys (WITHOUT ROWID); PostgreSQL has no such tables (a table is a heap
-- plus its primary key index either way), so only the move of member state remains: the tables keep
-- their columns, keys and indexes (memberships_by_user included), as the SQLite rebuild recreates them.
DELETE FROM current_state WHERE type = 'm.room.member';
