#include "federation/remote_key_store.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "crypto/signed_json.h"
#include "crypto/signing_key.h"
#include "federation/key_fetcher.h"
#include "federation/test_fakes.h"

namespace herald::federation {
namespace {
namespace asio = boost::asio;

// Answers with the keys it holds after a short wait on the io_context (so concurrent callers overlap).
class FakeFetcher final : public KeyFetcher {
 public:
  explicit FakeFetcher(asio::io_context& io) : io_(io) {}
  std::map<std::string, nlohmann::json> objects;
  int calls = 0;
  std::string name() const override { return "fake"; }
  Task<std::vector<ServerKeys>> fetch(std::string server, std::int64_t) override {
    ++calls;
    asio::steady_timer t(io_, std::chrono::milliseconds(20));
    co_await t.async_wait(asio::use_awaitable);
    std::vector<ServerKeys> out;
    if (auto it = objects.find(server); it != objects.end()) {
      auto k = parse_server_keys(it->second, server);
      if (k) out.push_back(std::move(*k));
    }
    co_return out;
  }

 private:
  asio::io_context& io_;
};

class FakePersistence final : public KeyPersistence {
 public:
  std::vector<ServerKeys> saved;
  Task<void> save(ServerKeys keys) override {
    saved.push_back(std::move(keys));
    co_return;
  }
};

template <class T>
T run_on(asio::io_context& io, Task<T> task) {
  auto future = asio::co_spawn(io, std::move(task), asio::use_future);
  io.restart();
  io.run();
  return future.get();
}

struct KeyStoreTest : ::testing::Test {
  asio::io_context io;
  testing::FakeClock clock;
  FakeFetcher fetcher{io};
  FakePersistence persistence;
  StaticServerKeyRing ring;
  RemoteKeyStore store{io, {&fetcher}, clock, &persistence, &ring};
  crypto::SigningKey key = crypto::SigningKey::generate("k1");

