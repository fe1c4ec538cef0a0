// GET /_matrix/key/v2/server: this server's signing key, self-signed, so that other servers (identity
// servers checking a signed /3pid/unbind, later federation peers) can verify our requests.
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "crypto/signed_json.h"
#include "crypto/signing_key.h"
#include "homeserver/client_api/client_api.h"

namespace herald::homeserver {
namespace {

constexpr std::int64_t kValidityMs = 24LL * 3600 * 1000;

Task<http::Response> get_server_keys(http::Request, ClientApi& api) {
  nlohmann::json body = {{"server_name", api.options.server_name},
                         {"valid_until_ts", api.clock.now_ms() + kValidityMs},
                         {"verify_keys", {{api.signing_key.key_id(), {{"key", api.signing_key.public_key_base64()}}}}},
                         {"old_verify_keys", nlohmann::json::object()}};
  crypto::sign_json(body, api.options.server_name, api.signing_key);
  co_return http::Response::json(200, body);
}

}  // namespace

void add_key_routes(http::Router& router, ClientApi& api) {
  router.add(http::Method::get, "/_matrix/key/v2/server", bind_handler(get_server_keys, api));
  router.add(http::Method::get, "/_matrix/key/v2/server/{keyId}", bind_handler(get_server_keys, api));
}

}  // namespace herald::homeserver
