-- OpenID tokens a user hands to an identity server, which checks them at /federation/v1/openid/userinfo.
-- PostgreSQL twin of sqlite/homeserver/0003_openid.sql.
CREATE TABLE openid_tokens (
  token_hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL,
  expires_ts BIGINT NOT NULL
);
