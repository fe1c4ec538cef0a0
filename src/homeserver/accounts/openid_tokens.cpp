#include "homeserver/accounts/openid_tokens.h"

#include "core/clock.h"
#include "crypto/random.h"
#include "crypto/sha256.h"
#include "storage/account_store.h"
#include "storage/database.h"

namespace herald::homeserver {

Task<std::string> OpenIdTokens::issue(UserId user) {
  std::string token = crypto::random_alnum(43);
  const std::string hash = crypto::sha256_hex(token);
  const std::int64_t expires = clock_.now_ms() + kLifetimeSeconds * 1000;
  co_await db_.write([&](storage::sql::Connection& c) { storage::account_store::insert_openid_token(c, hash, user.str(), expires); });
  co_return token;
}

Task<std::optional<std::string>> OpenIdTokens::user_of(std::string token) {
  const std::string hash = crypto::sha256_hex(token);
  const std::int64_t now = clock_.now_ms();
  co_return co_await db_.read([&](storage::sql::Connection& c) { return storage::account_store::find_openid_user(c, hash, now); });
}

}  // namespace herald::homeserver
