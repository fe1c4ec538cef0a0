// X-Matrix checks against known keys, and the gate every federation endpoint runs first.
#include "homeserver/federation/key_ring_authenticator.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/matrix_error.h"
#include "core/rate_limiter.h"
#include "crypto/random.h"
#include "crypto/request_signature.h"
#include "crypto/signing_key.h"
#include "homeserver/federation/server_key_ring.h"
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

class KeyRingAuthenticatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::init();
    ring_.add("remote.test", remote_.key_id(), remote_.public_key());
  }

  // A request as remote.test signs it: `uri` is what it signs, path and query what we parse.
  http::Request signed_request(http::Method method, const std::string& uri, const std::string& path,
                               std::vector<std::pair<std::string, std::string>> query, std::optional<nlohmann::json> body,
                               const crypto::SigningKey& key, const std::string& destination = "hs.test") {
    http::Request req;
    req.method = method;
    req.path = path;
    req.query = std::move(query);
    if (body) req.body = body->dump();
    const nlohmann::json signing = crypto::request_signing_json(http::name_of(method), uri, "remote.test", "destination",
                                                                destination, body ? &*body : nullptr);
    req.authorization = crypto::x_matrix_header(signing, "remote.test", destination, key);
    return req;
  }

  StaticServerKeyRing ring_;
  FixedClock clock_;
  crypto::SigningKey remote_ = crypto::SigningKey::generate("k1");
  KeyRingAuthenticator auth_{ring_, "hs.test", clock_};
};

TEST_F(KeyRingAuthenticatorTest, AcceptsRequestsSignedWithAKnownKey) {
  const auto get = signed_request(http::Method::get, "/_matrix/federation/v1/state_ids/%21r%3Ahs.test?event_id=%24e",
                                  "/_matrix/federation/v1/state_ids/%21r%3Ahs.test", {{"event_id", "$e"}}, std::nullopt, remote_);
  EXPECT_EQ(auth_.verify(get), "remote.test");
  EXPECT_EQ(run_task(auth_.authenticate(get)), "remote.test");
  const auto put = signed_request(http::Method::put, "/_matrix/federation/v1/send/1", "/_matrix/federation/v1/send/1", {},
                                  nlohmann::json{{"pdus", nlohmann::json::array()}}, remote_);
  EXPECT_EQ(auth_.verify(put), "remote.test");
  // Form-style query encoding ('+' for a space), as Python's urlencode writes it.
  const auto form = signed_request(http::Method::get, "/x?field=a+b", "/x", {{"field", "a b"}}, std::nullopt, remote_);
  EXPECT_EQ(auth_.verify(form), "remote.test");
}

TEST_F(KeyRingAuthenticatorTest, RefusesWithUnauthorized) {
  const nlohmann::json body = {{"pdus", nlohmann::json::array()}};
  const auto good = signed_request(http::Method::put, "/send/1", "/send/1", {}, body, remote_);

  auto no_header = good;
  no_header.authorization.clear();
  EXPECT_EQ(status_of([&] { auth_.verify(no_header); }), 401);
  auto bearer = good;
  bearer.authorization = "Bearer abc";
  EXPECT_EQ(status_of([&] { auth_.verify(bearer); }), 401);

  const crypto::SigningKey impostor = crypto::SigningKey::generate("k1");  // same key ID, other key
  EXPECT_EQ(status_of([&] { auth_.verify(signed_request(http::Method::put, "/send/1", "/send/1", {}, body, impostor)); }), 401);
  const crypto::SigningKey unknown = crypto::SigningKey::generate("k2");
  EXPECT_EQ(status_of([&] { auth_.verify(signed_request(http::Method::put, "/send/1", "/send/1", {}, body, unknown)); }), 401);
  EXPECT_EQ(status_of([&] { auth_.verify(signed_request(http::Method::put, "/send/1", "/send/1", {}, body, remote_, "other.test")); }),
            401)
      << "addressed to another server";

  auto tampered = good;
  tampered.body = nlohmann::json{{"pdus", {1}}}.dump();
  EXPECT_EQ(status_of([&] { auth_.verify(tampered); }), 401);
  auto other_path = good;
  other_path.path = "/send/2";
  EXPECT_EQ(status_of([&] { auth_.verify(other_path); }), 401);
  auto other_method = good;
  other_method.method = http::Method::post;
  EXPECT_EQ(status_of([&] { auth_.verify(other_method); }), 401);
}

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
