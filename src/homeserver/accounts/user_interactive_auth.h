#pragma once
// User-interactive authentication sessions (client-server.md §2): today the only stage offered is
// m.login.dummy, which completes as soon as the client presents it.
#include <cstdint>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <unordered_map>

namespace herald {
class Clock;
}

namespace herald::homeserver {

class UserInteractiveAuth {
 public:
  explicit UserInteractiveAuth(const Clock& clock) : clock_(clock) {}

  // The 401 body for a request without (or with incomplete) auth: flows, params, session.
  nlohmann::json challenge(const std::string& session) const;
  std::string new_session();
  // Checks the request's `auth` dict. Returns an empty string when authentication is complete;
  // otherwise the session ID to challenge with. Throws MatrixError for an unknown stage or session.
  // Changes nothing: a request refused after this (a rate limit, say) can be retried with the same session.
  std::string check(const nlohmann::json* auth);
  // Ends the session of a completed `auth` once the request it authorised has succeeded.
  void complete(const nlohmann::json* auth);

 private:
  const Clock& clock_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::int64_t> sessions_;  // session -> created (ms)
};

}  // namespace herald::homeserver