  void publish(std::int64_t valid_for_ms) {
    fetcher.objects["them.example"] = own_server_keys("them.example", key, clock.now + valid_for_ms);
  }
  std::optional<std::string> request_key(const std::string& id = "ed25519:k1") {
    return run_on(io, store.request_key("them.example", id));
  }
};

TEST_F(KeyStoreTest, FetchesOnceThenServesFromTheCacheUntilValidUntil) {
  publish(3600 * 1000);
  EXPECT_EQ(request_key(), key.public_key());
  EXPECT_EQ(request_key(), key.public_key());
  EXPECT_EQ(fetcher.calls, 1);
  ASSERT_EQ(persistence.saved.size(), 1u);
  EXPECT_EQ(persistence.saved[0].server_name, "them.example");
  // The event pipeline's ring got the key too.
  EXPECT_EQ(ring.verify_key("them.example", "ed25519:k1", clock.now), key.public_key());

  clock.now += 3600 * 1000;  // expired: refetched
  publish(3600 * 1000);
  EXPECT_EQ(request_key(), key.public_key());
  EXPECT_EQ(fetcher.calls, 2);
}

TEST_F(KeyStoreTest, AnExpiredKeyIsNotUsedForRequestsWhenTheServerIsGone) {
  publish(1000);
  EXPECT_TRUE(request_key());
  clock.now += 2000;
  fetcher.objects.clear();
  EXPECT_FALSE(request_key());
  // Events signed while the key was valid still verify.
  EXPECT_TRUE(store.verify_key("them.example", "ed25519:k1", clock.now - 1500));
  EXPECT_FALSE(store.verify_key("them.example", "ed25519:k1", clock.now));
}

TEST_F(KeyStoreTest, ConcurrentLookupsShareOneFetch) {
  publish(3600 * 1000);
  std::vector<std::future<std::optional<std::string>>> results;
  for (int i = 0; i < 5; ++i) results.push_back(asio::co_spawn(io, store.request_key("them.example", "ed25519:k1"), asio::use_future));
  io.run();
  for (auto& r : results) EXPECT_EQ(r.get(), key.public_key());
  EXPECT_EQ(fetcher.calls, 1);
}

TEST_F(KeyStoreTest, UnknownKeyIdsDoNotRefetchMoreThanOnceAMinute) {
  publish(3600 * 1000);
  EXPECT_TRUE(request_key());
  EXPECT_FALSE(request_key("ed25519:nope"));
  EXPECT_FALSE(request_key("ed25519:nope2"));
  EXPECT_EQ(fetcher.calls, 1);
  clock.now += 61 * 1000;
  EXPECT_FALSE(request_key("ed25519:nope"));
  EXPECT_EQ(fetcher.calls, 2);
}

TEST_F(KeyStoreTest, OldVerifyKeysServeEventsNotRequests) {
  crypto::SigningKey old = crypto::SigningKey::generate("old");
  nlohmann::json object = {{"server_name", "them.example"},
                           {"valid_until_ts", clock.now + 3600 * 1000},
                           {"verify_keys", {{key.key_id(), {{"key", key.public_key_base64()}}}}},
                           {"old_verify_keys", {{old.key_id(), {{"key", old.public_key_base64()}, {"expired_ts", clock.now - 10}}}}}};
  crypto::sign_json(object, "them.example", key);
  auto parsed = parse_server_keys(object, "them.example");
  ASSERT_TRUE(parsed) << parsed.error();
  store.add(*parsed, clock.now);
  EXPECT_EQ(store.verify_key("them.example", old.key_id(), clock.now - 20), old.public_key());
  EXPECT_FALSE(store.verify_key("them.example", old.key_id(), clock.now));
  fetcher.objects["them.example"] = object;
  EXPECT_FALSE(request_key(old.key_id()));
}

TEST_F(KeyStoreTest, KeysForServesTheCacheWhenTheOriginIsDown) {
  publish(1000);
  EXPECT_EQ(run_on(io, store.keys_for("them.example", clock.now)).size(), 1u);
  clock.now += 5000;
  fetcher.objects.clear();
  auto cached = run_on(io, store.keys_for("them.example", clock.now));
  ASSERT_EQ(cached.size(), 1u);
  EXPECT_EQ(fetcher.calls, 2);
  EXPECT_TRUE(run_on(io, store.keys_for("never.example", clock.now)).empty());
}

TEST_F(KeyStoreTest, KeysForKeyIdsKeepTheObjectOfAKeyTheOriginNoLongerPublishes) {
  const std::int64_t expired = clock.now - 24 * 3600 * 1000;
  fetcher.objects["them.example"] = own_server_keys("them.example", key, expired);
  auto found = run_on(io, store.keys_for("them.example", std::map<std::string, std::int64_t>{{"ed25519:k1", 0}}));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].valid_until_ts, expired);
  EXPECT_EQ(fetcher.calls, 1);

  // The origin now publishes k2 only, valid a little longer: the latest object, but not k1's.
  crypto::SigningKey k2 = crypto::SigningKey::generate("k2");
  fetcher.objects["them.example"] = own_server_keys("them.example", k2, expired + 1000);
  found = run_on(io, store.keys_for("them.example", std::map<std::string, std::int64_t>{{"ed25519:k1", clock.now}}));
  EXPECT_EQ(fetcher.calls, 2);  // k1's object was valid until before the minimum
  ASSERT_EQ(found.size(), 1u);
  EXPECT_TRUE(found[0].verify_keys.contains("ed25519:k1"));
  EXPECT_EQ(store.cached("them.example")->valid_until_ts, expired + 1000);

  // A minimum k1's object meets: from the cache.
  found = run_on(io, store.keys_for("them.example", std::map<std::string, std::int64_t>{{"ed25519:k1", expired}}));
  EXPECT_EQ(fetcher.calls, 2);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_TRUE(found[0].verify_keys.contains("ed25519:k1"));

