// Presence: PUT/GET /presence/{userId}/status.
#include <nlohmann/json.hpp>

#include "core/json_body.h"
#include "core/matrix_error.h"
#include "core/rate_limiter.h"
#include "homeserver/client_api/client_api.h"
#include "homeserver/client_api/path_params.h"
#include "homeserver/client_api/request_auth.h"
#include "homeserver/presence/presence_service.h"

namespace herald::homeserver {
namespace {

Task<http::Response> put_presence(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const UserId target = parse_user_id(req.path_param("userId"), "userId");
  if (target != s.user_id) throw MatrixError(Errc::forbidden, "You cannot set the presence of another user");
  const nlohmann::json body = json_body::parse_object(req.body);
  auto state = json_body::optional_string(body, "presence");
  if (!state) throw MatrixError(Errc::bad_json, "Missing 'presence'");
  std::optional<std::string> status_msg = json_body::optional_string(body, "status_msg");
  api.limiter.take_or_throw(RateAction::presence, s.user_id.str());
  co_await api.presence.set(s.user_id, *state, status_msg);
  co_return http::Response::json(200, nlohmann::json::object());
}

Task<http::Response> get_presence(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const UserId target = parse_user_id(req.path_param("userId"), "userId");
  nlohmann::json content = co_await api.presence.get(s.user_id, target);
  co_return http::Response::json(200, content);
}

}  // namespace

void add_presence_routes(http::Router& router, ClientApi& api) {
  using http::Method;
  add_under(router, kClientPrefixesWithV1, Method::put, "/presence/{userId}/status", put_presence, api);
  add_under(router, kClientPrefixesWithV1, Method::get, "/presence/{userId}/status", get_presence, api);
}

}  // namespace herald::homeserver
