#pragma once
// Knocking on a room this server is not in, through a resident server (federation.md §10): GET
// make_knock naming every room version this server supports that has knocking (v7+; a resident whose
// room is older answers 400 M_INCOMPATIBLE_ROOM_VERSION), the template checked and filled in
// (membership_from_template: this server's member content and signature), PUT send_knock, and the knock
// kept with the answer's knock_room_state (RemoteKnocks). The servers are tried in order until one takes
// the knock; refusals and failures are reported as FederationJoiner reports them.
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "homeserver/rooms/remote_knocker.h"

namespace herald {
class Clock;
namespace crypto {
class SigningKey;
}
namespace federation {
class FederationClient;
}
}  // namespace herald

namespace herald::homeserver {

class RemoteKnocks;

namespace outbound_knock {

// "?ver=7&ver=8..." for make_knock: the supported room versions that have knocking.
std::string version_query();

struct Template {
  std::string room_version;
  nlohmann::json event;
};
// The make_knock answer {room_version, event}, checked: a room version this server supports that has
// knocking, and a knock template of `user` in `room_id` (check_membership_template). Throws
// std::runtime_error (InvalidTemplate for the event) saying what is wrong.
Template check_template(const nlohmann::json& answer, const std::string& room_id, const std::string& user);

// The send_knock answer's knock_room_state (knock_state_events from servers that predate its name);
// an empty list when it has neither. Throws std::runtime_error when the answer is not an object.
nlohmann::json knock_room_state(const nlohmann::json& answer);

}  // namespace outbound_knock

class FederationKnocker final : public RemoteKnocker {
 public:
  FederationKnocker(federation::FederationClient& client, RemoteKnocks& knocks, const crypto::SigningKey& key,
                    std::string server_name, const Clock& clock)
      : client_(client), knocks_(knocks), key_(key), server_name_(std::move(server_name)), clock_(clock) {}

  Task<std::string> knock(RemoteKnock knock) override;

 private:
  // One resident server, all the way; throws FederationError / std::runtime_error / MatrixError.
  Task<std::string> knock_through(const std::string& server, const RemoteKnock& knock);

  federation::FederationClient& client_;
  RemoteKnocks& knocks_;
  const crypto::SigningKey& key_;
  std::string server_name_;
  const Clock& clock_;
};

}  // namespace herald::homeserver
