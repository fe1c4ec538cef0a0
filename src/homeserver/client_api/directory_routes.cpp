// Room aliases (/directory/room/{alias}) and the public room directory (/publicRooms).
#include <nlohmann/json.hpp>

#include "core/json_body.h"
#include "core/matrix_error.h"
#include "homeserver/client_api/client_api.h"
#include "homeserver/client_api/path_params.h"
#include "homeserver/client_api/request_auth.h"
#include "homeserver/membership/remote_queries.h"
#include "homeserver/rooms/room_reader.h"
#include "homeserver/rooms/room_service.h"

namespace herald::homeserver {
namespace {

std::string alias_param(const http::Request& req) {
  const std::string& alias = req.path_param("roomAlias");
  if (!is_room_alias(alias)) throw MatrixError(Errc::invalid_param, "Invalid room alias: " + alias);
  return alias;
}

Task<http::Response> get_alias(http::Request req, ClientApi& api) {
  const std::string alias = alias_param(req);
  if (alias.substr(alias.find(':') + 1) != api.options.server_name) {
    auto remote = co_await api.remote_queries.resolve_alias(alias);
    if (!remote) throw MatrixError(Errc::not_found, "Room alias " + alias + " not found");
    co_return http::Response::json(200, {{"room_id", remote->room_id.str()}, {"servers", remote->servers}});
  }
  auto room_id = co_await api.rooms.resolve_alias(alias);
  if (!room_id) throw MatrixError(Errc::not_found, "Room alias " + alias + " not found");
  co_return http::Response::json(200, {{"room_id", *room_id}, {"servers", {api.options.server_name}}});
}

Task<http::Response> put_alias(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const std::string alias = alias_param(req);
  const nlohmann::json body = json_body::parse_object(req.body);
  const std::string room_id = json_body::required_string(body, "room_id");
  if (alias.substr(alias.find(':') + 1) != api.options.server_name) {
    throw MatrixError(Errc::invalid_param, "Room alias must be on this server (" + api.options.server_name + ")");
  }
  co_await api.rooms.create_alias(s.user_id, alias, room_id);
  co_return http::Response::json(200, nlohmann::json::object());
}

Task<http::Response> delete_alias(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  co_await api.rooms.delete_alias(s.user_id, alias_param(req));
  co_return http::Response::json(200, nlohmann::json::object());
}

Task<http::Response> get_room_aliases(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const RoomId room_id = room_id_param(req);
  auto room = co_await api.rooms.require_room(room_id);
  if (room->membership_of(s.user_id.str()) != rooms::Membership::join) throw MatrixError(Errc::forbidden, "You are not in this room");
  auto aliases = co_await api.room_reader.aliases(room_id);
  co_return http::Response::json(200, {{"aliases", aliases}});
}

Task<http::Response> public_rooms(http::Request req, ClientApi& api) {
  std::int64_t limit = 100, offset = 0;
  if (req.method == http::Method::post) {
    const nlohmann::json body = json_body::parse_object_or_empty(req.body);
    limit = json_body::optional_int(body, "limit").value_or(100);
    if (auto since = json_body::optional_string(body, "since")) offset = std::atoll(since->c_str());
  } else {
    if (auto l = req.query_param("limit")) limit = std::atoll(l->c_str());
    if (auto since = req.query_param("since")) offset = std::atoll(since->c_str());
  }
  limit = std::clamp<std::int64_t>(limit, 1, 500);
  offset = std::max<std::int64_t>(offset, 0);
  auto [rooms, total] = co_await api.room_reader.public_rooms(limit, offset);
  nlohmann::json chunk = nlohmann::json::array();
  for (const auto& stored : rooms) {
    const auto room_id = RoomId::parse(stored.room_id);
    if (!room_id) continue;
    auto room = co_await api.rooms.find_room(*room_id);
    if (!room) continue;
    const RoomSummary summary = room->summary();
    nlohmann::json entry = {{"room_id", stored.room_id},
                            {"num_joined_members", summary.joined},
                            {"world_readable", false},
                            {"guest_can_join", false},
                            {"join_rule", summary.join_rule}};
    if (summary.name) entry["name"] = summary.name->content().value("name", "");
    if (summary.topic) entry["topic"] = summary.topic->content().value("topic", "");
    if (summary.canonical_alias)
      if (auto a = summary.canonical_alias->content_string("alias")) entry["canonical_alias"] = *a;
    if (summary.avatar)
      if (auto a = summary.avatar->content_string("url")) entry["avatar_url"] = *a;
    chunk.push_back(entry);
  }
  nlohmann::json out = {{"chunk", chunk}, {"total_room_count_estimate", total}};
  if (offset + limit < total) out["next_batch"] = std::to_string(offset + limit);
  if (offset > 0) out["prev_batch"] = std::to_string(std::max<std::int64_t>(0, offset - limit));
  co_return http::Response::json(200, out);
}

}  // namespace

void add_directory_routes(http::Router& router, ClientApi& api) {
  using http::Method;
  add_under(router, kClientPrefixesWithV1, Method::get, "/directory/room/{roomAlias}", get_alias, api);
  add_under(router, kClientPrefixesWithV1, Method::put, "/directory/room/{roomAlias}", put_alias, api);
  add_under(router, kClientPrefixesWithV1, Method::delete_, "/directory/room/{roomAlias}", delete_alias, api);
  add_under(router, kClientPrefixes, Method::get, "/rooms/{roomId}/aliases", get_room_aliases, api);
  add_under(router, kClientPrefixesWithV1, Method::get, "/publicRooms", public_rooms, api);
  add_under(router, kClientPrefixes, Method::post, "/publicRooms", public_rooms, api);
}

}  // namespace herald::homeserver