  // Two IDs: each object once; an ID never seen adds nothing.
  found = run_on(io, store.keys_for("them.example", std::map<std::string, std::int64_t>{
                                                        {"ed25519:k1", 0}, {"ed25519:k2", 0}, {"ed25519:nope", 0}}));
  EXPECT_EQ(found.size(), 2u);
}

constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;

TEST_F(KeyStoreTest, EventKeysCountForSevenDaysFromTheFetchAtMost) {
  const std::int64_t fetched = clock.now;
  publish(30 * kDayMs);
  EXPECT_TRUE(request_key());
  // valid_until_ts is 30 days away, but events (room version 5+) may use the key for 7 days from the fetch.
  EXPECT_EQ(store.verify_key("them.example", "ed25519:k1", fetched + 7 * kDayMs), key.public_key());
  EXPECT_FALSE(store.verify_key("them.example", "ed25519:k1", fetched + 7 * kDayMs + 1));
  EXPECT_FALSE(ring.verify_key("them.example", "ed25519:k1", fetched + 8 * kDayMs));
  // Room versions 1-4 ignore valid_until_ts: the pipeline asks at time 0.
  EXPECT_TRUE(ring.verify_key("them.example", "ed25519:k1", 0));
  // Requests are still checked against valid_until_ts.
  clock.now += 8 * kDayMs;
  EXPECT_TRUE(request_key());
  EXPECT_EQ(fetcher.calls, 1);
  // An event of today makes the receiver refetch; the key then counts for 7 days from now.
  run_on(io, store.refetch("them.example"));
  EXPECT_EQ(fetcher.calls, 2);
  EXPECT_TRUE(store.verify_key("them.example", "ed25519:k1", clock.now));
  EXPECT_TRUE(ring.verify_key("them.example", "ed25519:k1", clock.now));
}

TEST_F(KeyStoreTest, AKeyValidUntilBeforeTheEventDoesNotVerifyIt) {
  publish(2 * kDayMs);
  EXPECT_TRUE(request_key());
  EXPECT_TRUE(store.verify_key("them.example", "ed25519:k1", clock.now + 2 * kDayMs));
  EXPECT_FALSE(store.verify_key("them.example", "ed25519:k1", clock.now + 2 * kDayMs + 1));
}

TEST_F(KeyStoreTest, KeysLoadedFromTheDatabaseKeepTheirFetchTime) {
  auto parsed = parse_server_keys(own_server_keys("them.example", key, clock.now + 30 * kDayMs), "them.example");
  ASSERT_TRUE(parsed) << parsed.error();
  store.add(*parsed, clock.now - 6 * kDayMs);
  EXPECT_TRUE(store.verify_key("them.example", "ed25519:k1", clock.now + kDayMs));
  EXPECT_FALSE(store.verify_key("them.example", "ed25519:k1", clock.now + kDayMs + 1));
}

TEST_F(KeyStoreTest, RefetchAsksAtMostOnceAMinute) {
  publish(3600 * 1000);
  run_on(io, store.refetch("them.example"));
  run_on(io, store.refetch("them.example"));
  EXPECT_EQ(fetcher.calls, 1);
  clock.now += 61 * 1000;
  run_on(io, store.refetch("them.example"));
  EXPECT_EQ(fetcher.calls, 2);
}

