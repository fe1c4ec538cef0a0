#pragma once
// Who sent a federation request: the X-Matrix check (federation.md §4) behind an interface, so that the
// endpoints do not care whether the origin's keys were known in advance or fetched (the federation layer's
// request verifier, which replaces the static key ring when it lands).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/task.h"
#include "http/request.h"

namespace herald {
class RateLimiter;
}

namespace herald::homeserver {

class InboundAuthenticator {
 public:
  virtual ~InboundAuthenticator() = default;
  // The origin server name the request is signed by, or 401 M_UNAUTHORIZED (missing or malformed header,
  // destination not this server, unknown key, bad signature). `req` must outlive the await.
  virtual Task<std::string> authenticate(const http::Request& req) = 0;
};

// True when `origin` may federate with this server: no whitelist, or the origin is on it (exact names).
bool origin_whitelisted(const std::optional<std::vector<std::string>>& whitelist, std::string_view origin);

// What every federation endpoint runs first: the federation listener check, authentication, the
// federation_domain_whitelist (403 M_FORBIDDEN) and the per-origin rate limit (429 M_LIMIT_EXCEEDED),
// each refusal with a log line.
class FederationGate {
 public:
  // domain_whitelist: nullopt federates with everyone (the config's `federation_domain_whitelist: null`).
  FederationGate(InboundAuthenticator& authenticator, RateLimiter& limiter,
                 std::optional<std::vector<std::string>> domain_whitelist)
      : authenticator_(authenticator), limiter_(limiter), whitelist_(std::move(domain_whitelist)) {}

  // The authenticated origin. `req` must outlive the await.
  Task<std::string> admit(const http::Request& req);

 private:
  InboundAuthenticator& authenticator_;
  RateLimiter& limiter_;
  std::optional<std::vector<std::string>> whitelist_;
};

}  // namespace herald::homeserver
