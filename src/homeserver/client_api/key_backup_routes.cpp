// Server-side key backup: /room_keys/version[/{version}] and /room_keys/keys[/{roomId}[/{sessionId}]]?version=.
// Writes take from the per-user `key_backup` rate limit.
#include <nlohmann/json.hpp>

#include "core/json_body.h"
#include "core/matrix_error.h"
#include "core/rate_limiter.h"
#include "homeserver/client_api/client_api.h"
#include "homeserver/client_api/request_auth.h"
#include "homeserver/e2e/key_backup_service.h"

namespace herald::homeserver {
namespace {

nlohmann::json version_json(const BackupVersionInfo& v) {
  return {{"algorithm", v.algorithm}, {"auth_data", v.auth_data}, {"count", v.count}, {"etag", v.etag},
          {"version", v.version}};
}

nlohmann::json changed_json(const BackupKeysChanged& c) { return {{"count", c.count}, {"etag", c.etag}}; }

nlohmann::json key_json(const BackedUpKey& k) {
  return {{"first_message_index", k.rank.first_message_index},
          {"forwarded_count", k.rank.forwarded_count},
          {"is_verified", k.rank.is_verified},
          {"session_data", k.session_data}};
}

std::string version_query(const http::Request& req) {
  std::optional<std::string> v = req.query_param("version");
  if (!v) throw MatrixError(Errc::missing_param, "Missing 'version' query parameter");
  return std::move(*v);
}

// The room and session a keys route names (none for /room_keys/keys).
KeyScope scope_of(const http::Request& req) {
  KeyScope scope;
  for (const auto& [name, value] : req.path_params) {
    if (name == "roomId") scope.room_id = checked_room_id(value);
    if (name == "sessionId") scope.session_id = checked_session_id(value);
  }
  return scope;
}

Task<http::Response> post_version(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  NewBackupVersion version = parse_backup_version(json_body::parse_object(req.body));
  api.limiter.take_or_throw(RateAction::key_backup, s.user_id.str());
  const std::string created = co_await api.key_backup.create_version(s.user_id, std::move(version));
  co_return http::Response::json(200, {{"version", created}});
}

Task<http::Response> get_version(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  std::optional<std::string> version;
  for (const auto& [name, value] : req.path_params)
    if (name == "version") version = value;
  const BackupVersionInfo info = co_await api.key_backup.version_info(s.user_id, std::move(version));
  co_return http::Response::json(200, version_json(info));
}

Task<http::Response> put_version(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const std::string version = req.path_param("version");
  const nlohmann::json body = json_body::parse_object(req.body);
  const std::optional<std::string> body_version = json_body::optional_string(body, "version");
  if (body_version && *body_version != version) {
    throw MatrixError(Errc::invalid_param, "'version' in the body does not match the path");
  }
  NewBackupVersion update = parse_backup_version(body);
  api.limiter.take_or_throw(RateAction::key_backup, s.user_id.str());
  co_await api.key_backup.update_version(s.user_id, version, std::move(update));
  co_return http::Response::json(200, nlohmann::json::object());
}

Task<http::Response> delete_version(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  api.limiter.take_or_throw(RateAction::key_backup, s.user_id.str());
  co_await api.key_backup.delete_version(s.user_id, req.path_param("version"));
  co_return http::Response::json(200, nlohmann::json::object());
}

Task<http::Response> put_keys(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  std::string version = version_query(req);
  const KeyScope scope = scope_of(req);
  const nlohmann::json body = json_body::parse_object(req.body);
  std::vector<BackedUpKey> keys;
  if (scope.session_id) {
    keys.push_back(parse_key_backup_data(body, *scope.room_id, *scope.session_id));
  } else if (scope.room_id) {
    keys = parse_room_key_backup(body, *scope.room_id);
  } else {
    keys = parse_key_backup(body);
  }
  api.limiter.take_or_throw(RateAction::key_backup, s.user_id.str());
  const BackupKeysChanged changed = co_await api.key_backup.put_keys(s.user_id, std::move(version), std::move(keys));
  co_return http::Response::json(200, changed_json(changed));
}

Task<http::Response> get_keys(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  std::string version = version_query(req);
  const KeyScope scope = scope_of(req);
  const std::vector<BackedUpKey> keys = co_await api.key_backup.keys(s.user_id, std::move(version), scope);
  if (scope.session_id) co_return http::Response::json(200, key_json(keys.front()));  // keys() refuses none
  nlohmann::json rooms = nlohmann::json::object();
  for (const auto& k : keys) rooms[k.room_id]["sessions"][k.session_id] = key_json(k);
  if (scope.room_id) {
    nlohmann::json sessions = nlohmann::json::object();
    if (auto it = rooms.find(*scope.room_id); it != rooms.end()) sessions = std::move((*it)["sessions"]);
    co_return http::Response::json(200, {{"sessions", std::move(sessions)}});
  }
  co_return http::Response::json(200, {{"rooms", std::move(rooms)}});
}

Task<http::Response> delete_keys(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  std::string version = version_query(req);
  const KeyScope scope = scope_of(req);
  api.limiter.take_or_throw(RateAction::key_backup, s.user_id.str());
  const BackupKeysChanged changed = co_await api.key_backup.delete_keys(s.user_id, std::move(version), scope);
  co_return http::Response::json(200, changed_json(changed));
}

}  // namespace

void add_key_backup_routes(http::Router& router, ClientApi& api) {
  using http::Method;
  add_under(router, kClientPrefixes, Method::post, "/room_keys/version", post_version, api);
  add_under(router, kClientPrefixes, Method::get, "/room_keys/version", get_version, api);
  add_under(router, kClientPrefixes, Method::get, "/room_keys/version/{version}", get_version, api);
  add_under(router, kClientPrefixes, Method::put, "/room_keys/version/{version}", put_version, api);
  add_under(router, kClientPrefixes, Method::delete_, "/room_keys/version/{version}", delete_version, api);
  for (const char* path : {"/room_keys/keys", "/room_keys/keys/{roomId}", "/room_keys/keys/{roomId}/{sessionId}"}) {
    add_under(router, kClientPrefixes, Method::get, path, get_keys, api);
    add_under(router, kClientPrefixes, Method::put, path, put_keys, api);
    add_under(router, kClientPrefixes, Method::delete_, path, delete_keys, api);
  }
}

}  // namespace herald::homeserver