TEST(NotaryRefetch, WhenToAskTheOriginAgain) {
  const std::int64_t t0 = 1'700'000'000'000;
  const std::int64_t hour = 3600 * 1000;
  // Fresh, valid for a day: served from the cache.
  EXPECT_FALSE(RemoteKeyStore::needs_refetch(t0 + 24 * hour, t0, t0 + hour, t0 + hour));
  // Past half its lifetime.
  EXPECT_TRUE(RemoteKeyStore::needs_refetch(t0 + 24 * hour, t0, t0 + 12 * hour + 1, t0 + 12 * hour + 1));
  // Expires within the hour, though under half its lifetime has passed.
  EXPECT_TRUE(RemoteKeyStore::needs_refetch(t0 + 4 * 24 * hour, t0 + 3 * 24 * hour + 23 * hour + 30 * 60 * 1000,
                                            t0 + 3 * 24 * hour + 23 * hour + 31 * 60 * 1000,
                                            t0 + 3 * 24 * hour + 23 * hour + 31 * 60 * 1000));
  // The asker wants it valid later than it is.
  EXPECT_TRUE(RemoteKeyStore::needs_refetch(t0 + 24 * hour, t0, t0 + hour, t0 + 25 * hour));
  // Valid for a year, fetched 8 days ago: no longer counts for events.
  EXPECT_TRUE(RemoteKeyStore::needs_refetch(t0 + 365 * 24 * hour, t0, t0 + 8 * 24 * hour, t0 + 8 * 24 * hour));
}

TEST_F(KeyStoreTest, TheNotaryRefetchesAnObjectPastHalfItsLifetime) {
  publish(10 * 3600 * 1000);
  EXPECT_EQ(run_on(io, store.keys_for("them.example", clock.now)).size(), 1u);
  clock.now += 4 * 3600 * 1000;
  run_on(io, store.keys_for("them.example", clock.now));
  EXPECT_EQ(fetcher.calls, 1);
  clock.now += 3600 * 1000 + 1;  // past half of 10 h
  publish(10 * 3600 * 1000);
  auto got = run_on(io, store.keys_for("them.example", clock.now));
  EXPECT_EQ(fetcher.calls, 2);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].valid_until_ts, clock.now + 10 * 3600 * 1000);
}

TEST_F(KeyStoreTest, TheNotaryDoesNotServeAnObjectExpiringWithinTheHourWhileTheOriginAnswers) {
  publish(90 * 60 * 1000);
  run_on(io, store.keys_for("them.example", clock.now));
  clock.now += 31 * 60 * 1000;  // expires within the hour, not yet half its lifetime gone
  publish(90 * 60 * 1000);
  auto got = run_on(io, store.keys_for("them.example", clock.now));
  EXPECT_EQ(fetcher.calls, 2);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].valid_until_ts, clock.now + 90 * 60 * 1000);
}

TEST_F(KeyStoreTest, TheNotaryRefetchesForALaterMinimumValidUntil) {
  publish(10 * 3600 * 1000);
  run_on(io, store.keys_for("them.example", clock.now));
  run_on(io, store.keys_for("them.example", clock.now + 9 * 3600 * 1000));
  EXPECT_EQ(fetcher.calls, 1);
  publish(20 * 3600 * 1000);
  auto got = run_on(io, store.keys_for("them.example", clock.now + 11 * 3600 * 1000));
  EXPECT_EQ(fetcher.calls, 2);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].valid_until_ts, clock.now + 20 * 3600 * 1000);
}

// A fetcher whose origin is unreachable.
class FailingFetcher final : public KeyFetcher {
 public:
  std::string name() const override { return "failing"; }
  Task<std::vector<ServerKeys>> fetch(std::string, std::int64_t) override {
    throw std::runtime_error("connection refused");
    co_return std::vector<ServerKeys>{};
  }
};

TEST(NotaryKeysFor, ServesTheLastGoodAnswerWhenTheFetchThrows) {
  asio::io_context io;
  testing::FakeClock clock;
  FailingFetcher failing;
  RemoteKeyStore store{io, {&failing}, clock};
  crypto::SigningKey key = crypto::SigningKey::generate("k1");
  auto parsed = parse_server_keys(own_server_keys("them.example", key, clock.now + 1000), "them.example");
  ASSERT_TRUE(parsed) << parsed.error();
  store.add(*parsed, clock.now - 5000);
  auto got = run_on(io, store.keys_for("them.example", clock.now));
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(run_on(io, store.keys_for("never.example", clock.now)).empty());
}

}  // namespace
}  // namespace herald::federation
