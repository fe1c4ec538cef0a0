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
  std::string id_server;        // `id_server`, or its older name `identity_server`
  std::string id_access_token;  // empty: none sent, so the identity server's unauthenticated v1 API is used
  std::string medium;
  std::string address;
  std::optional<std::string> display_name;  // the client's name for the invitee, shown in the room
};

struct ThirdPartyInviteOptions {
  // id_server name as clients send it -> base URL (nullopt: https://<name>). Empty: any identity server a
  // client names, at https://<id_server>, guarded by the outbound client's IpGuard.
  std::map<std::string, std::optional<std::string>> trusted_identity_servers;
};

class ThirdPartyInvites {
 public:
  ThirdPartyInvites(RoomService& rooms, IdentityClient& identity, ThirdPartyInviteOptions options);

  // Where id_server answers. With trusted_identity_servers set: 400 M_SERVER_NOT_TRUSTED unless it names
  // id_server. Without: https://<id_server> (400 M_INVALID_PARAM when id_server is not host[:port]).
  IdentityServerTarget target_of(const std::string& id_server) const;
  // A strictly parsed {id_server | identity_server, id_access_token?, medium, address, display_name?}
  // (M_MISSING_PARAM, M_BAD_JSON, M_INVALID_PARAM).
  static ThreepidInvite parse(const nlohmann::json& body);

  // Invites the bound user directly, or stores the invite at the identity server and appends
  // m.room.third_party_invite. Without id_access_token the identity server's legacy v1 lookup and
  // store-invite are used. Identity-server trouble: 502/504 M_UNKNOWN; an address the IpGuard refuses:
  // 400 M_SERVER_NOT_TRUSTED; no v1 API and no token: 400 M_MISSING_PARAM. The room is unchanged then.
  Task<void> invite(UserId sender, RoomId room_id, ThreepidInvite invite);
  // The member invite of `mxid` by `sender` carrying third_party_invite {display_name, signed}, after the
  // signature verified against the room's m.room.third_party_invite keys and the key's validity URL said so.
  // Returns the event ID.
  Task<std::string> exchange(UserId sender, UserId mxid, RoomId room_id, nlohmann::json signed_block);

 private:
  bool operator_named(const std::string& url) const;

  RoomService& rooms_;
  IdentityClient& identity_;
  ThirdPartyInviteOptions options_;
};

}  // namespace herald::homeserver
