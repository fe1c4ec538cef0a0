// store-invite and sign-ed25519.
#include <nlohmann/json.hpp>

#include "identity/accounts/identity_accounts.h"
#include "identity/api/identity_api.h"
#include "identity/context.h"
#include "identity/invites/invite_service.h"

namespace herald::identity {
namespace {

Task<http::Response> post_store_invite(http::Request req, IdentityContext& ctx, ApiVersion version) {
  std::optional<std::string> owner;
  if (version == ApiVersion::v2) owner = co_await authenticate(ctx, req, TermsCheck::required);
  const nlohmann::json params = request_params(req, version);
  const nlohmann::json answer = co_await store_invite(ctx, params, owner, version, req.remote_address);
  co_return http::Response::json(200, answer);
}

Task<http::Response> post_sign_ed25519(http::Request req, IdentityContext& ctx, ApiVersion version) {
  if (version == ApiVersion::v2) co_await authenticate(ctx, req, TermsCheck::required);
  const nlohmann::json params = request_params(req, version);
  const nlohmann::json answer = co_await sign_ed25519(ctx, params);
  co_return http::Response::json(200, answer);
}

}  // namespace

void add_invite_routes(http::Router& router, IdentityContext& ctx) {
  add_identity_route(router, ctx, http::Method::post, "/store-invite", post_store_invite, true);
  add_identity_route(router, ctx, http::Method::post, "/sign-ed25519", post_sign_ed25519, true);
}

}  // namespace herald::identity
