#pragma once
// Sync filters a user uploaded (POST /user/{userId}/filter), kept as the JSON text they sent.
#include <cstdint>
#include <optional>
#include <string>

#include "core/ids.h"
#include "core/task.h"

namespace herald::storage {
class Database;
}

namespace herald::homeserver {

class FilterStore {
 public:
  explicit FilterStore(storage::Database& db) : db_(db) {}

  // Stores the filter and answers its ID.
  Task<std::int64_t> add(UserId user, std::string filter_json);
  // The user's filter with this ID; nullopt when there is none (or it is another user's).
  Task<std::optional<std::string>> find(UserId user, std::int64_t filter_id);

 private:
  storage::Database& db_;
};

}  // namespace herald::homeserver
