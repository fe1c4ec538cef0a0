#include "homeserver/federation/federation_queries.h"

#include <algorithm>
#include <stdexcept>

#include "core/log.h"
#include "core/matrix_error.h"
#include "core/strings.h"
#include "federation/federation_client.h"
#include "http/client.h"

namespace herald::homeserver {

namespace federation_queries {

std::optional<nlohmann::json> profile_from_answer(const nlohmann::json& answer, const std::optional<std::string>& field) {
  if (!answer.is_object()) throw std::runtime_error("the profile is not a JSON object");
  nlohmann::json out = answer;
  for (const char* key : {"displayname", "avatar_url"}) {
    const auto it = out.find(key);
    if (it != out.end() && !it->is_string()) out.erase(it);
  }
  if (field) {
    const auto it = out.find(*field);
    if (it == out.end() || it->is_null()) return std::nullopt;
    return nlohmann::json{{*field, *it}};
  }
  return out;
}

ResolvedAlias alias_from_answer(const nlohmann::json& answer, const std::string& alias_server) {
  if (!answer.is_object()) throw std::runtime_error("the answer is not a JSON object");
  const auto room = answer.find("room_id");
  if (room == answer.end() || !room->is_string()) throw std::runtime_error("the answer has no room_id");
  auto room_id = RoomId::parse(room->get<std::string>());
  if (!room_id) throw std::runtime_error("the answer's room_id is not a room ID");
  std::vector<std::string> servers;
  if (const auto listed = answer.find("servers"); listed != answer.end() && listed->is_array()) {
    for (const auto& s : *listed) {
      if (servers.size() == kMaxServers) break;
      if (!s.is_string()) continue;
      std::string name = s.get<std::string>();
      if (!is_valid_server_name(name) || std::find(servers.begin(), servers.end(), name) != servers.end()) continue;
      servers.push_back(std::move(name));
    }
  }
  if (servers.empty()) servers.push_back(alias_server);
  return ResolvedAlias{std::move(*room_id), std::move(servers)};
}

}  // namespace federation_queries

Task<std::optional<nlohmann::json>> FederationQueries::query(std::string server, std::string uri, std::string what) {
  federation::FederationRequest request;
  request.method = http::Method::get;
  request.destination = server;
  request.uri = std::move(uri);
  request.timeout = timeout_;
  request.response_limit = 64 * 1024;  // a profile or an alias; nothing bigger is an answer
  http::ClientResponse res;
  try {
    res = co_await client_.send(std::move(request));
  } catch (const federation::FederationError& e) {
    const std::string reason = e.what();
    const bool timed_out = reason.find("timed out") != std::string::npos || reason.find("timeout") != std::string::npos;
    log::warn("{} query not answered destination={}: {}", what, server, reason);
    throw MatrixError(Errc::unknown, "Could not reach " + server + " to ask for the " + what, timed_out ? 504 : 502);
  }
  if (res.status == 404) co_return std::nullopt;
  if (res.status == 403) throw MatrixError(Errc::forbidden, server + " refused to give the " + what);
  if (res.status < 200 || res.status >= 300) {
    log::info("{} query failed destination={} status={}", what, server, res.status);
    throw MatrixError(Errc::unknown, server + " failed to give the " + what + " (HTTP " + std::to_string(res.status) + ")", 502);
  }
  nlohmann::json body = nlohmann::json::parse(res.body, nullptr, false);
  if (body.is_discarded()) throw MatrixError(Errc::unknown, server + " answered the " + what + " query with something that is not JSON", 502);
  co_return body;
}

Task<std::optional<nlohmann::json>> FederationQueries::profile(UserId user, std::optional<std::string> field) {
  const std::string server(user.server_name());
  std::string uri = "/_matrix/federation/v1/query/profile?user_id=" + strings::percent_encode(user.str());
  if (field) uri += "&field=" + strings::percent_encode(*field);
  std::optional<nlohmann::json> answer = co_await query(server, std::move(uri), "profile");
  if (!answer) co_return std::nullopt;
  try {
    co_return federation_queries::profile_from_answer(*answer, field);
  } catch (const std::runtime_error& e) {
    throw MatrixError(Errc::unknown, server + " answered with an unusable profile: " + e.what(), 502);
  }
}

Task<std::optional<ResolvedAlias>> FederationQueries::resolve_alias(std::string alias) {
  if (!is_room_alias(alias)) throw MatrixError(Errc::invalid_param, "Invalid room alias: " + alias);
  const std::string server = alias.substr(alias.find(':') + 1);
  std::string uri = "/_matrix/federation/v1/query/directory?room_alias=" + strings::percent_encode(alias);
  std::optional<nlohmann::json> answer = co_await query(server, std::move(uri), "room alias");
  if (!answer) co_return std::nullopt;
  try {
    co_return federation_queries::alias_from_answer(*answer, server);
  } catch (const std::runtime_error& e) {
    throw MatrixError(Errc::unknown, server + " answered the alias query unusably: " + e.what(), 502);
  }
}

}  // namespace herald::homeserver
