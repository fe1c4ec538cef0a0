#pragma once
// Presence (client-server.md "Presence"): a user's online / unavailable / offline state and status
// message, stored on the event stream and delivered by /sync to everyone who shares a room with them.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "core/task.h"

namespace herald {
class Clock;
}
namespace herald::storage {
class Database;
struct StoredPresence;
}  // namespace herald::storage

namespace herald::homeserver {

class Notifier;
class StreamCounter;

class PresenceService {
 public:
  PresenceService(storage::Database& db, StreamCounter& stream, Notifier& notifier, const Clock& clock)
      : db_(db), stream_(stream), notifier_(notifier), clock_(clock) {}

  // state: "online", "unavailable" or "offline" (else 400 M_INVALID_PARAM).
  Task<void> set(UserId user, std::string state, std::optional<std::string> status_msg);
  // The target's presence content as `observer` may see it: themselves, or someone sharing a room with
  // them (else 403 M_FORBIDDEN). A user who never set one is offline.
  Task<nlohmann::json> get(UserId observer, UserId target);

 private:
  storage::Database& db_;
  StreamCounter& stream_;
  Notifier& notifier_;
  const Clock& clock_;
};

// The content of an m.presence event (or of GET /presence/{userId}/status).
nlohmann::json presence_content(const storage::StoredPresence& p, std::int64_t now_ms);
// The m.presence event /sync delivers.
nlohmann::json presence_event(const storage::StoredPresence& p, std::int64_t now_ms);

}  // namespace herald::homeserver
