#pragma once
// What the pre-/sync API (GET /initialSync, /rooms/{roomId}/initialSync, /events) reads, in its legacy
// (v1) shapes. Each answer is read in one read transaction; the long-poll stays with the handler.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "core/task.h"

namespace herald::storage {
class Database;
}

namespace herald::homeserver {

class RoomRegistry;
struct Room;

// The events after a position in the rooms a user is in (or whose membership changed), oldest first.
struct LegacyEvents {
  nlohmann::json chunk = nlohmann::json::array();
  std::vector<std::string> joined_rooms;  // what a long-poll listens on
};

class LegacySync {
 public:
  LegacySync(storage::Database& db, RoomRegistry& registry) : db_(db), registry_(registry) {}

  // Every room of the user up to stream position `to` (left and banned ones only when `archived`), with
  // up to `limit` messages each, their account data and the presence of everyone they share a room with.
  Task<nlohmann::json> initial_sync(UserId user, std::int64_t to, std::int64_t limit, bool archived, std::int64_t now);
  // One room as initialSync shows it; nullopt when the user is not (and was not) a member of it.
  Task<std::optional<nlohmann::json>> room_initial_sync(UserId user, std::shared_ptr<Room> room, std::int64_t to,
                                                        std::int64_t limit, std::int64_t now);
  // Events with from < stream <= to (up to 100 per room).
  Task<LegacyEvents> events(UserId user, std::int64_t from, std::int64_t to, std::int64_t now);

 private:
  storage::Database& db_;
  RoomRegistry& registry_;
};

}  // namespace herald::homeserver
