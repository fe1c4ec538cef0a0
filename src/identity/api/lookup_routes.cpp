// Lookups: v2 hash_details + lookup (authenticated), legacy v1 lookup and bulk_lookup.
#include <nlohmann/json.hpp>

#include "core/json_body.h"
#include "core/matrix_error.h"
#include "identity/accounts/identity_accounts.h"
#include "identity/api/identity_api.h"
#include "identity/associations/association_service.h"
#include "identity/context.h"

namespace herald::identity {
namespace {

Task<http::Response> get_hash_details(http::Request req, IdentityContext& ctx, ApiVersion) {
  co_await authenticate(ctx, req, TermsCheck::required);
  co_return http::Response::json(200, {{"lookup_pepper", ctx.lookup_pepper}, {"algorithms", {"none", "sha256"}}});
}

Task<http::Response> post_lookup(http::Request req, IdentityContext& ctx, ApiVersion) {
  co_await authenticate(ctx, req, TermsCheck::required);
  const nlohmann::json body = json_body::parse_object(req.body);
  const nlohmann::json answer = co_await lookup(ctx, body);
  co_return http::Response::json(200, answer);
}

Task<http::Response> get_lookup_v1(http::Request req, IdentityContext& ctx, ApiVersion) {
  const auto medium = req.query_param("medium");
  const auto address = req.query_param("address");
  if (!medium || !address) throw MatrixError(Errc::missing_params, "Missing parameters: medium, address");
  const nlohmann::json answer = co_await lookup_one(ctx, *medium, *address);
  co_return http::Response::json(200, answer);
}

Task<http::Response> post_bulk_lookup_v1(http::Request req, IdentityContext& ctx, ApiVersion) {
  const nlohmann::json body = json_body::parse_object(req.body);
  const nlohmann::json answer = co_await bulk_lookup(ctx, body);
  co_return http::Response::json(200, answer);
}

}  // namespace

void add_lookup_routes(http::Router& router, IdentityContext& ctx) {
  add_identity_route(router, ctx, http::Method::get, "/hash_details", get_hash_details, false);
  add_identity_route(router, ctx, http::Method::post, "/lookup", post_lookup, false);
  router.add(http::Method::get, std::string(kV1) + "/lookup",
             [&ctx](http::Request req) { return get_lookup_v1(std::move(req), ctx, ApiVersion::v1); });
  router.add(http::Method::post, std::string(kV1) + "/bulk_lookup",
             [&ctx](http::Request req) { return post_bulk_lookup_v1(std::move(req), ctx, ApiVersion::v1); });
}

}  // namespace herald::identity
