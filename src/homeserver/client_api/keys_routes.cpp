// End-to-end encryption: /keys/upload, /keys/query, /keys/claim, /keys/changes,
// /keys/device_signing/upload, /keys/signatures/upload, and PUT /sendToDevice/{eventType}/{txnId}.
#include <nlohmann/json.hpp>

#include "core/json_body.h"
#include "core/matrix_error.h"
#include "core/rate_limiter.h"
#include "homeserver/accounts/user_interactive_auth.h"
#include "homeserver/client_api/client_api.h"
#include "homeserver/client_api/path_params.h"
#include "homeserver/client_api/request_auth.h"
#include "homeserver/e2e/key_service.h"
#include "homeserver/e2e/to_device_service.h"
#include "homeserver/sync/sync_service.h"

namespace herald::homeserver {
namespace {

Task<http::Response> post_upload(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  nlohmann::json body = json_body::parse_object(req.body);
  api.limiter.take_or_throw(RateAction::keys, s.user_id.str());
  nlohmann::json out = co_await api.keys.upload(s.user_id, s.device_id, std::move(body));
  co_return http::Response::json(200, out);
}

Task<http::Response> post_query(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  nlohmann::json body = json_body::parse_object(req.body);
  nlohmann::json out = co_await api.keys.query(s.user_id, std::move(body));
  co_return http::Response::json(200, out);
}

Task<http::Response> post_claim(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  nlohmann::json body = json_body::parse_object(req.body);
  api.limiter.take_or_throw(RateAction::keys, s.user_id.str());
  nlohmann::json out = co_await api.keys.claim(s.user_id, std::move(body));
  co_return http::Response::json(200, out);
}

Task<http::Response> get_changes(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  auto token = [&](const char* name) {
    auto text = req.query_param(name);
    if (!text) throw MatrixError(Errc::missing_param, std::string("Missing '") + name + "'");
    auto parsed = parse_sync_token(*text);
    if (!parsed) throw MatrixError(Errc::invalid_param, std::string("Invalid '") + name + "' token");
    return parsed->events;
  };
  const std::int64_t from = token("from");
  const std::int64_t to = token("to");
  nlohmann::json out = co_await api.keys.changes(s.user_id, from, to);
  co_return http::Response::json(200, out);
}

Task<http::Response> post_device_signing_upload(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  nlohmann::json body = json_body::parse_object(req.body);
  // Replacing existing cross-signing keys needs the user's password (user-interactive auth); the first
  // upload does not.
  std::optional<nlohmann::json> auth;  // a copy: the body itself goes to the service
  if (const nlohmann::json* a = json_body::optional_object(body, "auth")) auth = *a;
  body.erase("auth");
  const bool replacing = co_await api.keys.has_master_key(s.user_id);
  if (replacing) {
    std::optional<nlohmann::json> challenge = co_await api.uia.require_password(s.user_id, auth);
    if (challenge) co_return http::Response::json(401, *challenge);
  }
  api.limiter.take_or_throw(RateAction::keys, s.user_id.str());
  co_await api.keys.upload_cross_signing(s.user_id, std::move(body));
  if (replacing && auth) api.uia.complete(&*auth);
  co_return http::Response::json(200, nlohmann::json::object());
}

Task<http::Response> post_signatures_upload(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  nlohmann::json body = json_body::parse_object(req.body);
  api.limiter.take_or_throw(RateAction::keys, s.user_id.str());
  nlohmann::json out = co_await api.keys.upload_signatures(s.user_id, std::move(body));
  co_return http::Response::json(200, out);
}

Task<http::Response> put_send_to_device(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  nlohmann::json body = json_body::parse_object(req.body);
  api.limiter.take_or_throw(RateAction::to_device, s.user_id.str());
  co_await api.to_device.send(s.user_id, s.device_id, req.path_param("eventType"), req.path_param("txnId"), std::move(body));
  co_return http::Response::json(200, nlohmann::json::object());
}

}  // namespace

void add_keys_routes(http::Router& router, ClientApi& api) {
  using http::Method;
  add_under(router, kClientPrefixes, Method::post, "/keys/upload", post_upload, api);
  add_under(router, kClientPrefixes, Method::post, "/keys/query", post_query, api);
  add_under(router, kClientPrefixes, Method::post, "/keys/claim", post_claim, api);
  add_under(router, kClientPrefixes, Method::get, "/keys/changes", get_changes, api);
  add_under(router, kClientPrefixes, Method::post, "/keys/device_signing/upload", post_device_signing_upload, api);
  add_under(router, kClientPrefixes, Method::post, "/keys/signatures/upload", post_signatures_upload, api);
  add_under(router, kClientPrefixes, Method::put, "/sendToDevice/{eventType}/{txnId}", put_send_to_device, api);
}

}  // namespace herald::homeserver
