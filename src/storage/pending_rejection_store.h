#pragma once
// Rejected invites whose leave has not reached the room yet (migration 0014). Functions run inside a
// Database job; put() runs in the local reject's own write job.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace herald::storage {

namespace sql {
class Connection;
}

struct PendingRejection {
  std::string room_id;
  std::string user_id;
  std::string invite_event_id;
  std::vector<std::string> servers;  // to ask, in order
  std::int64_t queued_ts = 0;
  std::optional<std::string> reason;  // the user's, for the leave's content
};

namespace pending_rejection_store {

// Adds the row, or replaces the one kept for the same room and user (a later reject of a later invite).
void put(sql::Connection& c, const PendingRejection& row);
std::optional<PendingRejection> find(sql::Connection& c, const std::string& room_id, const std::string& user_id);
// Every row, oldest first.
std::vector<PendingRejection> all(sql::Connection& c);
// Removes the row of that invite; a row kept since for a newer invite stays.
void remove(sql::Connection& c, const std::string& room_id, const std::string& user_id,
            const std::string& invite_event_id);

}  // namespace pending_rejection_store
}  // namespace herald::storage
