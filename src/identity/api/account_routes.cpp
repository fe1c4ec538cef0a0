// Status, versions, accounts (OpenID registration, logout) and terms.
#include <nlohmann/json.hpp>

#include "core/json_body.h"
#include "identity/accounts/identity_accounts.h"
#include "identity/api/identity_api.h"
#include "identity/context.h"

namespace herald::identity {
namespace {

Task<http::Response> get_versions(http::Request, IdentityContext&) {
  static const nlohmann::json body = {{"versions", {"r0.1.0", "r0.2.0", "r0.2.1", "r0.3.0", "v1.1", "v1.2", "v1.3",
                                                    "v1.4", "v1.5", "v1.6"}}};
  co_return http::Response::json(200, body);
}

Task<http::Response> get_status(http::Request, IdentityContext&, ApiVersion) {
  co_return http::Response::json(200, nlohmann::json::object());
}

Task<http::Response> post_register(http::Request req, IdentityContext& ctx, ApiVersion) {
  const nlohmann::json body = json_body::parse_object(req.body);
  const std::string token = co_await register_account(ctx, body);
  // Sydent also sends the legacy "access_token" name; clients read either.
  co_return http::Response::json(200, {{"token", token}, {"access_token", token}});
}

Task<http::Response> get_account(http::Request req, IdentityContext& ctx, ApiVersion) {
  const std::string user_id = co_await authenticate(ctx, req, TermsCheck::required);
  co_return http::Response::json(200, {{"user_id", user_id}});
}

Task<http::Response> post_logout(http::Request req, IdentityContext& ctx, ApiVersion) {
  co_await logout(ctx, req);
  co_return http::Response::json(200, nlohmann::json::object());
}

Task<http::Response> get_terms(http::Request, IdentityContext& ctx, ApiVersion) {
  co_return http::Response::json(200, {{"policies", ctx.options.terms_policies}});
}

Task<http::Response> post_terms(http::Request req, IdentityContext& ctx, ApiVersion) {
  const std::string user_id = co_await authenticate(ctx, req, TermsCheck::skip);
  const nlohmann::json body = json_body::parse_object(req.body);
  co_await accept_terms(ctx, user_id, body);
  co_return http::Response::json(200, nlohmann::json::object());
}

}  // namespace

void add_status_and_account_routes(http::Router& router, IdentityContext& ctx) {
  router.add(http::Method::get, "/_matrix/identity/versions", [&ctx](http::Request req) { return get_versions(std::move(req), ctx); });
  router.add(http::Method::get, std::string(kV2), [&ctx](http::Request req) { return get_status(std::move(req), ctx, ApiVersion::v2); });
  router.add(http::Method::get, std::string(kV1), [&ctx](http::Request req) { return get_status(std::move(req), ctx, ApiVersion::v1); });
  add_identity_route(router, ctx, http::Method::post, "/account/register", post_register, false);
  add_identity_route(router, ctx, http::Method::get, "/account", get_account, false);
  add_identity_route(router, ctx, http::Method::post, "/account/logout", post_logout, false);
  add_identity_route(router, ctx, http::Method::get, "/terms", get_terms, false);
  add_identity_route(router, ctx, http::Method::post, "/terms", post_terms, false);
}

}  // namespace herald::identity
