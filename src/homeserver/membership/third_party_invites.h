#pragma once
// Third-party invites (client-server.md §4, identity.md §6-8): inviting an email address through a trusted
// identity server, and turning a signed third-party invite (from onbind, or a client's third_party_signed)
// into a real m.room.member invite. Identity-server calls always happen outside database jobs; the room's
// auth rules decide again inside the write, so a revocation racing the call still wins.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/ids.h"
#include "core/task.h"
#include "homeserver/identity_client/identity_client.h"

namespace herald::homeserver {

class RoomService;

struct ThreepidInvite {
  std::string id_server;
  std::string id_access_token;
  std::string medium;
  std::string address;
};

struct ThirdPartyInviteOptions {
  // id_server name as clients send it -> base URL (nullopt: https://<name>).
  std::map<std::string, std::optional<std::string>> trusted_identity_servers;
};

class ThirdPartyInvites {
 public:
  ThirdPartyInvites(RoomService& rooms, IdentityClient& identity, ThirdPartyInviteOptions options);

  // 400 M_SERVER_NOT_TRUSTED unless the configuration names id_server.
  IdentityServerTarget target_of(const std::string& id_server) const;
  // A strictly parsed {id_server, id_access_token, medium, address} (M_MISSING_PARAM, M_BAD_JSON).
  static ThreepidInvite parse(const nlohmann::json& body);

  // Invites the bound user directly, or stores the invite at the identity server and appends
  // m.room.third_party_invite. Identity-server trouble: 502/504 M_UNKNOWN, room unchanged.
  Task<void> invite(UserId sender, std::string room_id, ThreepidInvite invite);
  // The member invite of `mxid` by `sender` carrying third_party_invite {display_name, signed}, after the
  // signature verified against the room's m.room.third_party_invite keys and the key's validity URL said so.
  // Returns the event ID.
  Task<std::string> exchange(UserId sender, UserId mxid, std::string room_id, nlohmann::json signed_block);

 private:
  bool operator_named(const std::string& url) const;

  RoomService& rooms_;
  IdentityClient& identity_;
  ThirdPartyInviteOptions options_;
};

}  // namespace herald::homeserver
