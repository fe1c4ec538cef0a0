#pragma once
// GET /_matrix/federation/v1/query/profile and /query/directory on another server (federation.md §12):
// what /profile/{remote user} and /directory/room/{#alias:remote} answer with, and where a join by a
// remote alias goes. The answers are untrusted: checked here before anything reaches a client.
#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "homeserver/membership/remote_queries.h"

namespace herald::federation {
class FederationClient;
}

namespace herald::homeserver {

namespace federation_queries {
// The profile in a 200 answer: an object (else std::runtime_error) without a displayname or avatar_url
// that is not a string (null means unset: dropped too). With `field`, that field must be there, else
// nullopt (the server has the user but not the field).
std::optional<nlohmann::json> profile_from_answer(const nlohmann::json& answer, const std::optional<std::string>& field);
// The target of `alias` in a 200 answer: room_id must be a room ID (else std::runtime_error); servers
// keeps the valid server names in order, without duplicates, at most kMaxServers; none left: the alias's
// server.
ResolvedAlias alias_from_answer(const nlohmann::json& answer, const std::string& alias_server);
inline constexpr std::size_t kMaxServers = 50;
}  // namespace federation_queries

class FederationQueries final : public RemoteQueries {
 public:
  explicit FederationQueries(federation::FederationClient& client,
                             std::chrono::milliseconds timeout = std::chrono::seconds(30))
      : client_(client), timeout_(timeout) {}

  Task<std::optional<nlohmann::json>> profile(UserId user, std::optional<std::string> field) override;
  Task<std::optional<ResolvedAlias>> resolve_alias(std::string alias) override;

 private:
  // The 200 answer's JSON to `uri` on `server`, or nullopt for a 404; throws MatrixError otherwise
  // (`what` names the query in messages).
  Task<std::optional<nlohmann::json>> query(std::string server, std::string uri, std::string what);

  federation::FederationClient& client_;
  std::chrono::milliseconds timeout_;
};

}  // namespace herald::homeserver
