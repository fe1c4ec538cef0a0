#include "homeserver/client_api/client_api.h"

#include "http/router.h"

namespace herald::homeserver {

http::Handler bind_handler(ClientHandler fn, ClientApi& api) {
  return [fn, &api](http::Request req) { return fn(std::move(req), api); };
}

void add_client_routes(http::Router& router, ClientApi& api) {
  add_discovery_routes(router, api);
  add_account_routes(router, api);
  add_room_routes(router, api);
  add_membership_routes(router, api);
  add_directory_routes(router, api);
  add_sync_routes(router, api);
  add_profile_routes(router, api);
  add_push_rules_routes(router, api);
  add_legacy_sync_routes(router, api);
  add_openid_routes(router, api);
  add_threepid_routes(router, api);
  add_onbind_routes(router, api);
  add_key_routes(router, api);
  add_federation_version_routes(router, api);
  add_account_data_routes(router, api);
  add_presence_routes(router, api);
  add_keys_routes(router, api);
  add_device_routes(router, api);
  add_key_backup_routes(router, api);
}

}  // namespace herald::homeserver
