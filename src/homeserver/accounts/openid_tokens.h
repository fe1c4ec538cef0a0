#pragma once
// OpenID tokens: a user hands one to another server (an identity server), which checks it with us to
// learn who the user is. Stored as SHA-256 only.
#include <cstdint>
#include <optional>
#include <string>

#include "core/ids.h"
#include "core/task.h"

namespace herald {
class Clock;
namespace storage {
class Database;
}
}  // namespace herald

namespace herald::homeserver {

class OpenIdTokens {
 public:
  static constexpr std::int64_t kLifetimeSeconds = 3600;

  OpenIdTokens(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // A new token for the user, valid for kLifetimeSeconds.
  Task<std::string> issue(UserId user);
  // The user of an unexpired token.
  Task<std::optional<std::string>> user_of(std::string token);

 private:
  storage::Database& db_;
  const Clock& clock_;
};

}  // namespace herald::homeserver
