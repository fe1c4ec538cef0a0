#include "homeserver/federation_api/inbound_authenticator.h"

#include <algorithm>

#include "core/log.h"
#include "core/matrix_error.h"
#include "core/rate_limiter.h"

namespace herald::homeserver {

bool origin_whitelisted(const std::optional<std::vector<std::string>>& whitelist, std::string_view origin) {
  return !whitelist || std::find(whitelist->begin(), whitelist->end(), origin) != whitelist->end();
}

Task<std::string> FederationGate::admit(const http::Request& req) {
  if (req.listener_resources && !req.listener_serves("federation"))
    throw MatrixError(Errc::unrecognized, "Unrecognized request", 404);
  std::string origin;
  try {
    origin = co_await authenticator_.authenticate(req);
  } catch (const MatrixError& e) {
    log::warn("federation request refused route={} address={} status={} reason={} request={}", req.route,
              req.remote_address, e.http_status(), e.message(), req.request_id);
    throw;
  }
  if (!origin_whitelisted(whitelist_, origin)) {
    log::warn("federation request refused route={} origin={} status=403 reason=not in federation_domain_whitelist request={}",
              req.route, origin, req.request_id);
    throw MatrixError(Errc::forbidden, "Federation with this server is not allowed");
  }
  if (auto wait = limiter_.try_take(RateAction::federation, origin)) {
    log::warn("federation request refused route={} origin={} status=429 reason=rate limited retry_after_ms={} request={}",
              req.route, origin, *wait, req.request_id);
    throw MatrixError(Errc::limit_exceeded, "Too many requests").with("retry_after_ms", *wait);
  }
  co_return origin;
}

}  // namespace herald::homeserver
