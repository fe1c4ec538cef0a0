-- Third-party identifiers of accounts, and which identity server each was bound at.
-- PostgreSQL twin of sqlite/homeserver/0004_threepids.sql.
CREATE TABLE user_threepids (
  medium TEXT NOT NULL,
  address TEXT NOT NULL,
  user_id TEXT NOT NULL,
  validated_at BIGINT NOT NULL,
  added_at BIGINT NOT NULL,
  PRIMARY KEY (medium, address)
);
CREATE INDEX user_threepids_by_user ON user_threepids(user_id);

CREATE TABLE user_threepid_id_servers (
  user_id TEXT NOT NULL,
  medium TEXT NOT NULL,
  address TEXT NOT NULL,
  id_server TEXT NOT NULL,
  PRIMARY KEY (user_id, medium, address, id_server)
);
