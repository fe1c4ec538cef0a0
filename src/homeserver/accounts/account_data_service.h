#pragma once
// Account data (client-server.md "Client Config"): per-user JSON objects by type, global or per room,
// stored with a stream position so /sync delivers each change once. m.ignored_user_list is one of them.
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "core/task.h"

namespace herald::storage {
class Database;
namespace sql {
class Connection;
}
}  // namespace herald::storage

namespace herald::homeserver {

class Notifier;
class StreamCounter;

class AccountDataService {
 public:
  AccountDataService(storage::Database& db, StreamCounter& stream, Notifier& notifier)
      : db_(db), stream_(stream), notifier_(notifier) {}

  // room_id "" for global account data. Refuses the server-controlled types and malformed ignore lists.
  Task<void> set(UserId user, std::string room_id, std::string type, nlohmann::json content);
  Task<std::optional<nlohmann::json>> get(UserId user, std::string room_id, std::string type);

 private:
  storage::Database& db_;
  StreamCounter& stream_;
  Notifier& notifier_;
};

// The users `user` ignores (m.ignored_user_list), read inside a Database job.
std::set<std::string> ignored_users(storage::sql::Connection& c, const std::string& user);

}  // namespace herald::homeserver
