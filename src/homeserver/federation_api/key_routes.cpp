// GET /_matrix/key/v2/server: this server's signing key, self-signed, so that other servers (identity
// servers checking a signed /3pid/unbind, federation peers) can verify our requests, and the keys it used
// before (old_verify_keys, from the old_signing_keys setting). Served on listeners with the federation resource.
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/matrix_error.h"
#include "crypto/signed_json.h"
#include "crypto/signing_key.h"
#include "homeserver/client_api/client_api.h"

namespace herald::homeserver {
namespace {

constexpr std::int64_t kValidityMs = 24LL * 3600 * 1000;

Task<http::Response> get_server_keys(http::Request req, ClientApi& api) {
  if (!req.listener_serves("federation")) throw MatrixError(Errc::unrecognized, "Unrecognized request", 404);
  nlohmann::json old_keys = nlohmann::json::object();
  for (const auto& [key_id, old] : api.options.old_verify_keys) {
    if (key_id == api.signing_key.key_id()) continue;  // the key in use is not old
    old_keys[key_id] = {{"key", old.key}, {"expired_ts", old.expired_ts}};
  }
  nlohmann::json body = {{"server_name", api.options.server_name},
                         {"valid_until_ts", api.clock.now_ms() + kValidityMs},
                         {"verify_keys", {{api.signing_key.key_id(), {{"key", api.signing_key.public_key_base64()}}}}},
                         {"old_verify_keys", std::move(old_keys)}};
  crypto::sign_json(body, api.options.server_name, api.signing_key);
  co_return http::Response::json(200, body);
}

}  // namespace

void add_key_routes(http::Router& router, ClientApi& api) {
  router.add(http::Method::get, "/_matrix/key/v2/server", bind_handler(get_server_keys, api));
  router.add(http::Method::get, "/_matrix/key/v2/server/{keyId}", bind_handler(get_server_keys, api));
}

}  // namespace herald::homeserver
