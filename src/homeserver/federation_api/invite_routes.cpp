// Invites from other servers (federation.md §9): PUT /v2/invite (room_version, event, invite_room_state)
// and the legacy PUT /v1/invite (the event itself, with unsigned.invite_room_state; room version 1).
// The checks and the stored outlier invite are RemoteInvites'.
#include <nlohmann/json.hpp>

#include "core/json_body.h"
#include "core/matrix_error.h"
#include "events/room_version.h"
#include "homeserver/client_api/path_params.h"
#include "homeserver/federation/transaction_receiver.h"
#include "homeserver/accounts/account_service.h"
#include "homeserver/federation_api/federation_api.h"
#include "homeserver/membership/remote_invites.h"
#include "homeserver/rooms/room_service.h"

namespace herald::homeserver {
namespace {

Task<nlohmann::json> receive_invite(FederationApi& api, std::string origin, RoomId room, std::string event_id,
                                    std::string room_version, nlohmann::json pdu, nlohmann::json invite_room_state) {
  const events::RoomVersion* version = events::find_room_version(room_version);
  if (!version) {
    throw MatrixError(Errc::incompatible_room_version, "This server does not support room version " + room_version, 400)
        .with("room_version", room_version);
  }
  std::string invitee = remote_invites::check_invite_event(pdu, *version, room.str(), event_id, origin, api.server_name);
  UserId invitee_id = parse_user_id(invitee, "state_key");
  const bool exists = co_await api.accounts.user_exists(std::move(invitee_id));
  if (!exists) throw MatrixError(Errc::forbidden, "The user " + invitee + " does not exist here");
  std::vector<nlohmann::json> pdus{pdu};
  co_await api.transactions.fetch_signing_keys(pdus, origin);
  remote_invites::require_sender_signature(pdu, *version, api.rooms.server_keys());
  nlohmann::json signed_event = co_await api.invites.accept(std::move(invitee), room.str(), std::move(event_id), *version,
                                                            std::move(pdu), std::move(invite_room_state));
  co_return signed_event;
}

Task<http::Response> put_invite_v2(http::Request req, FederationApi& api, std::string origin) {
  const RoomId room = room_id_param(req);
  nlohmann::json body = json_body::parse_object(req.body);
  const auto ver = body.find("room_version");
  if (ver == body.end() || !ver->is_string()) throw MatrixError(Errc::bad_json, "room_version must be a string", 400);
  const auto event = body.find("event");
  if (event == body.end() || !event->is_object()) throw MatrixError(Errc::bad_json, "event must be an object", 400);
  nlohmann::json state = body.value("invite_room_state", nlohmann::json::array());
  nlohmann::json signed_event = co_await receive_invite(api, std::move(origin), room, req.path_param("eventId"),
                                                        ver->get<std::string>(), *event, std::move(state));
  nlohmann::json answer = {{"event", std::move(signed_event)}};
  co_return http::Response::json(200, answer);
}

Task<http::Response> put_invite_v1(http::Request req, FederationApi& api, std::string origin) {
  const RoomId room = room_id_param(req);
  nlohmann::json pdu = json_body::parse_object(req.body);
  nlohmann::json state = nlohmann::json::array();
  if (const auto u = pdu.find("unsigned"); u != pdu.end() && u->is_object()) {
    state = u->value("invite_room_state", nlohmann::json::array());
  }
  std::string version = "1";
  nlohmann::json signed_event =
      co_await receive_invite(api, std::move(origin), room, req.path_param("eventId"), version, std::move(pdu), std::move(state));
  nlohmann::json answer = nlohmann::json::array({200, {{"event", std::move(signed_event)}}});
  co_return http::Response::json(200, answer);
}

}  // namespace

void add_invite_routes(http::Router& router, FederationApi& api) {
  using http::Method;
  router.add(Method::put, "/_matrix/federation/v1/invite/{roomId}/{eventId}", bind_federation(put_invite_v1, api));
  router.add(Method::put, "/_matrix/federation/v2/invite/{roomId}/{eventId}", bind_federation(put_invite_v2, api));
}

}  // namespace herald::homeserver
