// Server keys (federation.md §3). GET /_matrix/key/v2/server: this server's signing key, self-signed, so
// that other servers (identity servers checking a signed /3pid/unbind, federation peers) can verify our
// requests, and the keys it used before (old_verify_keys, from the old_signing_keys setting). The notary
// endpoints GET /_matrix/key/v2/query/{serverName} and POST /_matrix/key/v2/query: another server's key
// object (fetched, or from the cache when it is down) with our signature added. Served on listeners with
// the federation resource.
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/json_body.h"
#include "core/matrix_error.h"
#include "crypto/signed_json.h"
#include "crypto/signing_key.h"
#include "federation/federation_layer.h"
#include "federation/remote_key_store.h"
#include "federation/server_keys.h"
#include "federation/server_name.h"
#include "homeserver/client_api/client_api.h"

namespace herald::homeserver {
namespace {

constexpr std::int64_t kValidityMs = 24LL * 3600 * 1000;
constexpr std::size_t kMaxQueriedServers = 100;

nlohmann::json own_keys(ClientApi& api) {
  nlohmann::json old_keys = nlohmann::json::object();
  for (const auto& [key_id, old] : api.options.old_verify_keys) {
    if (key_id == api.signing_key.key_id()) continue;  // the key in use is not old
    old_keys[key_id] = {{"key", old.key}, {"expired_ts", old.expired_ts}};
  }
  return federation::own_server_keys(api.options.server_name, api.signing_key, api.clock.now_ms() + kValidityMs,
                                     std::move(old_keys));
}

void require_federation_listener(const http::Request& req) {
  if (!req.listener_serves("federation")) throw MatrixError(Errc::unrecognized, "Unrecognized request", 404);
}

Task<http::Response> get_server_keys(http::Request req, ClientApi& api) {
  require_federation_listener(req);
  co_return http::Response::json(200, own_keys(api));
}

std::int64_t minimum_valid_until(const nlohmann::json& value, std::int64_t now) {
  if (value.is_number_integer()) return value.get<std::int64_t>();
  return now;
}

// The key objects of `server` valid until `minimum`, each with this server's signature added.
Task<std::vector<nlohmann::json>> notarised(ClientApi& api, std::string server, std::int64_t minimum) {
  std::vector<nlohmann::json> out;
  if (server == api.options.server_name) {
    out.push_back(own_keys(api));
    co_return out;
  }
  if (!federation::ServerName::parse(server)) co_return out;
  const std::vector<federation::ServerKeys> found = co_await api.federation.keys().keys_for(server, minimum);
  for (const auto& keys : found) {
    nlohmann::json object = keys.json;
    if (object.contains("signatures") && object["signatures"].is_object()) {
      // Only the origin's signature is passed on, with ours beside it.
      nlohmann::json origin_only = {{server, object["signatures"][server]}};
      object["signatures"] = std::move(origin_only);
    }
    crypto::sign_json(object, api.options.server_name, api.signing_key);
    out.push_back(std::move(object));
  }
  co_return out;
}

Task<http::Response> get_query(http::Request req, ClientApi& api) {
  require_federation_listener(req);
  const std::string server = req.path_param("serverName");
  std::int64_t minimum = api.clock.now_ms();
  if (auto text = req.query_param("minimum_valid_until_ts")) {
    try {
      minimum = std::stoll(*text);
    } catch (const std::exception&) {
      throw MatrixError(Errc::invalid_param, "minimum_valid_until_ts is not an integer");
    }
  }
  std::vector<nlohmann::json> found = co_await notarised(api, server, minimum);
  co_return http::Response::json(200, nlohmann::json{{"server_keys", std::move(found)}});
}

Task<http::Response> post_query(http::Request req, ClientApi& api) {
  require_federation_listener(req);
  const nlohmann::json body = json_body::parse_object(req.body);
  const auto wanted = body.find("server_keys");
  if (wanted == body.end() || !wanted->is_object()) throw MatrixError(Errc::bad_json, "server_keys must be an object");
  if (wanted->size() > kMaxQueriedServers) throw MatrixError(Errc::too_large, "Too many servers in one query", 400);
  const std::int64_t now = api.clock.now_ms();
  nlohmann::json answer = nlohmann::json::array();
  for (const auto& [server, key_ids] : wanted->items()) {
    std::int64_t minimum = now;
    if (key_ids.is_object()) {
      for (const auto& [id, criteria] : key_ids.items()) {
        if (criteria.is_object() && criteria.contains("minimum_valid_until_ts")) {
          minimum = std::max(minimum, minimum_valid_until(criteria["minimum_valid_until_ts"], now));
        }
      }
    }
    std::vector<nlohmann::json> found = co_await notarised(api, server, minimum);
    for (auto& object : found) answer.push_back(std::move(object));
  }
  co_return http::Response::json(200, nlohmann::json{{"server_keys", std::move(answer)}});
}

}  // namespace

void add_key_routes(http::Router& router, ClientApi& api) {
  router.add(http::Method::get, "/_matrix/key/v2/server", bind_handler(get_server_keys, api));
  router.add(http::Method::get, "/_matrix/key/v2/server/{keyId}", bind_handler(get_server_keys, api));
  router.add(http::Method::get, "/_matrix/key/v2/query/{serverName}", bind_handler(get_query, api));
  router.add(http::Method::post, "/_matrix/key/v2/query", bind_handler(post_query, api));
}

}  // namespace herald::homeserver
