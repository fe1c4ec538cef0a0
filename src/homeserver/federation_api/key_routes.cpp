// Server keys (federation.md §3). GET /_matrix/key/v2/server: this server's signing key, self-signed, so
// that other servers (identity servers checking a signed /3pid/unbind, federation peers) can verify our
// requests, and the keys it used before (old_verify_keys, from the old_signing_keys setting). The notary
// endpoints GET /_matrix/key/v2/query/{serverName}[/{keyId}] and POST /_matrix/key/v2/query: another
// server's key objects (fetched, or from the cache when it is down) with our signature added; for a key ID
// asked for, the latest object that listed it, even once the origin no longer publishes it. Served on
// listeners with the federation resource.
#include <map>

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

// A key ID's minimum_valid_until_ts in a POST query: as given (0 included: any age will do), else now.
std::int64_t minimum_valid_until(const nlohmann::json& criteria, std::int64_t now) {
  if (!criteria.is_object()) return now;
  const auto it = criteria.find("minimum_valid_until_ts");
  if (it == criteria.end() || !it->is_number_integer()) return now;
  return it->get<std::int64_t>();
}

// The key objects of `server` (those listing the key IDs of `wanted`, each valid until its minimum, or
// without key IDs the latest one valid until `minimum`), each with this server's signature added.
Task<std::vector<nlohmann::json>> notarised(ClientApi& api, std::string server, std::int64_t minimum,
                                            std::map<std::string, std::int64_t> wanted = {}) {
  std::vector<nlohmann::json> out;
  if (server == api.options.server_name) {
    out.push_back(own_keys(api));
    co_return out;
  }
  if (!federation::ServerName::parse(server)) co_return out;
  std::vector<federation::ServerKeys> found;  // not `c ? co_await a : co_await b`: GCC's code for it crashed
  if (wanted.empty()) {
    found = co_await api.federation.keys().keys_for(server, minimum);
  } else {
    found = co_await api.federation.keys().keys_for(server, std::move(wanted));
  }
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

// GET /_matrix/key/v2/query/{serverName}, and the older /_matrix/key/v2/query/{serverName}/{keyId} (still
// used by Synapse and SyTest): the object listing that key.
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
  std::map<std::string, std::int64_t> wanted;
  for (const auto& [name, value] : req.path_params)
    if (name == "keyId") wanted.emplace(value, minimum);
  std::vector<nlohmann::json> found = co_await notarised(api, server, minimum, std::move(wanted));
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
    // Key ID -> its minimum_valid_until_ts; none named: the server's latest keys, valid now.
    std::map<std::string, std::int64_t> minimum_by_key_id;
    if (key_ids.is_object()) {
      if (key_ids.size() > kMaxQueriedServers) throw MatrixError(Errc::too_large, "Too many key IDs in one query", 400);
      for (const auto& [id, criteria] : key_ids.items()) {
        minimum_by_key_id.emplace(id, minimum_valid_until(criteria, now));
      }
    }
    std::vector<nlohmann::json> found = co_await notarised(api, server, now, std::move(minimum_by_key_id));
    for (auto& object : found) answer.push_back(std::move(object));
  }
  co_return http::Response::json(200, nlohmann::json{{"server_keys", std::move(answer)}});
}

}  // namespace

void add_key_routes(http::Router& router, ClientApi& api) {
  router.add(http::Method::get, "/_matrix/key/v2/server", bind_handler(get_server_keys, api));
  router.add(http::Method::get, "/_matrix/key/v2/server/{keyId}", bind_handler(get_server_keys, api));
  router.add(http::Method::get, "/_matrix/key/v2/query/{serverName}", bind_handler(get_query, api));
  router.add(http::Method::get, "/_matrix/key/v2/query/{serverName}/{keyId}", bind_handler(get_query, api));
  router.add(http::Method::post, "/_matrix/key/v2/query", bind_handler(post_query, api));
}

}  // namespace herald::homeserver
