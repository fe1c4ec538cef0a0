#pragma once
// Invites from other servers (federation.md §9, the receiving half): the checks PUT
// /_matrix/federation/v{1,2}/invite makes on the invite event, the countersignature this server adds, and
// the invite kept as an outlier with the invitee's membership row saying "invite", so that /sync shows
// it (with the stripped state the inviting server sent) and the invitee can reject it here.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "core/task.h"

namespace herald {
class Clock;
namespace crypto {
class SigningKey;
}
namespace events {
class Event;
using EventPtr = std::shared_ptr<const Event>;
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
class RejectionSender;
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

// The servers to send the rejection of `invite` (as kept: unsigned.invite_room_state with it) through,
// in order: the inviter's, then those of the senders of the stripped state, then the room ID's (before
// v12); each once, never `own_server`. For a kept knock (unsigned.knock_room_state) the sender is the
// local knocker, so the stripped state's senders come first.
std::vector<std::string> rejection_servers(const nlohmann::json& invite, const std::string& room_id,
                                           const std::string& own_server);

// The leave with which `user` turns down `kept` (an invite or knock kept outside a room this server is
// not in, with unsigned.room_version), made and signed here "out of band": it follows the invite (its
// prev and auth event), is shown in the user's /sync and is never sent anywhere (the room gets the leave
// made through make_leave). Nothing when the kept event cannot be read.
events::EventPtr out_of_band_leave(const nlohmann::json& kept, const std::string& kept_id, const std::string& room_id,
                                   const std::string& user, const std::optional<std::string>& reason, std::int64_t now_ms,
                                   const std::string& server_name, const crypto::SigningKey& key);

// The invitee (a user of `server_name`) and membership ("leave" or "ban") of a member event that could
// take an invite back: a leave or ban sent by a user of `origin`. Nothing for any other event.
std::optional<std::pair<std::string, std::string>> withdrawal_of(const nlohmann::json& pdu, const std::string& origin,
                                                                  const std::string& server_name);

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

  // The invitee rejects an invite to a room this server is not in, or a knocker withdraws a knock on one
  // (RemoteKnocks): the membership row says leave (the invite or knock disappears from /sync at once,
  // whatever the room's servers do), and in the same transaction
  // the leave is kept for the RejectionSender, which sends it to the room through make_leave/send_leave
  // (after this returns, retrying while no server can be reached). False when the user has no such
  // invite or knock (the caller goes on with a normal leave). `reason` goes into the leave's content.
  Task<bool> reject_locally(UserId user, RoomId room, std::optional<std::string> reason = std::nullopt);

  // A member event from `origin` that takes back an invite to a room this server is not in: the invitee
  // kicked (leave) or banned by the inviter or a moderator, sent here because the invitee is ours. Taken
  // when the invitee's membership is still an invite, `origin` is one of the servers the invite names
  // (remote_invites::rejection_servers), the sender is a user of `origin` and `origin` signed the event
  // (with a key `keys` has): the event is kept as an outlier and the membership row says leave or ban, so
  // the invite leaves the invitee's /sync. False (nothing stored) otherwise.
  Task<bool> withdraw(std::string origin, std::string room_id, nlohmann::json pdu, const federation::ServerKeyRing& keys);

  // Who sends the kept leaves; without one (tests, tools) they wait for the next start with one.
  void set_rejections(RejectionSender* rejections) { rejections_ = rejections; }

  // The server of whoever invited `user` to `room` over federation (an invite kept outside the room),
  // when the user's membership there is that invite: the first server to join the room through.
  Task<std::optional<std::string>> inviting_server(UserId user, RoomId room);

 private:
  storage::Database& db_;
  StreamCounter& stream_;
  Notifier& notifier_;
  const crypto::SigningKey& key_;
  std::string server_name_;
  const Clock& clock_;
  RejectionSender* rejections_ = nullptr;
};

}  // namespace herald::homeserver
