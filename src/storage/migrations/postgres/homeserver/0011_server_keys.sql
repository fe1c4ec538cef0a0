-- Remote servers' signing keys (federation.md §3), as verified key objects: one row per server and key
-- ID holding the whole object the key came in (signed by the server, kept to serve again as a notary),
-- with its valid_until_ts, so a restart does not refetch every server's keys.
CREATE TABLE server_keys_json (
  server_name TEXT NOT NULL,
  key_id TEXT NOT NULL,
  valid_until_ts BIGINT NOT NULL,
  fetched_ts BIGINT NOT NULL,
  key_json TEXT NOT NULL,
  PRIMARY KEY (server_name, key_id)
);
