#pragma once
// Joining a room this server is not in, through a resident server (federation.md §7): GET make_join with
// every room version this server supports, the template checked and filled in (this server's member
// content, its signature), PUT send_join v2 (v1 when the server lacks it), the signing keys of the
// answer fetched, the room state and auth chain checked off the io thread, and the room entered through
// RoomService::join_from_snapshot. The servers are tried in order until one lets the user in.
#include <chrono>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "homeserver/rooms/remote_joiner.h"

namespace herald {
class Clock;
class WorkerPool;
namespace crypto {
class SigningKey;
}
namespace events {
struct RoomVersion;
}
namespace federation {
class FederationClient;
class RemoteKeyStore;
}  // namespace federation
}  // namespace herald

namespace herald::homeserver {

class RoomService;

namespace outbound_join {

struct Template {
  std::string room_version;
  nlohmann::json event;
};
// The make_join answer {room_version, event}, checked: a room version this server supports ("1" when
// the answer names none) and a join template of `user` in `room_id` (check_membership_template).
// Throws std::runtime_error (InvalidTemplate for the event) saying what is wrong.
Template check_template(const nlohmann::json& answer, const std::string& room_id, const std::string& user);

struct JoinAnswer {
  nlohmann::json state = nlohmann::json::array();
  nlohmann::json auth_chain = nlohmann::json::array();
  nlohmann::json event;  // the resident's copy of the join (co-signed for a restricted room), or null
};
// The send_join answer: v2 is the object; v1 is [200, object]. Throws std::runtime_error when it is
// neither or lacks state and auth_chain lists.
JoinAnswer parse_join_answer(const nlohmann::json& answer, bool v1);

// The join as the resident answered it, when that is the event sent with more signatures (a restricted
// room's authorising server); else the event sent.
nlohmann::json with_resident_signatures(const nlohmann::json& sent, const nlohmann::json& answered);

}  // namespace outbound_join

class FederationJoiner final : public RemoteJoiner {
 public:
  FederationJoiner(federation::FederationClient& client, federation::RemoteKeyStore& keys, RoomService& rooms,
                   WorkerPool& workers, const crypto::SigningKey& key, std::string server_name, const Clock& clock);

  Task<std::string> join(RemoteJoin join) override;

 private:
  // One resident server, all the way; throws FederationError / std::runtime_error / MatrixError.
  Task<std::string> join_through(const std::string& server, const RemoteJoin& join);
  // The keys the answer's signatures need that the ring lacks, fetched (each server once).
  Task<void> fetch_keys(const events::RoomVersion& version, const outbound_join::JoinAnswer& answer);

  federation::FederationClient& client_;
  federation::RemoteKeyStore& keys_;
  RoomService& rooms_;
  WorkerPool& workers_;
  const crypto::SigningKey& key_;
  std::string server_name_;
  const Clock& clock_;
};

}  // namespace herald::homeserver
