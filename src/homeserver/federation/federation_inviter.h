#pragma once
// PUT /_matrix/federation/v2/invite to the invitee's server (federation.md §9), with the v1 fallback for
// room versions 1-2 after a 400/404; the answer must be the same event signed by that server (its keys
// through the remote key store).
#include <chrono>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "homeserver/rooms/remote_inviter.h"

namespace herald::events {
struct RoomVersion;
}
namespace herald::federation {
class FederationClient;
class RemoteKeyStore;
}  // namespace herald::federation

namespace herald::homeserver {

namespace outbound_invite {
// The `event` a remote server answered an invite with, checked against the one sent: the same event
// apart from signatures and unsigned (so the same event ID), signed by `server` with one of `keys` (key
// ID -> raw 32-byte public key) over its redacted form. Returns the sent PDU with `server`'s signatures
// added. Throws std::runtime_error saying what is wrong.
nlohmann::json countersigned(const events::RoomVersion& version, const nlohmann::json& sent, const nlohmann::json& answer,
                             const std::string& server, const std::map<std::string, std::string>& keys);
// The v1 body: the PDU with unsigned.invite_room_state.
nlohmann::json v1_body(const nlohmann::json& pdu, const nlohmann::json& invite_room_state);
}  // namespace outbound_invite

class FederationInviter final : public RemoteInviter {
 public:
  FederationInviter(federation::FederationClient& client, federation::RemoteKeyStore& keys,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30))
      : client_(client), keys_(keys), timeout_(timeout) {}

  Task<nlohmann::json> send_invite(RemoteInvite invite) override;

 private:
  federation::FederationClient& client_;
  federation::RemoteKeyStore& keys_;
  std::chrono::milliseconds timeout_;
};

}  // namespace herald::homeserver
