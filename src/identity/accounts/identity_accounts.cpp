#include "identity/accounts/identity_accounts.h"

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/ids.h"
#include "core/json_body.h"
#include "core/log.h"
#include "core/strings.h"
#include "core/matrix_error.h"
#include "crypto/random.h"
#include "crypto/sha256.h"
#include "http/client.h"
#include "http/request.h"
#include "identity/accounts/account_store.h"
#include "identity/accounts/terms.h"
#include "identity/context.h"
#include "federation/federation_client.h"
#include "identity/required_params.h"
#include "storage/database.h"

namespace herald::identity {
namespace {

constexpr std::size_t kMaxOpenIdTokenBytes = 1024;

std::optional<std::string> bearer_token(const http::Request& req) {
  constexpr std::string_view kBearer = "Bearer ";
  if (!req.authorization.empty()) {
    if (req.authorization.size() <= kBearer.size() || req.authorization.compare(0, kBearer.size(), kBearer) != 0) {
      throw MatrixError(Errc::unauthorized, "Invalid Authorization header: expected 'Bearer <token>'");
    }
    return req.authorization.substr(kBearer.size());
  }
  // Synapse still sends the token as a query parameter (identity.md §1.1).
  return req.query_param("access_token");
}

}  // namespace

Task<std::string> register_account(IdentityContext& ctx, const nlohmann::json& body) {
  require_params(body, {"access_token", "token_type", "matrix_server_name", "expires_in"});
  const std::string openid_token = json_body::required_string(body, "access_token");
  std::string server_name = json_body::required_string(body, "matrix_server_name");
  if (openid_token.empty() || openid_token.size() > kMaxOpenIdTokenBytes) {
    throw MatrixError(Errc::invalid_param, "access_token has an invalid length");
  }
  for (auto& c : server_name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!is_valid_server_name(server_name)) throw MatrixError(Errc::invalid_param, "matrix_server_name is not a valid server name");

  federation::FederationRequest check;
  check.destination = server_name;
  check.uri = "/_matrix/federation/v1/openid/userinfo?access_token=" + strings::percent_encode(openid_token);
  check.sign = false;
  check.response_limit = 64 * 1024;
  check.timeout = std::chrono::seconds(10);
  http::ClientResponse res;
  try {
    res = co_await ctx.federation.send(std::move(check));
  } catch (const federation::FederationError& e) {
    log::warn("openid check failed server={} error={}", server_name, e.what());
    throw MatrixError(Errc::unknown, "Could not reach the homeserver " + server_name + " to check the OpenID token", 500);
  }
  if (res.status == 401 || res.status == 403 || res.status == 404) {
    throw MatrixError(Errc::unauthorized, "The homeserver did not accept the OpenID token");
  }
  if (res.status != 200) {
    throw MatrixError(Errc::unknown, "The homeserver answered " + std::to_string(res.status) + " to the OpenID check", 500);
  }
  const auto parsed = nlohmann::json::parse(res.body, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("sub") || !parsed["sub"].is_string()) {
    throw MatrixError(Errc::unknown, "The homeserver's OpenID answer has no 'sub'", 500);
  }
  const auto user = UserId::parse(parsed["sub"].get<std::string>());
  if (!user || user->server_name() != server_name) {
    throw MatrixError(Errc::unauthorized, "The homeserver vouched for a user of another server");
  }
  const std::string token = crypto::random_alnum(43);
  const std::string hash = crypto::sha256_hex(token);
  const std::string user_id = user->str();
  const std::int64_t now = ctx.clock.now_ms();
  co_await ctx.db.write([&](storage::sql::Connection& c) { account_store::insert_token(c, user_id, hash, now); });
  log::info("identity account registered user={}", user_id);
  co_return token;
}

Task<std::string> authenticate(IdentityContext& ctx, const http::Request& req, TermsCheck terms) {
  const auto token = bearer_token(req);
  if (!token || token->empty()) throw MatrixError(Errc::unauthorized, "Missing access token");
  const std::string hash = crypto::sha256_hex(*token);
  const bool need_terms = terms == TermsCheck::required && !ctx.options.terms_policies.empty();
  std::optional<std::string> user;
  std::vector<std::string> accepted;
  co_await ctx.db.read([&](storage::sql::Connection& c) {
    user = account_store::user_of_token(c, hash);
    if (user && need_terms) accepted = account_store::accepted_terms(c, *user);
  });
  if (!user) throw MatrixError(Errc::unauthorized, "Unrecognised access token");
  if (need_terms && !terms_accepted(ctx.options.terms_policies, accepted)) {
    throw MatrixError(Errc::terms_not_signed, "Terms of service not signed");
  }
  co_return *user;
}

Task<void> logout(IdentityContext& ctx, const http::Request& req) {
  const auto token = bearer_token(req);
  if (!token || token->empty()) throw MatrixError(Errc::unauthorized, "Missing access token");
  const std::string hash = crypto::sha256_hex(*token);
  const bool removed = co_await ctx.db.write([&](storage::sql::Connection& c) { return account_store::delete_token(c, hash); });
  if (!removed) throw MatrixError(Errc::unauthorized, "Unrecognised access token");
}

Task<void> accept_terms(IdentityContext& ctx, const std::string& user_id, const nlohmann::json& body) {
  const nlohmann::json* list = json_body::optional_array(body, "user_accepts");
  if (!list) throw MatrixError(Errc::missing_params, "Missing parameters: user_accepts");
  const auto known = term_urls(ctx.options.terms_policies);
  std::vector<std::string> urls;
  for (const auto& item : *list) {
    if (!item.is_string()) throw MatrixError(Errc::bad_json, "user_accepts must be a list of URLs");
    const std::string url = item.get<std::string>();
    if (!known.contains(url)) throw MatrixError(Errc::unknown, "Unrecognised terms URL: " + url);
    urls.push_back(url);
  }
  co_await ctx.db.write([&](storage::sql::Connection& c) {
    // The account row may not exist if the token was minted elsewhere; tokens always create it.
    account_store::accept_terms(c, user_id, urls);
  });
}

}  // namespace herald::identity
