// OpenID tokens (client-server.md: /user/{userId}/openid/request_token) and their check by other servers
// (/_matrix/federation/v1/openid/userinfo): how a user proves who they are to an identity server.
#include <nlohmann/json.hpp>

#include "core/json_body.h"
#include "core/matrix_error.h"
#include "homeserver/accounts/openid_tokens.h"
#include "homeserver/client_api/client_api.h"
#include "homeserver/client_api/path_params.h"
#include "homeserver/client_api/request_auth.h"

namespace herald::homeserver {
namespace {

Task<http::Response> post_request_token(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const UserId id = parse_user_id(req.path_param("userId"), "userId");
  if (id != s.user_id) throw MatrixError(Errc::forbidden, "You cannot request an OpenID token for another user");
  json_body::parse_object_or_empty(req.body);
  const std::string token = co_await api.openid.issue(s.user_id);
  co_return http::Response::json(200, {{"access_token", token},
                                       {"token_type", "Bearer"},
                                       {"matrix_server_name", api.options.server_name},
                                       {"expires_in", OpenIdTokens::kLifetimeSeconds}});
}

Task<http::Response> get_userinfo(http::Request req, ClientApi& api) {
  const auto token = req.query_param("access_token");
  if (!token || token->empty()) throw MatrixError(Errc::missing_token, "Missing access_token");
  const auto user = co_await api.openid.user_of(*token);
  if (!user) throw MatrixError(Errc::unknown_token, "Access Token unknown or expired");
  co_return http::Response::json(200, {{"sub", *user}});
}

}  // namespace

void add_openid_routes(http::Router& router, ClientApi& api) {
  add_under(router, kClientPrefixes, http::Method::post, "/user/{userId}/openid/request_token", post_request_token, api);
  router.add(http::Method::get, "/_matrix/federation/v1/openid/userinfo", bind_handler(get_userinfo, api));
}

}  // namespace herald::homeserver
