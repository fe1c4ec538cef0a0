#include "homeserver/membership/third_party_invites.h"

#include <tuple>
#include <vector>

#include "core/json_body.h"
#include "core/log.h"
#include "core/matrix_error.h"
#include "core/strings.h"
#include "crypto/base64.h"
#include "crypto/signed_json.h"
#include "homeserver/rooms/room_service.h"

namespace herald::homeserver {
namespace {

constexpr std::size_t kMaxAddressBytes = 500;
constexpr std::size_t kMaxDisplayNameBytes = 255;

// The name the room shows for a pending invite: the client's display_name (the spec's "user-friendly
// string describing who has been invited"), unless it gives the address away, which it should not; then
// the identity server's redacted form.
std::string shown_name(const std::optional<std::string>& requested, const std::string& address, const std::string& redacted) {
  if (!requested || requested->empty()) return redacted;
  if (strings::to_lower_ascii(*requested).find(strings::to_lower_ascii(address)) != std::string::npos) return redacted;
  return *requested;
}

std::optional<std::string> string_in(const nlohmann::json& content, const char* key) {
  auto it = content.find(key);
  if (it == content.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

struct InviteKey {
  std::string public_key;
  std::optional<std::string> validity_url;
};

}  // namespace

ThirdPartyInvites::ThirdPartyInvites(RoomService& rooms, IdentityClient& identity, ThirdPartyInviteOptions options)
    : rooms_(rooms), identity_(identity), options_(std::move(options)) {}

IdentityServerTarget ThirdPartyInvites::target_of(const std::string& id_server) const {
  if (options_.trusted_identity_servers.empty()) {
    // Any identity server the client uses, as Synapse does: over HTTPS, and the outbound client refuses
    // addresses in ip_range_blacklist after resolving the name.
    if (!is_valid_server_name(id_server)) {
      throw MatrixError(Errc::invalid_param, "'id_server' must be a host name with an optional port: " + id_server);
    }
    return {"https://" + id_server, false};
  }
  const auto it = options_.trusted_identity_servers.find(id_server);
  if (it == options_.trusted_identity_servers.end()) {
    throw MatrixError(Errc::server_not_trusted, "The identity server " + id_server + " is not trusted by this homeserver");
  }
  std::string base = it->second ? *it->second : "https://" + id_server;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return {base, true};
}

bool ThirdPartyInvites::operator_named(const std::string& url) const {
  for (const auto& [name, base] : options_.trusted_identity_servers) {
    std::string prefix = base ? *base : "https://" + name;
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    if (url.rfind(prefix + "/", 0) == 0) return true;
  }
  return false;
}

ThreepidInvite ThirdPartyInvites::parse(const nlohmann::json& body) {
  ThreepidInvite t;
  // `identity_server` is the older name (the seed's body; r0-era clients), `id_server` wins when both come.
  if (!body.contains("id_server") && body.contains("identity_server")) {
    t.id_server = json_body::required_string(body, "identity_server");
  } else {
    t.id_server = json_body::required_string(body, "id_server");
  }
  t.id_access_token = json_body::optional_string(body, "id_access_token").value_or("");
  t.medium = json_body::required_string(body, "medium");
  t.address = json_body::required_string(body, "address");
  t.display_name = json_body::optional_string(body, "display_name");
  if (t.display_name && t.display_name->size() > kMaxDisplayNameBytes) {
    throw MatrixError(Errc::invalid_param, "'display_name' is too long");
  }
  if (t.medium.empty() || t.medium.size() > 32) throw MatrixError(Errc::invalid_param, "'medium' is not a medium");
  if (t.address.empty() || t.address.size() > kMaxAddressBytes) throw MatrixError(Errc::invalid_param, "'address' has an invalid length");
  if (t.id_server.empty() || t.id_server.size() > 255) throw MatrixError(Errc::invalid_param, "'id_server' is not a server name");
  if (t.id_access_token.size() > 1024) throw MatrixError(Errc::invalid_param, "'id_access_token' is too long");
  return t;
}

Task<void> ThirdPartyInvites::invite(UserId sender, RoomId room_id, ThreepidInvite request) {
  const IdentityServerTarget target = target_of(request.id_server);
  const std::string address = request.medium == "email" ? strings::to_lower_ascii(request.address) : request.address;

  // What the identity server needs for the email, read from memory; the inviter must be able to invite.
  nlohmann::json params = {{"medium", request.medium}, {"address", address}, {"room_id", room_id.str()}, {"sender", sender.str()}};
  {
    const std::shared_ptr<Room> room = co_await rooms_.require_room(room_id);
    if (room->membership_of(sender.str()) != rooms::Membership::join) throw MatrixError(Errc::forbidden, "You are not in this room");
    const PowerOf power = room->power_of(sender.str());
    const std::int64_t level = power.levels.invite;
    if (power.user_level < level) {
      throw MatrixError(Errc::forbidden, "You don't have permission to invite users (power level " +
                                             std::to_string(power.user_level) + " < " + std::to_string(level) + ")");
    }
    // The room's face for the email: each (param, state key, content field).
    const std::vector<std::tuple<const char*, rooms::StateKey, const char*>> fields = {
        {"room_alias", {"m.room.canonical_alias", ""}, "alias"},
        {"room_avatar_url", {"m.room.avatar", ""}, "url"},
        {"room_join_rules", {"m.room.join_rules", ""}, "join_rule"},
        {"room_name", {"m.room.name", ""}, "name"},
        {"room_type", {"m.room.create", ""}, "type"},
        {"sender_display_name", {"m.room.member", sender.str()}, "displayname"},
        {"sender_avatar_url", {"m.room.member", sender.str()}, "avatar_url"}};
    std::vector<rooms::StateKey> keys;
    for (const auto& [param, key, field] : fields) keys.push_back(key);
    const std::vector<events::EventPtr> found = room->state_events(keys);
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const auto& [param, key, field] = fields[i];
      if (!found[i]) continue;
      if (auto v = string_in(found[i]->content(), field)) params[param] = *v;
    }
  }

  std::optional<std::string> bound;
  try {
    bound = co_await identity_.lookup(target, request.id_access_token, request.medium, address);
  } catch (const IdentityServerError& e) {
    throw as_matrix_error(e);
  }
  if (bound) {
    const auto user = UserId::parse(*bound);
    if (!user) throw MatrixError(Errc::unknown, "The identity server returned an invalid Matrix ID", 502);
    log::info("3pid invite resolved to a user room={} sender={}", room_id.str(), sender.str());
    co_await rooms_.set_membership(sender, room_id, *user, rooms::Membership::invite, std::nullopt, nlohmann::json::object());
    co_return;
  }

  StoredThirdPartyInvite stored;
  try {
    stored = co_await identity_.store_invite(target, request.id_access_token, params);
  } catch (const IdentityServerError& e) {
    throw as_matrix_error(e);
  }
  nlohmann::json content = {{"display_name", shown_name(request.display_name, address, stored.display_name)},
                            {"public_key", stored.public_keys[0]["public_key"]},
                            {"public_keys", stored.public_keys}};
  if (stored.public_keys[0].contains("key_validity_url")) content["key_validity_url"] = stored.public_keys[0]["key_validity_url"];
  events::EventDraft draft{"m.room.third_party_invite", stored.token, sender.str(), std::move(content), std::nullopt};
  co_await rooms_.send(sender, "", room_id, std::move(draft), std::nullopt);
  log::info("3pid invite stored room={} sender={} display_name={} v1={}", room_id.str(), sender.str(), stored.display_name,
            request.id_access_token.empty());
}

Task<std::string> ThirdPartyInvites::exchange(UserId sender, UserId mxid, RoomId room_id, nlohmann::json signed_block) {
  if (!signed_block.is_object() || !string_in(signed_block, "mxid") || !string_in(signed_block, "token") ||
      !signed_block.contains("signatures") || !signed_block["signatures"].is_object()) {
    throw MatrixError(Errc::bad_json, "The signed block needs mxid, token and signatures");
  }
  if (*string_in(signed_block, "mxid") != mxid.str()) throw MatrixError(Errc::forbidden, "The signed block is for another user");
  const std::string token = *string_in(signed_block, "token");

  std::string display_name;
  std::vector<InviteKey> keys;
  {
    const std::shared_ptr<Room> room = co_await rooms_.find_room(room_id);
    if (!room) throw MatrixError(Errc::forbidden, "This server is not in the room " + room_id.str());
    const events::EventPtr tpi = room->state_event("m.room.third_party_invite", token);
    if (!tpi) throw MatrixError(Errc::forbidden, "No third-party invite with this token in the room");
    if (tpi->sender() != sender.str()) throw MatrixError(Errc::forbidden, "The third-party invite was sent by someone else");
    const nlohmann::json& c = tpi->content();
    display_name = string_in(c, "display_name").value_or("");
    if (auto k = string_in(c, "public_key")) keys.push_back({*k, string_in(c, "key_validity_url")});
    if (auto it = c.find("public_keys"); it != c.end() && it->is_array()) {
      for (const auto& k : *it) {
        if (k.is_object() && string_in(k, "public_key")) keys.push_back({*string_in(k, "public_key"), string_in(k, "key_validity_url")});
      }
    }
    if (keys.empty()) throw MatrixError(Errc::forbidden, "The third-party invite was revoked");
  }

  // Which key signed it (rooms-and-auth.md: any signature by any listed key).
  const InviteKey* verified = nullptr;
  for (const auto& [entity, sigs] : signed_block["signatures"].items()) {
    if (!sigs.is_object()) continue;
    for (const auto& [key_id, sig] : sigs.items()) {
      for (const auto& k : keys) {
        const auto raw = crypto::base64_decode(k.public_key);
        if (raw && raw->size() == 32 && crypto::verify_json(signed_block, entity, key_id, *raw)) {
          verified = &k;
          break;
        }
      }
      if (verified) break;
    }
    if (verified) break;
  }
  if (!verified) throw MatrixError(Errc::forbidden, "The third-party invite's signature does not verify with the room's keys");
  if (verified->validity_url) {
    bool valid = false;
    try {
      valid = co_await identity_.key_is_valid(*verified->validity_url, verified->public_key, operator_named(*verified->validity_url));
    } catch (const IdentityServerError& e) {
      throw as_matrix_error(e);
    } catch (const MatrixError& e) {
      throw MatrixError(Errc::unknown, "The key validity check failed: " + e.message(), 502);
    }
    if (!valid) throw MatrixError(Errc::forbidden, "The identity server says the invite's key is no longer valid");
  }
  nlohmann::json extra = {{"third_party_invite", {{"display_name", display_name}, {"signed", signed_block}}}};
  std::string event_id = co_await rooms_.set_membership(sender, room_id, mxid, rooms::Membership::invite, std::nullopt, std::move(extra));
  log::info("3pid invite exchanged room={} sender={} invitee={}", room_id.str(), sender.str(), mxid.str());
  co_return event_id;
}

}  // namespace herald::homeserver
