#pragma once
// User-interactive authentication sessions (client-server.md §2). Registration offers m.login.dummy, which
// completes as soon as the client presents it. Requests by a signed-in user that need fresh proof (deleting
// devices) offer m.login.password for that user: the session is bound to the user, a wrong password answers
// 401 M_FORBIDDEN with the flows, and failed attempts count against the user's `login` rate limit.
#include <cstdint>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/ids.h"
#include "core/task.h"

namespace herald {
class Clock;
class RateLimiter;
}  // namespace herald

namespace herald::homeserver {

class AccountService;

class UserInteractiveAuth {
 public:
  UserInteractiveAuth(const Clock& clock, AccountService& accounts, RateLimiter& limiter)
      : clock_(clock), accounts_(accounts), limiter_(limiter) {}

  // Registration ---------------------------------------------------------------------------------
  // The 401 body for a request without (or with incomplete) auth: flows, params, session.
  nlohmann::json challenge(const std::string& session) const;
  std::string new_session();
  // Checks the request's `auth` dict. Returns an empty string when authentication is complete;
  // otherwise the session ID to challenge with. Throws MatrixError for an unknown stage or session.
  // Changes nothing: a request refused after this (a rate limit, say) can be retried with the same session.
  std::string check(const nlohmann::json* auth);

  // A signed-in user proving it again with the password stage ----------------------------------------
  // nullopt when `auth` completes the m.login.password stage for `user` (or names a session that did);
  // otherwise the 401 body to answer with: flows, params, session, completed, and for a wrong password
  // errcode M_FORBIDDEN. Throws 400 for an unknown stage or session, 429 after too many wrong passwords.
  Task<std::optional<nlohmann::json>> require_password(UserId user, std::optional<nlohmann::json> auth);

  // Ends the session of a completed `auth` once the request it authorised has succeeded.
  void complete(const nlohmann::json* auth);

 private:
  struct Session {
    std::int64_t created_ms = 0;
    std::string user_id;                 // empty for registration
    std::vector<std::string> completed;  // stage types
  };
  std::string new_session_for(std::string user_id);
  nlohmann::json password_challenge(const std::string& session, const std::vector<std::string>& completed) const;

  const Clock& clock_;
  AccountService& accounts_;
  RateLimiter& limiter_;
  std::mutex mutex_;
  std::unordered_map<std::string, Session> sessions_;
};

}  // namespace herald::homeserver
