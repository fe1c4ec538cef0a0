#pragma once
// The Client-Server API: the services its handlers use, and the function that registers its routes.
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/task.h"
#include "http/router.h"

namespace herald {
class Clock;
class RateLimiter;
namespace crypto {
class SigningKey;
}
namespace http {
class Metrics;
}  // namespace http
namespace federation {
class FederationLayer;
}  // namespace federation
}  // namespace herald

namespace herald::homeserver {

class AccountService;
class UserInteractiveAuth;
class RoomService;
class RemoteInvites;
class RemoteJoiner;
class RemoteKnocker;
class RemoteQueries;
class SyncService;
class Notifier;
class ThirdPartyInvites;
class IdentityClient;
class AccountDataService;
class PresenceService;
class KeyService;
class ToDeviceService;
class KeyBackupService;
class RoomReader;
class FilterStore;
class LegacySync;
class OpenIdTokens;
class Threepids;

// A signing key this server no longer uses, still published under old_verify_keys.
struct OldVerifyKey {
  std::string key;  // unpadded base64 public key
  std::int64_t expired_ts = 0;
};

struct ClientApiOptions {
  std::string server_name;
  std::string public_baseurl;  // with a trailing '/'
  bool registration_enabled = true;
  std::string default_room_version = "12";
  std::optional<std::string> identity_server_base_url;  // advertised in .well-known
  // A trusted identity server that validates email addresses for /account/3pid/email/requestToken.
  std::optional<std::string> threepid_email_delegate;
  std::map<std::string, OldVerifyKey> old_verify_keys;  // key id ("ed25519:...") -> key
  bool serve_server_wellknown = false;  // answer /.well-known/matrix/server
};

// What handlers may use: services, never the database itself.
struct ClientApi {
  ClientApiOptions options;
  AccountService& accounts;
  UserInteractiveAuth& uia;
  RateLimiter& limiter;
  http::Metrics& metrics;
  RoomService& rooms;
  RoomReader& room_reader;
  SyncService& sync;
  FilterStore& filters;
  LegacySync& legacy_sync;
  AccountDataService& account_data;
  PresenceService& presence;
  KeyService& keys;
  ToDeviceService& to_device;
  KeyBackupService& key_backup;
  OpenIdTokens& openid;
  Threepids& threepids;
  Notifier& notifier;
  ThirdPartyInvites& third_party;
  IdentityClient& identity;
  const crypto::SigningKey& signing_key;
  const Clock& clock;
  // Discovery, the signing client, remote keys and the X-Matrix verifier: api.federation.verifier(),
  // api.federation.client(), api.federation.keys() (federation/federation_layer.h).
  federation::FederationLayer& federation;
  // Invites from other servers to rooms this server is not in (rejecting them here).
  RemoteInvites& remote_invites;
  // Joins of rooms this server is not in, through a resident server (set at wiring; null: such a join is
  // refused as for an unknown room).
  RemoteJoiner* remote_joiner = nullptr;
  // Knocks on rooms this server is not in, through a resident server (set at wiring; null: knocked on
  // locally, refused as for an unknown room).
  RemoteKnocker* remote_knocker = nullptr;
  // Profiles and room aliases of other servers, asked of those servers.
  RemoteQueries& remote_queries;
};

// Current and r0 prefixes serve every endpoint; api/v1 only those that existed in 2014-15.
inline constexpr std::array<std::string_view, 2> kClientPrefixes = {"/_matrix/client/v3", "/_matrix/client/r0"};
inline constexpr std::array<std::string_view, 3> kClientPrefixesWithV1 = {"/_matrix/client/v3", "/_matrix/client/r0",
                                                                          "/_matrix/client/api/v1"};

using ClientHandler = Task<http::Response> (*)(http::Request, ClientApi&);
// Adapts a handler function to the router, binding the long-lived ClientApi by reference.
http::Handler bind_handler(ClientHandler fn, ClientApi& api);
// Registers fn for `suffix` under each prefix.
template <class Prefixes>
void add_under(http::Router& router, const Prefixes& prefixes, http::Method method, std::string_view suffix,
               ClientHandler fn, ClientApi& api) {
  for (std::string_view prefix : prefixes) router.add(method, std::string(prefix) + std::string(suffix), bind_handler(fn, api));
}

void add_client_routes(http::Router& router, ClientApi& api);
void add_account_routes(http::Router& router, ClientApi& api);
void add_discovery_routes(http::Router& router, ClientApi& api);
void add_room_routes(http::Router& router, ClientApi& api);
void add_membership_routes(http::Router& router, ClientApi& api);
void add_directory_routes(http::Router& router, ClientApi& api);
void add_sync_routes(http::Router& router, ClientApi& api);
void add_profile_routes(http::Router& router, ClientApi& api);
void add_push_rules_routes(http::Router& router, ClientApi& api);
void add_legacy_sync_routes(http::Router& router, ClientApi& api);
void add_openid_routes(http::Router& router, ClientApi& api);
void add_threepid_routes(http::Router& router, ClientApi& api);
void add_onbind_routes(http::Router& router, ClientApi& api);
void add_key_routes(http::Router& router, ClientApi& api);
void add_federation_version_routes(http::Router& router, ClientApi& api);
void add_account_data_routes(http::Router& router, ClientApi& api);
void add_presence_routes(http::Router& router, ClientApi& api);
void add_keys_routes(http::Router& router, ClientApi& api);
void add_device_routes(http::Router& router, ClientApi& api);
void add_key_backup_routes(http::Router& router, ClientApi& api);

}  // namespace herald::homeserver
