#include "storage/federation_outbound_store.h"

#include "storage/sql/connection.h"

namespace herald::storage::federation_outbound_store {

void enqueue(sql::Connection& c, const std::string& event_id, const std::vector<std::string>& destinations,
             std::int64_t now_ms) {
  for (const auto& destination : destinations) {
    c.execute("INSERT INTO federation_outbound_pdus (destination, event_id, queued_ts) VALUES ($1, $2, $3)",
              {destination, event_id, now_ms});
  }
}

std::vector<QueuedPdu> oldest(sql::Connection& c, const std::string& destination, std::size_t limit) {
  // An event that left the timeline table (never, today) has no PDU to send: its row is skipped here
  // and removed with the batch it was read in, by the caller's ids.
  const auto rows = c.query(
      "SELECT q.id, q.event_id, e.pdu, e.redacted_by FROM federation_outbound_pdus q "
      "LEFT JOIN events e ON e.event_id = q.event_id WHERE q.destination = $1 ORDER BY q.id LIMIT $2",
      {destination, static_cast<std::int64_t>(limit)});
  std::vector<QueuedPdu> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    out.push_back({r.get_int(0), r.get_text(1), r.opt_text(2).value_or(std::string()), !r.is_null(3)});
  }
  return out;
}

std::int64_t count(sql::Connection& c, const std::string& destination) {
  return c.query_one("SELECT COUNT(*) FROM federation_outbound_pdus WHERE destination = $1", {destination})->get_int(0);
}

void remove(sql::Connection& c, const std::string& destination, const std::vector<std::int64_t>& ids) {
  for (const std::int64_t id : ids) {
    c.execute("DELETE FROM federation_outbound_pdus WHERE destination = $1 AND id = $2", {destination, id});
  }
}

std::int64_t keep_newest(sql::Connection& c, const std::string& destination, std::size_t keep) {
  const auto boundary = c.query_one(
      "SELECT id FROM federation_outbound_pdus WHERE destination = $1 ORDER BY id DESC LIMIT 1 OFFSET $2",
      {destination, static_cast<std::int64_t>(keep)});
  if (!boundary) return 0;
  return c.execute("DELETE FROM federation_outbound_pdus WHERE destination = $1 AND id <= $2",
                   {destination, boundary->get_int(0)});
}

std::vector<std::pair<std::string, std::int64_t>> backlog(sql::Connection& c) {
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const auto& r : c.query("SELECT destination, COUNT(*) FROM federation_outbound_pdus GROUP BY destination ORDER BY destination")) {
    out.emplace_back(r.get_text(0), r.get_int(1));
  }
  return out;
}

}  // namespace herald::storage::federation_outbound_store
