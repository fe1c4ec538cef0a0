#pragma once
// The outbound federation queue (migration 0013): per destination server, the local events still to be
// sent, oldest first. Functions run inside a Database job; enqueue() runs in the event's own write job.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace herald::storage {

namespace sql {
class Connection;
}

namespace federation_outbound_store {

struct QueuedPdu {
  std::int64_t id = 0;
  std::string event_id;
  std::string pdu;        // as stored in events (the federation form)
  bool redacted = false;  // redacted since it was queued
};

// One row per destination for `event_id`.
void enqueue(sql::Connection& c, const std::string& event_id, const std::vector<std::string>& destinations,
             std::int64_t now_ms);
// The oldest `limit` queued events for `destination`, with their PDUs.
std::vector<QueuedPdu> oldest(sql::Connection& c, const std::string& destination, std::size_t limit);
std::int64_t count(sql::Connection& c, const std::string& destination);
// Removes the rows (acknowledged or given up).
void remove(sql::Connection& c, const std::string& destination, const std::vector<std::int64_t>& ids);
// Keeps the newest `keep` rows of `destination`; returns how many older rows it removed.
std::int64_t keep_newest(sql::Connection& c, const std::string& destination, std::size_t keep);
// Every destination with something queued, and how much.
std::vector<std::pair<std::string, std::int64_t>> backlog(sql::Connection& c);

}  // namespace federation_outbound_store
}  // namespace herald::storage
