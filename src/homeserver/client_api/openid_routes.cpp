// OpenID tokens (client-server.md: /user/{userId}/openid/request_token) and their check by other servers
// (/_matrix/federation/v1/openid/userinfo): how a user proves who they are to an identity server.
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/json_body.h"
#include "core/matrix_error.h"
#include "crypto/random.h"
#include "crypto/sha256.h"
#include "homeserver/client_api/client_api.h"
#include "homeserver/client_api/path_params.h"
#include "homeserver/client_api/request_auth.h"
#include "storage/account_store.h"
#include "storage/database.h"

namespace herald::homeserver {
namespace {

constexpr std::int64_t kOpenIdLifetimeSeconds = 3600;

Task<http::Response> post_request_token(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const UserId id = parse_user_id(req.path_param("userId"), "userId");
  if (id != s.user_id) throw MatrixError(Errc::forbidden, "You cannot request an OpenID token for another user");
  json_body::parse_object_or_empty(req.body);
  const std::string token = crypto::random_alnum(43);
  const std::string hash = crypto::sha256_hex(token);
  const std::string user = s.user_id.str();
  const std::int64_t expires = api.clock.now_ms() + kOpenIdLifetimeSeconds * 1000;
  co_await api.db.write([&](storage::sql::Connection& c) { storage::account_store::insert_openid_token(c, hash, user, expires); });
  co_return http::Response::json(200, {{"access_token", token},
                                       {"token_type", "Bearer"},
                                       {"matrix_server_name", api.options.server_name},
                                       {"expires_in", kOpenIdLifetimeSeconds}});
}

Task<http::Response> get_userinfo(http::Request req, ClientApi& api) {
  const auto token = req.query_param("access_token");
  if (!token || token->empty()) throw MatrixError(Errc::missing_token, "Missing access_token");
  const std::string hash = crypto::sha256_hex(*token);
  const std::int64_t now = api.clock.now_ms();
  const auto user = co_await api.db.read([&](storage::sql::Connection& c) {
    return storage::account_store::find_openid_user(c, hash, now);
  });
  if (!user) throw MatrixError(Errc::unknown_token, "Access Token unknown or expired");
  co_return http::Response::json(200, {{"sub", *user}});
}

}  // namespace

void add_openid_routes(http::Router& router, ClientApi& api) {
  add_under(router, kClientPrefixes, http::Method::post, "/user/{userId}/openid/request_token", post_request_token, api);
  router.add(http::Method::get, "/_matrix/federation/v1/openid/userinfo", bind_handler(get_userinfo, api));
}

}  // namespace herald::homeserver
