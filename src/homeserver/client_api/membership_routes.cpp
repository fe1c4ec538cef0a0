// invite, join (by ID and by alias), leave, forget, kick, ban, unban, knock — on v3, r0 and api/v1.
#include <nlohmann/json.hpp>

#include "core/json_body.h"
#include "core/matrix_error.h"
#include "core/rate_limiter.h"
#include "homeserver/accounts/account_service.h"
#include "homeserver/client_api/client_api.h"
#include "homeserver/client_api/path_params.h"
#include "homeserver/client_api/request_auth.h"
#include "homeserver/membership/remote_invites.h"
#include "homeserver/membership/remote_queries.h"
#include "homeserver/membership/third_party_invites.h"
#include "homeserver/rooms/remote_joiner.h"
#include "homeserver/rooms/remote_knocker.h"
#include "homeserver/rooms/room_service.h"
#include "rooms/membership.h"

namespace herald::homeserver {
namespace {
constexpr std::size_t kMaxReasonBytes = 2048;

std::optional<std::string> reason_of(const nlohmann::json& body) {
  auto reason = json_body::optional_string(body, "reason");
  if (reason && reason->size() > kMaxReasonBytes) throw MatrixError(Errc::invalid_param, "'reason' is too long");
  return reason;
}

Task<http::Response> post_invite(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const RoomId room_id = room_id_param(req);
  const nlohmann::json body = json_body::parse_object(req.body);
  if (!body.contains("user_id") && (body.contains("medium") || body.contains("address") || body.contains("id_server") ||
                                    body.contains("identity_server"))) {
    ThreepidInvite invite = ThirdPartyInvites::parse(body);
    api.third_party.target_of(invite.id_server);
    api.limiter.take_all_or_throw({{RateAction::invites_per_room, room_id.str()},
                                   {RateAction::invites_per_issuer, s.user_id.str()},
                                   {RateAction::third_party_invite, s.user_id.str()}});
    co_await api.third_party.invite(s.user_id, room_id, std::move(invite));
    co_return http::Response::json(200, nlohmann::json::object());
  }
  // Neither form (e.g. {}), or a user_id that is not a string: the body is malformed, 400 M_BAD_JSON as
  // the spec's 400 for /invite says (not M_MISSING_PARAM).
  const auto user_id = body.find("user_id");
  if (user_id == body.end() || !user_id->is_string()) {
    throw MatrixError(Errc::bad_json, "The body needs 'user_id' (a string), or 'id_server', 'medium' and 'address' "
                                      "for a third-party invite");
  }
  const UserId target = parse_user_id(user_id->get<std::string>(), "user_id");
  const std::optional<std::string> reason = reason_of(body);
  api.limiter.take_all_or_throw({{RateAction::invites_per_room, room_id.str()},
                                 {RateAction::invites_per_issuer, s.user_id.str()},
                                 {RateAction::invites_per_user, target.str()}});
  co_await api.rooms.set_membership(s.user_id, room_id, target, rooms::Membership::invite, reason, nlohmann::json::object());
  co_return http::Response::json(200, nlohmann::json::object());
}

// The servers that may let a user into a room this server is not in: those the client named (via,
// server_name), the server of whoever invited the user, the server in the room ID (before v12), and for a
// room this server was in before, the servers its members were joined from when it left.
Task<std::vector<std::string>> servers_to_join_through(ClientApi& api, const Session& s, const RoomId& room_id,
                                                       const std::shared_ptr<Room>& room, std::vector<std::string> named) {
  std::vector<std::string> servers = std::move(named);
  if (auto inviter = co_await api.remote_invites.inviting_server(s.user_id, room_id)) servers.push_back(*inviter);
  if (room) {
    if (auto own = room->state_event("m.room.member", s.user_id.str()); own && own->membership() == "invite") {
      if (auto sender = UserId::parse(own->sender())) servers.emplace_back(sender->server_name());
    }
  }
  const std::string& id = room_id.str();
  if (auto colon = id.find(':'); colon != std::string::npos) servers.push_back(id.substr(colon + 1));
  if (room) {
    for (auto& server : room->joined_server_names()) servers.push_back(std::move(server));
  }
  co_return servers;
}

// The member content a local join or knock would carry, for one sent through another server.
Task<nlohmann::json> remote_member_content(const Session& s, const std::optional<std::string>& reason,
                                           nlohmann::json extra, ClientApi& api) {
  nlohmann::json content = std::move(extra);
  if (const std::optional<Profile> profile = co_await api.accounts.profile(s.user_id)) {
    if (profile->displayname) content["displayname"] = *profile->displayname;
    if (profile->avatar_url) content["avatar_url"] = *profile->avatar_url;
  }
  if (reason) content["reason"] = *reason;
  co_return content;
}

// A join of a room this server is not in goes through another server (RemoteJoiner), with the member
// content a local join would carry.
Task<void> join_remotely(const Session& s, const RoomId& room_id, std::vector<std::string> servers,
                         std::optional<std::string> reason, nlohmann::json extra, ClientApi& api) {
  nlohmann::json content = co_await remote_member_content(s, reason, std::move(extra), api);
  RemoteJoin join{s.user_id, room_id, std::move(servers), std::move(content)};
  co_await api.remote_joiner->join(std::move(join));
}

Task<http::Response> join_room(const Session& s, RoomId room_id, const nlohmann::json& body, ClientApi& api,
                               std::vector<std::string> via = {}) {
  const std::optional<std::string> reason = reason_of(body);
  api.limiter.take_all_or_throw({{RateAction::join, s.user_id.str()}, {RateAction::joins_per_room, room_id.str()}});
  if (const nlohmann::json* signed_block = json_body::optional_object(body, "third_party_signed")) {
    // The emailed-link path: the identity server signed {mxid, sender, token} with the invite's ephemeral
    // key; the invite it stands for is made first, then the join.
    const UserId sender = parse_user_id(json_body::required_string(*signed_block, "sender"), "third_party_signed.sender");
    const std::shared_ptr<Room> room = co_await api.rooms.find_room(room_id);
    const rooms::Membership current = room ? room->membership_of(s.user_id.str()) : rooms::Membership::leave;
    if (current != rooms::Membership::invite && current != rooms::Membership::join) {  // already invited or joined: the block is not needed
      nlohmann::json signed_copy = *signed_block;
      co_await api.third_party.exchange(sender, s.user_id, room_id, std::move(signed_copy));
    }
  }
  // Other keys of the body go into the member event, as Synapse does; these keep their own meaning.
  nlohmann::json extra = body;
  for (const char* k : {"reason", "third_party_signed", "membership", "join_authorised_via_users_server"}) extra.erase(k);
  const std::shared_ptr<Room> room = co_await api.rooms.find_room(room_id);
  if (api.remote_joiner && !(room && room->server_joined(api.options.server_name))) {
    std::vector<std::string> servers = co_await servers_to_join_through(api, s, room_id, room, std::move(via));
    if (!servers.empty()) {
      co_await join_remotely(s, room_id, std::move(servers), reason, std::move(extra), api);
      co_return http::Response::json(200, {{"room_id", room_id.str()}});
    }
  }
  co_await api.rooms.set_membership(s.user_id, room_id, s.user_id, rooms::Membership::join, reason, std::move(extra));
  co_return http::Response::json(200, {{"room_id", room_id.str()}});
}

Task<http::Response> post_join_by_id(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const RoomId room_id = room_id_param(req);
  const nlohmann::json body = json_body::parse_object_or_empty(req.body);
  co_return co_await join_room(s, room_id, body, api);
}

// A room ID, or an alias resolved through the directory (404 when unknown): this server's, or another
// server's asked with /query/directory, whose answer also names servers to join through (added to `via`).
Task<RoomId> resolve_room(ClientApi& api, std::string id_or_alias, std::vector<std::string>& via) {
  if (!id_or_alias.empty() && id_or_alias.front() == '!') {
    auto id = RoomId::parse(id_or_alias);
    if (!id) throw MatrixError(Errc::not_found, "Unknown room");  // as for any room this server does not know
    co_return std::move(*id);
  }
  if (!is_room_alias(id_or_alias)) throw MatrixError(Errc::invalid_param, id_or_alias + " is not a valid room ID or alias");
  if (id_or_alias.substr(id_or_alias.find(':') + 1) != api.options.server_name) {
    std::optional<ResolvedAlias> remote = co_await api.remote_queries.resolve_alias(id_or_alias);
    if (!remote) throw MatrixError(Errc::not_found, "Room alias " + id_or_alias + " not found");
    via.insert(via.end(), remote->servers.begin(), remote->servers.end());
    co_return std::move(remote->room_id);
  }
  const auto room_id = co_await api.rooms.resolve_alias(id_or_alias);
  if (!room_id) throw MatrixError(Errc::not_found, "Room alias " + id_or_alias + " not found");
  auto id = RoomId::parse(*room_id);
  if (!id) throw MatrixError(Errc::not_found, "Room alias " + id_or_alias + " not found");
  co_return std::move(*id);
}

Task<http::Response> post_join_by_alias(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const nlohmann::json body = json_body::parse_object_or_empty(req.body);
  // `via` and the legacy `server_name`: servers to join through when this server is not in the room.
  std::vector<std::string> via = req.query_params("via");
  for (auto& name : req.query_params("server_name")) via.push_back(std::move(name));
  const RoomId room_id = co_await resolve_room(api, req.path_param("roomIdOrAlias"), via);
  co_return co_await join_room(s, room_id, body, api, std::move(via));
}

Task<http::Response> post_knock(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const nlohmann::json body = json_body::parse_object_or_empty(req.body);
  // `via` and the legacy `server_name`: servers to knock through when this server is not in the room.
  std::vector<std::string> via = req.query_params("via");
  for (auto& name : req.query_params("server_name")) via.push_back(std::move(name));
  const RoomId room_id = co_await resolve_room(api, req.path_param("roomIdOrAlias"), via);
  const std::optional<std::string> reason = reason_of(body);
  api.limiter.take_or_throw(RateAction::join, s.user_id.str());
  // A room this server is not in is knocked on through one that is (RemoteKnocker), as a join would be.
  const std::shared_ptr<Room> room = co_await api.rooms.find_room(room_id);
  if (api.remote_knocker && !(room && room->server_joined(api.options.server_name))) {
    std::vector<std::string> servers = co_await servers_to_join_through(api, s, room_id, room, std::move(via));
    if (!servers.empty()) {
      nlohmann::json extra = nlohmann::json::object();
      nlohmann::json content = co_await remote_member_content(s, reason, std::move(extra), api);
      RemoteKnock knock{s.user_id, room_id, std::move(servers), std::move(content)};
      co_await api.remote_knocker->knock(std::move(knock));
      co_return http::Response::json(200, {{"room_id", room_id.str()}});
    }
  }
  co_await api.rooms.set_membership(s.user_id, room_id, s.user_id, rooms::Membership::knock, reason, nlohmann::json::object());
  co_return http::Response::json(200, {{"room_id", room_id.str()}});
}

Task<http::Response> post_leave(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const RoomId room_id = room_id_param(req);
  const nlohmann::json body = json_body::parse_object_or_empty(req.body);
  // An invite from another server to a room this server is not in is rejected here (RemoteInvites), and a
  // knock through another server withdrawn the same way.
  std::optional<std::string> reason = reason_of(body);
  const bool rejected_remotely = co_await api.remote_invites.reject_locally(s.user_id, room_id, reason);
  if (rejected_remotely) co_return http::Response::json(200, nlohmann::json::object());
  co_await api.rooms.set_membership(s.user_id, room_id, s.user_id, rooms::Membership::leave, std::move(reason), nlohmann::json::object());
  co_return http::Response::json(200, nlohmann::json::object());
}

Task<http::Response> post_forget(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const RoomId room_id = room_id_param(req);
  json_body::parse_object_or_empty(req.body);
  co_await api.rooms.forget(s.user_id, room_id);
  co_return http::Response::json(200, nlohmann::json::object());
}

// The target of kick, ban or unban. A body without a string user_id is malformed: 400 M_BAD_JSON, as the
// membership endpoints' 400 says.
UserId target_of(const nlohmann::json& body) {
  auto it = body.find("user_id");
  if (it == body.end() || !it->is_string()) throw MatrixError(Errc::bad_json, "The body must have a string 'user_id'");
  return parse_user_id(it->get<std::string>(), "user_id");
}

// kick, ban, unban: {"user_id", "reason"}.
Task<http::Response> moderate(http::Request req, ClientApi& api, rooms::Membership membership, MembershipIntent intent) {
  const Session s = co_await require_session(req, api.accounts);
  const RoomId room_id = room_id_param(req);
  const nlohmann::json body = json_body::parse_object(req.body);
  const UserId target = target_of(body);
  co_await api.rooms.set_membership(s.user_id, room_id, target, membership, reason_of(body), nlohmann::json::object(), intent);
  co_return http::Response::json(200, nlohmann::json::object());
}

Task<http::Response> post_kick(http::Request req, ClientApi& api) {
  return moderate(std::move(req), api, rooms::Membership::leave, MembershipIntent::plain);
}
Task<http::Response> post_ban(http::Request req, ClientApi& api) {
  return moderate(std::move(req), api, rooms::Membership::ban, MembershipIntent::plain);
}
Task<http::Response> post_unban(http::Request req, ClientApi& api) {
  return moderate(std::move(req), api, rooms::Membership::leave, MembershipIntent::unban);
}

}  // namespace

void add_membership_routes(http::Router& router, ClientApi& api) {
  using http::Method;
  add_under(router, kClientPrefixesWithV1, Method::post, "/rooms/{roomId}/invite", post_invite, api);
  add_under(router, kClientPrefixesWithV1, Method::post, "/rooms/{roomId}/join", post_join_by_id, api);
  add_under(router, kClientPrefixesWithV1, Method::post, "/join/{roomIdOrAlias}", post_join_by_alias, api);
  add_under(router, kClientPrefixesWithV1, Method::post, "/rooms/{roomId}/leave", post_leave, api);
  add_under(router, kClientPrefixesWithV1, Method::post, "/rooms/{roomId}/forget", post_forget, api);
  add_under(router, kClientPrefixesWithV1, Method::post, "/rooms/{roomId}/kick", post_kick, api);
  add_under(router, kClientPrefixesWithV1, Method::post, "/rooms/{roomId}/ban", post_ban, api);
  add_under(router, kClientPrefixesWithV1, Method::post, "/rooms/{roomId}/unban", post_unban, api);
  add_under(router, kClientPrefixes, Method::post, "/knock/{roomIdOrAlias}", post_knock, api);
}

}  // namespace herald::homeserver
