#include "core/rate_limiter.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "core/matrix_error.h"

namespace herald {
namespace {
struct FakeClock final : Clock {
  double t = 1000;
  std::int64_t now_ms() const override { return static_cast<std::int64_t>(t * 1000); }
  double monotonic_seconds() const override { return t; }
};
}  // namespace

TEST(RateLimiter, BurstThenRefill) {
  FakeClock clock;
  RateLimitOptions opts;
  opts.buckets[static_cast<int>(RateAction::login)] = {0.5, 3};
  RateLimiter limiter(opts, clock);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(limiter.try_take(RateAction::login, "1.2.3.4"));
  auto wait = limiter.try_take(RateAction::login, "1.2.3.4");
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 2000);
  EXPECT_FALSE(limiter.try_take(RateAction::login, "5.6.7.8")) << "keys are separate";
  EXPECT_FALSE(limiter.try_take(RateAction::registration, "1.2.3.4")) << "actions are separate";
  clock.t += 2.0;
  EXPECT_FALSE(limiter.try_take(RateAction::login, "1.2.3.4"));
  EXPECT_TRUE(limiter.try_take(RateAction::login, "1.2.3.4"));
}

TEST(RateLimiter, ThrowsLimitExceededWithRetryAfter) {
  FakeClock clock;
  RateLimitOptions opts;
  opts.buckets[static_cast<int>(RateAction::message)] = {1, 1};
  RateLimiter limiter(opts, clock);
  limiter.take_or_throw(RateAction::message, "@a:b");
  try {
    limiter.take_or_throw(RateAction::message, "@a:b");
    FAIL();
  } catch (const MatrixError& e) {
    EXPECT_EQ(e.http_status(), 429);
    ASSERT_EQ(e.extra_json().size(), 1u);
    EXPECT_EQ(e.extra_json()[0].first, "retry_after_ms");
  }
}

TEST(RateLimiter, TakeAllTakesEveryBucketOrNone) {
  FakeClock clock;
  RateLimitOptions opts;
  opts.buckets[static_cast<int>(RateAction::invites_per_room)] = {1, 5};
  opts.buckets[static_cast<int>(RateAction::invites_per_user)] = {1, 1};
  RateLimiter limiter(opts, clock);
  limiter.take_all_or_throw({{RateAction::invites_per_room, "!r"}, {RateAction::invites_per_user, "@u"}});
  // The per-user bucket is empty: refused, and the per-room bucket keeps its tokens.
  EXPECT_THROW(limiter.take_all_or_throw({{RateAction::invites_per_room, "!r"}, {RateAction::invites_per_user, "@u"}}),
               MatrixError);
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(limiter.try_take(RateAction::invites_per_room, "!r")) << i;
  EXPECT_TRUE(limiter.try_take(RateAction::invites_per_room, "!r"));
}

TEST(RateLimiter, TakeAllWithCountsNeedsThemAllAtOnce) {
  FakeClock clock;
  RateLimitOptions opts;
  opts.buckets[static_cast<int>(RateAction::third_party_invite)] = {1, 3};
  RateLimiter limiter(opts, clock);
  const std::vector<RateTake> four{{RateAction::third_party_invite, "@a", 2}, {RateAction::third_party_invite, "@a", 2}};
  EXPECT_THROW(limiter.take_all_or_throw(four), MatrixError) << "4 > burst 3, summed over the same bucket";
  const std::vector<RateTake> three{{RateAction::third_party_invite, "@a", 3}};
  limiter.take_all_or_throw(three);
  EXPECT_TRUE(limiter.try_take(RateAction::third_party_invite, "@a"));
}

TEST(RateLimiter, DisabledLetsEverythingThrough) {
  FakeClock clock;
  RateLimitOptions opts;
  opts.enabled = false;
  RateLimiter limiter(opts, clock);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(limiter.try_take(RateAction::room_creation, "@a:b"));
}

TEST(RateLimiter, ActionNamesRoundTrip) {
  for (std::size_t i = 0; i < kRateActionCount; ++i) {
    const auto a = static_cast<RateAction>(i);
    EXPECT_EQ(rate_action_from_name(name_of(a)), a);
  }
  EXPECT_FALSE(rate_action_from_name("nope"));
}

}  // namespace herald
