#pragma once
// Users' presence (online / unavailable / offline, a status message, when they were last active), in
// portable SQL. Functions run inside a Database job.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace herald::storage {

namespace sql {
class Connection;
}

struct StoredPresence {
  std::string user_id;
  std::string state;
  std::optional<std::string> status_msg;
  std::int64_t last_active_ts = 0;
  std::int64_t stream = 0;
};

namespace presence_store {

void upsert(sql::Connection& c, const StoredPresence& p);
std::optional<StoredPresence> find(sql::Connection& c, const std::string& user_id);
// Presence changed in (since, to] of the user and of everyone who shares a joined room with them.
std::vector<StoredPresence> changed_for(sql::Connection& c, const std::string& user_id, std::int64_t since, std::int64_t to);
// The presence of these users (those without any are left out).
std::vector<StoredPresence> of_users(sql::Connection& c, const std::vector<std::string>& user_ids);
// Whether the two users are both joined to some room.
bool share_a_room(sql::Connection& c, const std::string& a, const std::string& b);
std::int64_t max_stream(sql::Connection& c);

}  // namespace presence_store
}  // namespace herald::storage
