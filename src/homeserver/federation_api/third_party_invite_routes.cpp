// PUT /_matrix/federation/v1/exchange_third_party_invite/{roomId} (federation.md §10): a server whose user
// bound an email address asks the room's server — the one whose user made the third-party invite — to turn
// the identity server's signed block into a real invite. The partial member event names the inviter
// (sender), the invitee (state_key, a user of the asking server) and content.third_party_invite; the checks
// on the signed block and the invite itself are ThirdPartyInvites::exchange's, the invite then going to
// the invitee's server as any invite of a remote user does.
#include <nlohmann/json.hpp>

#include "core/json_body.h"
#include "core/log.h"
#include "core/matrix_error.h"
#include "homeserver/client_api/path_params.h"
#include "homeserver/federation_api/federation_api.h"
#include "homeserver/membership/third_party_invites.h"

namespace herald::homeserver {
namespace {

Task<http::Response> put_exchange(http::Request req, FederationApi& api, std::string origin) {
  const RoomId room = room_id_param(req);
  const nlohmann::json event = json_body::parse_object(req.body);
  if (json_body::required_string(event, "type") != "m.room.member") {
    throw MatrixError(Errc::invalid_param, "The event must be an m.room.member event");
  }
  if (auto in = json_body::optional_string(event, "room_id"); in && *in != room.str()) {
    throw MatrixError(Errc::invalid_param, "The event's room_id does not match the path");
  }
  const UserId sender = parse_user_id(json_body::required_string(event, "sender"), "sender");
  const UserId invitee = parse_user_id(json_body::required_string(event, "state_key"), "state_key");
  if (sender.server_name() != api.server_name) throw MatrixError(Errc::forbidden, "The inviter is not a user of this server");
  if (invitee.server_name() != origin) throw MatrixError(Errc::forbidden, "The invitee is not a user of " + origin);
  const nlohmann::json* content = json_body::optional_object(event, "content");
  if (!content || content->value("membership", "") != "invite") {
    throw MatrixError(Errc::invalid_param, "The event's membership must be invite");
  }
  const nlohmann::json* third_party = json_body::optional_object(*content, "third_party_invite");
  const nlohmann::json* signed_block = third_party ? json_body::optional_object(*third_party, "signed") : nullptr;
  if (!signed_block) throw MatrixError(Errc::bad_json, "content.third_party_invite.signed is missing");
  nlohmann::json signed_copy = *signed_block;
  const std::string event_id = co_await api.third_party.exchange(sender, invitee, room, std::move(signed_copy));
  log::info("3pid invite exchanged for another server room={} origin={} invitee={} event={}", room.str(), origin,
            invitee.str(), event_id);
  co_return http::Response::json(200, nlohmann::json::object());
}

}  // namespace

void add_third_party_invite_routes(http::Router& router, FederationApi& api) {
  router.add(http::Method::put, "/_matrix/federation/v1/exchange_third_party_invite/{roomId}", bind_federation(put_exchange, api));
}

}  // namespace herald::homeserver
