// /_matrix/federation/v1/3pid/onbind (identity.md §7): an identity server tells us that one of our users
// bound an address that had pending third-party invites. POST (Sydent, Synapse) and PUT (the spec) both work.
#include <nlohmann/json.hpp>

#include "core/json_body.h"
#include "core/log.h"
#include "core/matrix_error.h"
#include "core/strings.h"
#include "federation/federation_client.h"
#include "federation/federation_layer.h"
#include "homeserver/client_api/client_api.h"
#include "homeserver/client_api/path_params.h"
#include "homeserver/membership/third_party_invites.h"

namespace herald::homeserver {
namespace {

// A refusal that retrying cannot fix (revoked, unknown room, bad signature) is logged and dropped, so the
// identity server stops retrying it; a failure that may pass (an identity server or our storage was
// unavailable) makes the whole callback fail, after every other invite was handled.
bool is_transient(int status) { return status >= 500; }

// The inviter is on another server, the room's: ask it to exchange the signed block for an invite
// (PUT /_matrix/federation/v1/exchange_third_party_invite/{roomId}, federation.md §10); the invite then
// reaches this server through PUT /invite. Its refusal is final; no answer is worth retrying.
Task<void> exchange_remotely(ClientApi& api, const UserId& sender, const UserId& mxid, const RoomId& room,
                             const nlohmann::json& invite, const nlohmann::json& signed_block) {
  nlohmann::json third_party = {{"signed", signed_block}};
  if (auto name = json_body::optional_string(invite, "display_name")) third_party["display_name"] = *name;
  nlohmann::json event = {{"type", "m.room.member"},
                          {"room_id", room.str()},
                          {"sender", sender.str()},
                          {"state_key", mxid.str()},
                          {"content", {{"membership", "invite"}, {"third_party_invite", std::move(third_party)}}}};
  std::string destination(sender.server_name());
  std::string uri = "/_matrix/federation/v1/exchange_third_party_invite/" + strings::percent_encode(room.str());
  try {
    co_await api.federation.client().put_json(std::move(destination), std::move(uri), std::move(event));
  } catch (const federation::FederationError& e) {
    if (e.status >= 400 && e.status < 500) {
      throw MatrixError(Errc::forbidden, std::string(sender.server_name()) + " refused to exchange the invite: " + e.what(), e.status);
    }
    throw MatrixError(Errc::unknown, "Could not reach " + std::string(sender.server_name()) + ": " + e.what(), 502);
  }
}

Task<bool> exchange_one(ClientApi& api, const nlohmann::json& invite) {
  try {
    if (!invite.is_object()) throw MatrixError(Errc::bad_json, "each invite must be an object");
    const UserId mxid = parse_user_id(json_body::required_string(invite, "mxid"), "mxid");
    const UserId sender = parse_user_id(json_body::required_string(invite, "sender"), "sender");
    const std::string room_text = json_body::required_string(invite, "room_id");
    const auto room_id = RoomId::parse(room_text);
    if (!room_id) throw MatrixError(Errc::invalid_param, "Invalid room ID: " + room_text);
    const nlohmann::json* signed_block = json_body::optional_object(invite, "signed");
    if (!signed_block) throw MatrixError(Errc::bad_json, "the invite has no signed block");
    if (mxid.server_name() != api.options.server_name) throw MatrixError(Errc::forbidden, "the invitee is not a user of this server");
    if (sender.server_name() != api.options.server_name) {
      co_await exchange_remotely(api, sender, mxid, *room_id, invite, *signed_block);
      log::info("3pid invite exchange asked of another server room={} server={} invitee={}", room_id->str(),
                sender.server_name(), mxid.str());
      co_return true;
    }
    nlohmann::json signed_copy = *signed_block;
    co_await api.third_party.exchange(sender, mxid, *room_id, std::move(signed_copy));
    co_return true;
  } catch (const MatrixError& e) {
    log::warn("onbind invite not exchanged room={} status={} error={}", invite.is_object() ? invite.value("room_id", "") : "",
              e.http_status(), e.message());
    co_return !is_transient(e.http_status());
  }
}

Task<http::Response> post_onbind(http::Request req, ClientApi& api) {
  const nlohmann::json body = json_body::parse_object(req.body);
  // Sydent calls onbind on every bind, also when nothing is pending, without an `invites` key: that is an
  // empty list and a 200, as in Synapse (otherwise Sydent retries forever). A non-array is still M_BAD_JSON.
  static const nlohmann::json kNoInvites = nlohmann::json::array();
  const nlohmann::json* listed = json_body::optional_array(body, "invites");
  const nlohmann::json* invites = listed ? listed : &kNoInvites;
  for (const auto& invite : *invites) {
    if (!invite.is_object() || !invite.contains("signed") || !invite["signed"].is_object() || !invite["signed"].contains("token")) {
      throw MatrixError(Errc::bad_json, "Each invite needs a signed block with a token");
    }
  }
  bool all_done = true;
  for (const auto& invite : *invites) {
    const bool done = co_await exchange_one(api, invite);
    all_done = all_done && done;
  }
  if (!all_done) throw MatrixError(Errc::unknown, "Some invites could not be exchanged yet; try again later", 502);
  co_return http::Response::json(200, nlohmann::json::object());
}

}  // namespace

void add_onbind_routes(http::Router& router, ClientApi& api) {
  router.add(http::Method::post, "/_matrix/federation/v1/3pid/onbind", bind_handler(post_onbind, api));
  router.add(http::Method::put, "/_matrix/federation/v1/3pid/onbind", bind_handler(post_onbind, api));
}

}  // namespace herald::homeserver
