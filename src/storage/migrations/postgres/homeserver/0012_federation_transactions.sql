-- Transactions received over PUT /_matrix/federation/v1/send/{txnId}: the answer given, so that a retry of
-- the same (origin, txn_id) gets the same per-PDU results without the PDUs being handled again.
-- PostgreSQL twin of sqlite/homeserver/0011_federation_transactions.sql.
CREATE TABLE received_transactions (
  origin TEXT NOT NULL,
  txn_id TEXT NOT NULL,
  response_json TEXT NOT NULL,
  received_ts BIGINT NOT NULL,
  PRIMARY KEY (origin, txn_id)
);
-- For pruning old entries by age.
CREATE INDEX received_transactions_by_ts ON received_transactions (received_ts);
