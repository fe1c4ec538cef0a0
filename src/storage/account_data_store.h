#pragma once
// Per-user account data, global (room_id "") or per room, in portable SQL. Functions run inside a
// Database job; each change takes the stream position the caller allocated.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace herald::storage {

namespace sql {
class Connection;
}

struct StoredAccountData {
  std::string room_id;  // "" for global account data
  std::string type;
  std::string content;  // JSON text
  std::int64_t stream = 0;
};

namespace account_data_store {

void upsert(sql::Connection& c, const std::string& user_id, const std::string& room_id, const std::string& type,
            const std::string& content, std::int64_t stream);
std::optional<std::string> find(sql::Connection& c, const std::string& user_id, const std::string& room_id,
                                const std::string& type);
// The user's account data changed in (since, to], global and per room.
std::vector<StoredAccountData> changed(sql::Connection& c, const std::string& user_id, std::int64_t since, std::int64_t to);
std::int64_t max_stream(sql::Connection& c);

}  // namespace account_data_store
}  // namespace herald::storage
