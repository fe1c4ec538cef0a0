#pragma once
// Invites from other servers (federation.md §9, the receiving half): the checks PUT
// /_matrix/federation/v{1,2}/invite makes on the invite event, the countersignature this server adds, and
// the invite kept as an outlier with the invitee's membership row saying "invite", so that /sync shows
// it (with the stripped state the inviting server sent) and the invitee can reject it here.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "core/task.h"

namespace herald {
class Clock;
namespace crypto {
class SigningKey;
}
namespace events {
struct RoomVersion;
}
namespace federation {
class ServerKeyRing;
}
namespace storage {
class Database;
}
}  // namespace herald

namespace herald::homeserver {

class Notifier;
class StreamCounter;

namespace remote_invites {

// The checks on the invite PDU of PUT /invite from `origin` (400 M_BAD_JSON / M_INVALID_PARAM, 403
// M_FORBIDDEN): an object for `room_id` of type m.room.member with membership "invite", whose state key
// is a user of `server_name`, whose sender is a user of `origin`, with the event ID `event_id` (v1-2:
// its event_id field; else its reference hash). Returns the invitee.
std::string check_invite_event(const nlohmann::json& pdu, const events::RoomVersion& version, const std::string& room_id,
                               const std::string& event_id, const std::string& origin, const std::string& server_name);

// 401 M_UNAUTHORIZED unless the sender's server signed the (redacted) event with a key `keys` knows.
void require_sender_signature(const nlohmann::json& pdu, const events::RoomVersion& version,
                              const federation::ServerKeyRing& keys);

// The event with this server's signature added (over its redacted form) and `unsigned` removed.
nlohmann::json countersign(const nlohmann::json& pdu, const events::RoomVersion& version, const std::string& server_name,
                           const crypto::SigningKey& key);

// The stripped form {type, state_key, sender, content} of each object of `invite_room_state` (full PDUs
// or already stripped; other entries are skipped).
nlohmann::json stripped(const nlohmann::json& invite_room_state);

}  // namespace remote_invites

class RemoteInvites {
 public:
  RemoteInvites(storage::Database& db, StreamCounter& stream, Notifier& notifier, const crypto::SigningKey& key,
                std::string server_name, const Clock& clock);

  // An invite that passed the checks, countersigned: kept as an outlier (with unsigned.invite_room_state
  // and unsigned.room_version); when this server is not in the room, the invitee's membership row says
  // invite (a room this server is in gets the invite through /send as well). 403 M_INVITE_BLOCKED when
  // the invitee blocks invites. Returns the event to answer with.
  Task<nlohmann::json> accept(std::string invitee, std::string room_id, std::string event_id,
                              const events::RoomVersion& version, nlohmann::json pdu, nlohmann::json invite_room_state);

  // The invitee rejects an invite to a room this server is not in: the membership row says leave (the
  // invite disappears from /sync). False when the user has no such invite (the caller goes on with a
  // normal leave).
  // TODO(fed-invite): send the rejection to the inviting server through make_leave/send_leave (the
  // outbound membership helper); until then the reject is local only.
  Task<bool> reject_locally(UserId user, RoomId room);

 private:
  storage::Database& db_;
  StreamCounter& stream_;
  Notifier& notifier_;
  const crypto::SigningKey& key_;
  std::string server_name_;
  const Clock& clock_;
};

}  // namespace herald::homeserver
