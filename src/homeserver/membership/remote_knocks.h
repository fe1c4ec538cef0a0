#pragma once
// Knocks of local users on rooms this server is not in (federation.md §10, the knocking half): once a
// resident server took the knock through send_knock, it is kept here as invites from other servers are
// (RemoteInvites): the event as an outlier, with the stripped state the resident answered with in
// unsigned.knock_room_state, and the knocker's membership row saying "knock", so that /sync shows the
// room under rooms.knock. An invite that comes later replaces the row; a leave withdraws the knock
// through RemoteInvites::reject_locally, as it rejects an invite.
#include <string>

#include <nlohmann/json.hpp>

#include "core/task.h"

namespace herald {
class Clock;
namespace events {
struct RoomVersion;
}
namespace storage {
class Database;
}
}  // namespace herald

namespace herald::homeserver {

class Notifier;
class StreamCounter;

namespace remote_knocks {

// The knock as kept: `pdu` (this server's signed event) with `unsigned` replaced by
// {knock_room_state: the answer's entries stripped to {type, state_key, sender, content}, room_version}.
nlohmann::json kept_form(const nlohmann::json& pdu, const events::RoomVersion& version,
                         const nlohmann::json& knock_room_state);

}  // namespace remote_knocks

class RemoteKnocks {
 public:
  RemoteKnocks(storage::Database& db, StreamCounter& stream, Notifier& notifier, const Clock& clock)
      : db_(db), stream_(stream), notifier_(notifier), clock_(clock) {}

  // Keeps the knock `event_id` of `knocker` (kept_form) and, unless the user is joined or banned there
  // (a room this server is in takes the knock through /send instead), sets the membership row to it.
  Task<void> keep(std::string knocker, std::string room_id, std::string event_id, nlohmann::json kept);

 private:
  storage::Database& db_;
  StreamCounter& stream_;
  Notifier& notifier_;
  const Clock& clock_;
};

}  // namespace herald::homeserver
