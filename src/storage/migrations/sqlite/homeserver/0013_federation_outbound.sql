-- The outbound federation queue: one row per (local event, destination server) still to be sent with
-- PUT /_matrix/federation/v1/send/{txnId}. Rows are written in the same transaction as the event, so an
-- acknowledged event is never lost to a crash; a row goes when the destination acknowledged the
-- transaction carrying it (or refused it for good, or catch-up dropped it as too old). The PDU itself is
-- read from the events table.
CREATE TABLE federation_outbound_pdus (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  destination TEXT NOT NULL,
  event_id TEXT NOT NULL,
  queued_ts BIGINT NOT NULL
);
-- Each destination's queue, oldest first.
CREATE INDEX federation_outbound_pdus_by_destination ON federation_outbound_pdus (destination, id);
