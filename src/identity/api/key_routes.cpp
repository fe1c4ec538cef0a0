// The long-term key and the validity checks of long-term and ephemeral keys (no authentication).
#include <nlohmann/json.hpp>

#include "core/matrix_error.h"
#include "crypto/base64.h"
#include "crypto/signing_key.h"
#include "identity/api/identity_api.h"
#include "identity/context.h"
#include "identity/invites/invite_store.h"
#include "identity/keys/ephemeral_key.h"
#include "storage/database.h"

namespace herald::identity {
namespace {

std::string required_query(const http::Request& req, const char* name) {
  auto v = req.query_param(name);
  if (!v) throw MatrixError(Errc::missing_params, std::string("Missing parameters: ") + name);
  return *v;
}

Task<http::Response> get_pubkey(http::Request req, IdentityContext& ctx, ApiVersion) {
  const std::string& key_id = req.path_param("keyId");
  if (key_id != ctx.key.key_id()) throw MatrixError(Errc::not_found, "The public key was not found");
  co_return http::Response::json(200, {{"public_key", crypto::base64_encode(ctx.key.public_key())}});
}

Task<http::Response> get_pubkey_isvalid(http::Request req, IdentityContext& ctx, ApiVersion) {
  const std::string key = required_query(req, "public_key");
  const std::string normalized = normalize_public_key(key);
  const bool valid = !normalized.empty() && normalized == normalize_public_key(crypto::base64_encode(ctx.key.public_key()));
  co_return http::Response::json(200, {{"valid", valid}});
}

Task<http::Response> get_ephemeral_isvalid(http::Request req, IdentityContext& ctx, ApiVersion) {
  const std::string normalized = normalize_public_key(required_query(req, "public_key"));
  bool valid = false;
  if (!normalized.empty()) {
    valid = co_await ctx.db.read([&](storage::sql::Connection& c) { return invite_store::ephemeral_key_exists(c, normalized); });
  }
  co_return http::Response::json(200, {{"valid", valid}});
}

}  // namespace

void add_key_routes(http::Router& router, IdentityContext& ctx) {
  // The static paths first: "isvalid" is not a key ID.
  add_identity_route(router, ctx, http::Method::get, "/pubkey/isvalid", get_pubkey_isvalid, true);
  add_identity_route(router, ctx, http::Method::get, "/pubkey/ephemeral/isvalid", get_ephemeral_isvalid, true);
  add_identity_route(router, ctx, http::Method::get, "/pubkey/{keyId}", get_pubkey, true);
}

}  // namespace herald::identity
