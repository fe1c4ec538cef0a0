// GET /_matrix/federation/v1/query/directory and /query/profile (federation.md §12): this server's room
// aliases and its users' profiles, for other servers.
#include <nlohmann/json.hpp>

#include "core/matrix_error.h"
#include "homeserver/accounts/account_service.h"
#include "homeserver/client_api/path_params.h"
#include "homeserver/federation_api/federation_api.h"
#include "homeserver/rooms/federation_room_reader.h"
#include "homeserver/rooms/room_service.h"

namespace herald::homeserver {
namespace {

std::string server_part(const std::string& id) {
  const auto colon = id.find(':');
  return colon == std::string::npos ? std::string() : id.substr(colon + 1);
}

Task<http::Response> get_directory(http::Request req, FederationApi& api, std::string) {
  const auto alias = req.query_param("room_alias");
  if (!alias || alias->empty()) throw MatrixError(Errc::missing_param, "Missing query parameter: room_alias");
  if (alias->front() != '#' || server_part(*alias).empty()) throw MatrixError(Errc::invalid_param, "Invalid room alias");
  if (server_part(*alias) != api.server_name) throw MatrixError(Errc::invalid_param, "Room alias is not on this server");
  std::string alias_text = *alias;
  const auto room_id = co_await api.rooms.resolve_alias(std::move(alias_text));
  std::optional<RoomId> room;
  if (room_id)
    if (auto parsed = RoomId::parse(*room_id)) room = std::move(*parsed);
  if (!room) throw MatrixError(Errc::not_found, "Room alias " + *alias + " not found");
  std::vector<std::string> servers = co_await api.reader.joined_servers(*room);
  if (servers.empty()) servers.push_back(api.server_name);
  nlohmann::json body = {{"room_id", room->str()}, {"servers", std::move(servers)}};
  co_return http::Response::json(200, body);
}

Task<http::Response> get_profile(http::Request req, FederationApi& api, std::string) {
  const auto user_text = req.query_param("user_id");
  if (!user_text) throw MatrixError(Errc::missing_param, "Missing query parameter: user_id");
  const UserId user = parse_user_id(*user_text, "user_id");
  if (user.server_name() != api.server_name) throw MatrixError(Errc::invalid_param, "The user is not on this server");
  const auto field = req.query_param("field");
  // Any field name may be asked for (m.tz, custom fields); this server keeps only these two.
  if (field && *field != "displayname" && *field != "avatar_url") throw MatrixError(Errc::not_found, "The user has no " + *field);
  const auto profile = co_await api.accounts.profile(user);
  if (!profile) throw MatrixError(Errc::not_found, "Profile was not found");
  nlohmann::json body = nlohmann::json::object();
  if (profile->displayname && (!field || *field == "displayname")) body["displayname"] = *profile->displayname;
  if (profile->avatar_url && (!field || *field == "avatar_url")) body["avatar_url"] = *profile->avatar_url;
  if (field && body.empty()) throw MatrixError(Errc::not_found, "The user has no " + *field);
  co_return http::Response::json(200, body);
}

}  // namespace

void add_federation_query_routes(http::Router& router, FederationApi& api) {
  router.add(http::Method::get, "/_matrix/federation/v1/query/directory", bind_federation(get_directory, api));
  router.add(http::Method::get, "/_matrix/federation/v1/query/profile", bind_federation(get_profile, api));
}

}  // namespace herald::homeserver
