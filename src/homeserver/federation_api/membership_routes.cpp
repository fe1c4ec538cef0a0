// Membership of remote users through this server (federation.md §7-8, §10): make_join/send_join let a
// user of another server join a room this server is in, make_leave/send_leave let one leave it, refuse an
// invite or withdraw a knock, make_knock/send_knock let one knock on it (v7+). The templates are built by RoomService as local events are; the signed events come back
// through the event pipeline (RoomService::receive_relayed), which also sends them on to the room.
#include <mutex>
#include <shared_mutex>

#include <nlohmann/json.hpp>

#include "core/json_body.h"
#include "core/matrix_error.h"
#include "events/event_builder.h"
#include "events/room_version.h"
#include "homeserver/client_api/path_params.h"
#include "homeserver/federation/transaction_receiver.h"
#include "homeserver/federation_api/federation_api.h"
#include "homeserver/membership/remote_membership.h"
#include "homeserver/rooms/federation_room_reader.h"
#include "homeserver/rooms/room_service.h"
#include "homeserver/rooms/stripped_state.h"
#include "rooms/server_acl.h"

namespace herald::homeserver {
namespace {

// The path's user, who must be one of the requesting server's.
UserId origin_user(const http::Request& req, const std::string& origin) {
  const UserId user = parse_user_id(req.path_param("userId"), "userId");
  if (remote_membership::server_of(user.str()) != origin) {
    throw MatrixError(Errc::forbidden, "The user " + user.str() + " does not belong to " + origin);
  }
  return user;
}

// A server the room's m.room.server_acl bans takes no part in its membership (federation.md §6).
Task<void> require_acl_allows(FederationApi& api, const RoomId& room, const std::string& origin) {
  const std::shared_ptr<Room> known = co_await api.rooms.find_room(room);
  if (!known) co_return;  // unknown: the membership call answers 404 itself
  const events::EventPtr acl = known->state_event("m.room.server_acl");
  if (acl && !rooms::server_acl_allows(acl->content(), origin)) {
    throw MatrixError(Errc::forbidden, "The room's server ACL bans " + origin);
  }
}

Task<http::Response> make_membership(http::Request req, FederationApi& api, std::string origin, std::string membership) {
  const RoomId room = room_id_param(req);
  UserId user = origin_user(req, origin);
  co_await require_acl_allows(api, room, origin);
  // make_join and make_knock name the room versions the asking server supports; make_leave does not.
  std::vector<std::string> supported = req.query_params("ver");
  if (membership == "leave") {
    for (const auto& v : events::all_room_versions()) supported.emplace_back(v.id);
  }
  MembershipTemplate made = co_await api.rooms.membership_template(room, std::move(user), membership, std::move(supported));
  nlohmann::json body = {{"room_version", made.room_version}, {"event", std::move(made.event)}};
  co_return http::Response::json(200, body);
}

Task<http::Response> get_make_join(http::Request req, FederationApi& api, std::string origin) {
  std::string membership = "join";
  co_return co_await make_membership(std::move(req), api, std::move(origin), std::move(membership));
}

Task<http::Response> get_make_leave(http::Request req, FederationApi& api, std::string origin) {
  std::string membership = "leave";
  co_return co_await make_membership(std::move(req), api, std::move(origin), std::move(membership));
}

Task<http::Response> get_make_knock(http::Request req, FederationApi& api, std::string origin) {
  std::string membership = "knock";
  co_return co_await make_membership(std::move(req), api, std::move(origin), std::move(membership));
}

// Whether `event_id` is the user's current membership event: a send_join or send_leave sent again after
// the first was accepted answers as the first did.
Task<bool> is_current_membership(FederationApi& api, RoomId room, std::string user, std::string event_id) {
  std::shared_ptr<Room> r = co_await api.rooms.find_room(room);
  if (!r) co_return false;
  std::shared_lock lock(r->mutex);
  const events::EventPtr* current = r->state.find("m.room.member", user);
  co_return current && (*current)->event_id() == event_id;
}

// The checks and the pipeline shared by send_join, send_leave and send_knock; returns the event as stored.
Task<events::EventPtr> send_membership(const http::Request& req, FederationApi& api, std::string origin,
                                       std::string membership, RoomId room, std::string event_id) {
  nlohmann::json pdu = json_body::parse_object(req.body);
  std::shared_ptr<Room> known = co_await api.rooms.require_room(room);
  co_await require_acl_allows(api, room, origin);
  if (membership == "knock") remote_membership::require_knock_support(*known->version);
  remote_membership::check_membership_event(pdu, *known->version, room.str(), event_id, origin, membership);
  const std::string user = pdu["sender"].get<std::string>();
  std::vector<nlohmann::json> pdus{pdu};
  co_await api.transactions.fetch_signing_keys(pdus, origin);
  Received got = co_await api.rooms.receive_relayed(room, std::move(pdu));
  if (got.outcome == Outcome::accepted) co_return got.event;
  if (got.outcome == Outcome::duplicate) {
    const bool current = co_await is_current_membership(api, room, user, event_id);
    if (current) {
      std::vector<std::string> ids{event_id};
      std::vector<nlohmann::json> stored = co_await api.reader.stored_pdus(std::move(ids));
      if (!stored.empty()) {
        co_return events::event_from_pdu(*known->version, event_id, room.str(), stored.front().dump());
      }
    }
  }
  const std::string why = std::string("The ") + membership + " event was " + to_string(got.outcome) +
                          (got.reason.empty() ? "" : ": " + got.reason);
  if (got.outcome == Outcome::rejected || got.outcome == Outcome::soft_failed || got.outcome == Outcome::duplicate) {
    throw MatrixError(Errc::forbidden, why);
  }
  throw MatrixError(Errc::invalid_param, why, 400);
}

Task<http::Response> send_join(http::Request req, FederationApi& api, std::string origin, bool v1) {
  const RoomId room = room_id_param(req);
  const std::string event_id = req.path_param("eventId");
  std::string membership = "join";
  const events::EventPtr join = co_await send_membership(req, api, origin, membership, room, event_id);
  StateAtEvent state = co_await api.reader.state_before(room, event_id, origin, true);
  const auto omit = req.query_param("omit_members");
  // Without members only when every listed event came with its PDU (the lists then line up).
  const bool members_omitted = !v1 && omit && *omit == "true" && state.state.size() == state.state_ids.size() &&
                               state.auth_chain.size() == state.auth_chain_ids.size();
  if (members_omitted) state = remote_membership::without_members(state, join->sender());
  std::vector<std::string> servers = co_await api.reader.joined_servers(room);
  nlohmann::json body = {{"state", std::move(state.state)},
                         {"auth_chain", std::move(state.auth_chain)},
                         {"event", join->pdu()},
                         {"origin", api.server_name},
                         {"members_omitted", members_omitted},
                         {"servers_in_room", std::move(servers)}};
  if (v1) {
    nlohmann::json legacy = nlohmann::json::array({200, std::move(body)});
    co_return http::Response::json(200, legacy);
  }
  co_return http::Response::json(200, body);
}

Task<http::Response> send_leave(http::Request req, FederationApi& api, std::string origin, bool v1) {
  const RoomId room = room_id_param(req);
  const std::string event_id = req.path_param("eventId");
  std::string membership = "leave";
  co_await send_membership(req, api, origin, membership, room, event_id);
  nlohmann::json body = nlohmann::json::object();
  if (v1) {
    nlohmann::json legacy = nlohmann::json::array({200, std::move(body)});
    co_return http::Response::json(200, legacy);
  }
  co_return http::Response::json(200, body);
}

// The knock, then the room's public face for the knocker's /sync (knock_room_state).
Task<http::Response> put_send_knock(http::Request req, FederationApi& api, std::string origin) {
  const RoomId room = room_id_param(req);
  const std::string event_id = req.path_param("eventId");
  std::string membership = "knock";
  const events::EventPtr knock = co_await send_membership(req, api, origin, membership, room, event_id);
  std::shared_ptr<Room> r = co_await api.rooms.require_room(room);
  nlohmann::json state;
  {
    std::shared_lock lock(r->mutex);
    state = knock_room_state(*r, knock->sender());
  }
  nlohmann::json body = {{"knock_room_state", std::move(state)}};
  co_return http::Response::json(200, body);
}

Task<http::Response> put_send_join_v1(http::Request req, FederationApi& api, std::string origin) {
  co_return co_await send_join(std::move(req), api, std::move(origin), true);
}
Task<http::Response> put_send_join_v2(http::Request req, FederationApi& api, std::string origin) {
  co_return co_await send_join(std::move(req), api, std::move(origin), false);
}
Task<http::Response> put_send_leave_v1(http::Request req, FederationApi& api, std::string origin) {
  co_return co_await send_leave(std::move(req), api, std::move(origin), true);
}
Task<http::Response> put_send_leave_v2(http::Request req, FederationApi& api, std::string origin) {
  co_return co_await send_leave(std::move(req), api, std::move(origin), false);
}

}  // namespace

void add_membership_routes(http::Router& router, FederationApi& api) {
  using http::Method;
  const std::string v1 = "/_matrix/federation/v1";
  const std::string v2 = "/_matrix/federation/v2";
  router.add(Method::get, v1 + "/make_join/{roomId}/{userId}", bind_federation(get_make_join, api));
  router.add(Method::put, v1 + "/send_join/{roomId}/{eventId}", bind_federation(put_send_join_v1, api));
  router.add(Method::put, v2 + "/send_join/{roomId}/{eventId}", bind_federation(put_send_join_v2, api));
  router.add(Method::get, v1 + "/make_leave/{roomId}/{userId}", bind_federation(get_make_leave, api));
  router.add(Method::put, v1 + "/send_leave/{roomId}/{eventId}", bind_federation(put_send_leave_v1, api));
  router.add(Method::put, v2 + "/send_leave/{roomId}/{eventId}", bind_federation(put_send_leave_v2, api));
  router.add(Method::get, v1 + "/make_knock/{roomId}/{userId}", bind_federation(get_make_knock, api));
  router.add(Method::put, v1 + "/send_knock/{roomId}/{eventId}", bind_federation(put_send_knock, api));
}

}  // namespace herald::homeserver
