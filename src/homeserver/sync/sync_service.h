#pragma once
// /sync: initial and incremental, long-polling on the Notifier; rooms.join / invite / leave / knock.
// Tokens are stream positions ("s<N>"), so next_batch never skips or repeats an event.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "core/task.h"
#include "homeserver/sync/sent_members.h"
#include "homeserver/sync/sync_filter.h"

namespace herald::storage {
class Database;
struct StoredEvent;
struct StoredMembership;
namespace sql {
class Connection;
}
}  // namespace herald::storage
namespace herald::events {
struct RoomVersion;
}

namespace herald::homeserver {

class Notifier;
class RoomRegistry;
struct Room;
}  // namespace herald::homeserver
namespace herald {
class Clock;
}
namespace herald::homeserver {

struct SyncRequest {
  UserId user;
  std::string device_id;
  std::optional<std::int64_t> since;  // absent: an initial sync
  // The last to-device message the client got, when it is behind `since` (more were waiting).
  std::optional<std::int64_t> since_to_device;
  bool full_state = false;
  std::chrono::milliseconds timeout{0};
  SyncFilter filter;
};

class SyncService {
 public:
  SyncService(storage::Database& db, RoomRegistry& registry, Notifier& notifier, const Clock& clock)
      : db_(db), registry_(registry), notifier_(notifier), clock_(clock) {}

  Task<nlohmann::json> sync(SyncRequest request);

 private:
  struct Pass;
  // Also returns the rooms the user is joined to (what a long-poll listens on). Sets `has_news` when the
  // answer carries anything new (a long-poll returns only then).
  nlohmann::json build(storage::sql::Connection& c, const SyncRequest& request, std::int64_t since, std::int64_t to,
                       std::vector<std::string>& joined_rooms, bool& has_news);
  std::optional<nlohmann::json> joined_room(Pass& pass, const storage::StoredMembership& m, const Room& room);
  std::optional<nlohmann::json> left_room(Pass& pass, const storage::StoredMembership& m, const Room& room);
  nlohmann::json presence(Pass& pass);

  storage::Database& db_;
  RoomRegistry& registry_;
  Notifier& notifier_;
  const Clock& clock_;
  SentMembers sent_members_;
};

// "s<N>" / "t<N>" -> N; nullopt when malformed.
std::optional<std::int64_t> parse_stream_token(std::string_view token);
// A /sync token: "s<N>", or "s<N>_<M>" when to-device messages up to M only were delivered (more wait).
struct SyncToken {
  std::int64_t events = 0;
  std::int64_t to_device = 0;
};
std::optional<SyncToken> parse_sync_token(std::string_view token);
// A stored event in the client format (redacted when it was redacted), with unsigned.age.
nlohmann::json client_event(const storage::StoredEvent& e, const events::RoomVersion& version, std::int64_t now_ms,
                            bool with_room_id);

}  // namespace herald::homeserver
