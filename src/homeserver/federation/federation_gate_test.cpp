// The gate every federation endpoint runs first (the X-Matrix check itself: federation/request_verifier_test).
#include "homeserver/federation_api/inbound_authenticator.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/matrix_error.h"
#include "core/rate_limiter.h"
#include "tests/support/run_task.h"

namespace herald::homeserver {
using testing::run_task;

namespace {
class FixedClock final : public Clock {
 public:
  std::int64_t now_ms() const override { return 1'700'000'000'000; }
  double monotonic_seconds() const override { return seconds; }
  double seconds = 1.0;
};

class FixedAuthenticator final : public InboundAuthenticator {
 public:
  Task<std::string> authenticate(const http::Request&) override { co_return origin; }
  std::string origin = "remote.test";
};

int status_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const MatrixError& e) {
    return e.http_status();
  }
  return 200;
}
}  // namespace

TEST(FederationGate, WhitelistAndPerOriginRateLimit) {
  FixedAuthenticator authenticator;
  FixedClock clock;
  RateLimitOptions options;
  options.buckets[static_cast<std::size_t>(RateAction::federation)] = {1.0, 2.0};
  RateLimiter limiter(options, clock);
  const http::Request req;

  FederationGate open(authenticator, limiter, std::nullopt);
  EXPECT_EQ(run_task(open.admit(req)), "remote.test");
  EXPECT_EQ(run_task(open.admit(req)), "remote.test");
  EXPECT_EQ(status_of([&] { run_task(open.admit(req)); }), 429) << "the burst of 2 is used up";
  authenticator.origin = "other.test";
  EXPECT_EQ(run_task(open.admit(req)), "other.test") << "each origin has its own bucket";

  FederationGate closed(authenticator, limiter, std::vector<std::string>{"friend.test"});
  EXPECT_EQ(status_of([&] { run_task(closed.admit(req)); }), 403);
  authenticator.origin = "friend.test";
  EXPECT_EQ(run_task(closed.admit(req)), "friend.test");
  EXPECT_TRUE(origin_whitelisted(std::nullopt, "anyone"));
  EXPECT_FALSE(origin_whitelisted(std::vector<std::string>{}, "anyone")) << "an empty whitelist federates with nobody";
}

TEST(FederationGate, OnlyOnListenersServingFederation) {
  FixedAuthenticator authenticator;
  FixedClock clock;
  RateLimiter limiter(RateLimitOptions{}, clock);
  FederationGate gate(authenticator, limiter, std::nullopt);
  http::Request req;
  req.listener_resources = std::make_shared<const std::vector<std::string>>(std::vector<std::string>{"client"});
  EXPECT_EQ(status_of([&] { run_task(gate.admit(req)); }), 404);
}

}  // namespace herald::homeserver
