#pragma once
// Reads of rooms' history and state for the client API: events, pages of messages, context, state,
// and who may see them (history visibility). Reads committed data on reader threads; takes no room lock
// and writes nothing. Writes go through RoomService.
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/ids.h"
#include "core/task.h"
#include "rooms/history_visibility.h"
#include "rooms/membership.h"
#include "storage/room_store.h"

namespace herald::storage {
class Database;
}

namespace herald::homeserver {

// One event and what decides whether the reader may see it.
struct EventRead {
  std::optional<storage::StoredEvent> event;
  rooms::HistoryVisibility history;
};

// Events of one page and what decides which of them the reader sees.
struct PageRead {
  std::vector<storage::StoredEvent> events;
  rooms::HistoryVisibility history;
  std::set<std::string> ignored;  // users the reader ignores
};

// An event, its neighbours and the state at the last of them. Empty `before`, `after` and `state` when
// the event is not in the room at or below the ceiling.
struct ContextRead {
  std::optional<storage::StoredEvent> event;
  std::vector<storage::StoredEvent> before, after, state;
  rooms::HistoryVisibility history;
};

struct PublicRoomsRead {
  std::vector<storage::StoredRoom> rooms;
  std::int64_t total = 0;
};

class RoomReader {
 public:
  explicit RoomReader(storage::Database& db) : db_(db) {}

  // The user's membership row in the room (with its stream position and whether it was forgotten).
  Task<std::optional<storage::StoredMembership>> membership(RoomId room, UserId user);
  // Rooms the user is joined to.
  Task<std::vector<std::string>> joined_rooms(UserId user);
  // The state after stream position `upto`, or the current state without one.
  Task<std::vector<storage::StoredEvent>> state(RoomId room, std::optional<std::int64_t> upto);
  Task<std::optional<storage::StoredEvent>> event(std::string event_id);
  // The event, with the history visibility for `user` (whose current membership is `current`).
  Task<EventRead> event_for(RoomId room, std::string event_id, UserId user, rooms::Membership current);
  // Up to `limit` events with lower < stream <= upper, newest first when `backwards`.
  Task<PageRead> page(RoomId room, UserId user, rooms::Membership current, std::int64_t lower, std::int64_t upper,
                      std::int64_t limit, bool backwards);
  // The event with up to `before_limit` events before it (newest first) and `after_limit` after it, up to
  // `ceiling`.
  Task<ContextRead> context(RoomId room, std::string event_id, UserId user, rooms::Membership current, std::int64_t ceiling,
                            std::int64_t before_limit, std::int64_t after_limit);
  Task<std::vector<std::string>> aliases(RoomId room);
  Task<PublicRoomsRead> public_rooms(std::int64_t limit, std::int64_t offset);

 private:
  storage::Database& db_;
};

}  // namespace herald::homeserver
