#include "federation/server_discovery.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <functional>
#include <future>

#include "federation/test_fakes.h"
#include "tests/support/run_task.h"

namespace herald::federation {
namespace {

using herald::testing::run_task;
using testing::FakeClock;
using testing::FakeGetter;
using testing::FakeSrv;

constexpr const char* kWellKnown = "https://example.org/.well-known/matrix/server";

struct DiscoveryTest : ::testing::Test {
  FakeClock clock;
  FakeSrv srv;
  FakeGetter getter;
  ServerDiscovery discovery{getter, srv, clock};

  Destination resolve(const std::string& name) { return run_task(discovery.resolve(name)); }
};

void expect(const Destination& d, const std::string& host, int port, const std::string& host_header,
            const std::string& tls_name) {
  EXPECT_EQ(d.connect_host, host);
  EXPECT_EQ(d.port, port);
  EXPECT_EQ(d.host_header, host_header);
  EXPECT_EQ(d.tls_name, tls_name);
}

TEST_F(DiscoveryTest, IpLiteralsAreUsedAsTheyAreWithoutLookups) {
  expect(resolve("1.2.3.4"), "1.2.3.4", 8448, "1.2.3.4", "1.2.3.4");
  expect(resolve("[::1]:8000"), "::1", 8000, "[::1]:8000", "::1");
  EXPECT_TRUE(getter.asked.empty());
  EXPECT_TRUE(srv.asked.empty());
}

TEST_F(DiscoveryTest, AnExplicitPortSkipsWellKnownAndSrv) {
  expect(resolve("example.org:8000"), "example.org", 8000, "example.org:8000", "example.org");
  EXPECT_TRUE(getter.asked.empty());
  EXPECT_TRUE(srv.asked.empty());
}

TEST_F(DiscoveryTest, DelegationToAnIpOrAPortIsUsedDirectly) {
  getter.answers[kWellKnown] = FakeGetter::json(R"({"m.server":"matrix.example.net:443"})");
  srv.records["_matrix-fed._tcp.example.org"] = {{10, 0, 9999, "ignored.example.org"}};
  expect(resolve("example.org"), "matrix.example.net", 443, "matrix.example.net:443", "matrix.example.net");
  EXPECT_TRUE(srv.asked.empty());

  getter.answers["https://ip.org/.well-known/matrix/server"] = FakeGetter::json(R"({"m.server":"[2001:db8::1]"})");
  expect(resolve("ip.org"), "2001:db8::1", 8448, "[2001:db8::1]", "2001:db8::1");
}

TEST_F(DiscoveryTest, DelegatedHostnameUsesItsSrvRecordsThenTheDeprecatedOnesThen8448) {
  getter.answers[kWellKnown] = FakeGetter::json(R"({"m.server":"matrix.example.net"})");
  srv.records["_matrix-fed._tcp.matrix.example.net"] = {{20, 0, 1111, "slow.example.net"},
                                                         {10, 5, 2222, "fast.example.net"}};
  srv.records["_matrix._tcp.matrix.example.net"] = {{0, 0, 3333, "old.example.net"}};
  expect(resolve("example.org"), "fast.example.net", 2222, "matrix.example.net", "matrix.example.net");

  srv.records.erase("_matrix-fed._tcp.matrix.example.net");
  expect(resolve("example.org"), "old.example.net", 3333, "matrix.example.net", "matrix.example.net");

  srv.records.clear();
  expect(resolve("example.org"), "matrix.example.net", 8448, "matrix.example.net", "matrix.example.net");
  // The name's own SRV records are not consulted once a delegation exists.
  for (const auto& asked : srv.asked) EXPECT_NE(asked.find("matrix.example.net"), std::string::npos) << asked;
}

TEST_F(DiscoveryTest, WithoutWellKnownTheNamesSrvRecordsThenPort8448) {
  srv.records["_matrix-fed._tcp.example.org"] = {{0, 0, 8443, "fed.example.org"}};
  expect(resolve("example.org"), "fed.example.org", 8443, "example.org", "example.org");

  FakeGetter getter2;
  FakeSrv srv2;
  srv2.records["_matrix._tcp.example.org"] = {{0, 0, 7000, "legacy.example.org"}};
  ServerDiscovery d2{getter2, srv2, clock};
  expect(run_task(d2.resolve("example.org")), "legacy.example.org", 7000, "example.org", "example.org");
  EXPECT_EQ(srv2.asked, (std::vector<std::string>{"_matrix-fed._tcp.example.org", "_matrix._tcp.example.org"}));

  FakeGetter getter3;
  FakeSrv srv3;
  srv3.records["_matrix-fed._tcp.example.org"] = {{0, 0, 0, ""}};  // "." : service absent
  ServerDiscovery d3{getter3, srv3, clock};
  expect(run_task(d3.resolve("example.org")), "example.org", 8448, "example.org", "example.org");
}

TEST_F(DiscoveryTest, InvalidWellKnownAnswersFallThrough) {
  for (const char* body : {"not json", "[]", R"({"m.server": 5})", R"({"m.server":"bad name!"})", R"({})"}) {
    FakeGetter g;
    FakeSrv s;
    g.answers[kWellKnown] = FakeGetter::json(body);
    ServerDiscovery d{g, s, clock};
    expect(run_task(d.resolve("example.org")), "example.org", 8448, "example.org", "example.org");
  }
}

TEST_F(DiscoveryTest, RedirectsAreFollowedButNotInLoops) {
  getter.answers[kWellKnown] = FakeGetter::redirect("https://www.example.org/wk");
  getter.answers["https://www.example.org/wk"] = FakeGetter::redirect("/wk2");
  getter.answers["https://www.example.org/wk2"] = FakeGetter::json(R"({"m.server":"m.example.org:8449"})");
  expect(resolve("example.org"), "m.example.org", 8449, "m.example.org:8449", "m.example.org");

  FakeGetter loop;
  FakeSrv s;
  loop.answers["https://a.org/.well-known/matrix/server"] = FakeGetter::redirect("https://b.org/x");
  loop.answers["https://b.org/x"] = FakeGetter::redirect("https://a.org/.well-known/matrix/server");
  ServerDiscovery d{loop, s, clock};
  expect(run_task(d.resolve("a.org")), "a.org", 8448, "a.org", "a.org");
  EXPECT_EQ(loop.asked.size(), 2u);

  FakeGetter downgrade;
  downgrade.answers["https://c.org/.well-known/matrix/server"] = FakeGetter::redirect("http://c.org/x");
  ServerDiscovery d2{downgrade, s, clock};
  expect(run_task(d2.resolve("c.org")), "c.org", 8448, "c.org", "c.org");
  EXPECT_EQ(downgrade.asked.size(), 1u);
}

TEST_F(DiscoveryTest, SuccessesAreCachedPerCacheControlWithinBounds) {
  getter.answers[kWellKnown] = FakeGetter::json(R"({"m.server":"a.example.org:1"})", "public, max-age=600");
  resolve("example.org");
  getter.answers[kWellKnown] = FakeGetter::json(R"({"m.server":"b.example.org:2"})");
  clock.now += 599'000;
  EXPECT_EQ(resolve("example.org").connect_host, "a.example.org");
  EXPECT_EQ(getter.asked.size(), 1u);
  clock.now += 2'000;
  EXPECT_EQ(resolve("example.org").connect_host, "b.example.org");  // no Cache-Control now: 24 h
  clock.now += 24LL * 3600 * 1000 - 1000;
  EXPECT_EQ(getter.asked.size(), 2u);
  resolve("example.org");
  EXPECT_EQ(getter.asked.size(), 2u);
  clock.now += 2000;
  resolve("example.org");
  EXPECT_EQ(getter.asked.size(), 3u);

  // A week asked for: 48 h at most.
  getter.answers[kWellKnown] = FakeGetter::json(R"({"m.server":"c.example.org:3"})", "max-age=604800");
  clock.now += 25LL * 3600 * 1000;
  resolve("example.org");
  getter.answers[kWellKnown] = FakeGetter::json(R"({"m.server":"d.example.org:4"})");
  clock.now += 48LL * 3600 * 1000 - 1000;
  EXPECT_EQ(resolve("example.org").connect_host, "c.example.org");
  clock.now += 2000;
  EXPECT_EQ(resolve("example.org").connect_host, "d.example.org");
}

TEST_F(DiscoveryTest, FailuresAreCachedWithExponentialBackOffUpToAnHour) {
  // No answer at all (the fake refuses): cached 2 min, then 4, 8, ... at most 60.
  std::int64_t expected = 2 * 60 * 1000;
  for (int round = 0; round < 8; ++round) {
    const std::size_t before = getter.asked.size();
    resolve("example.org");
    EXPECT_EQ(getter.asked.size(), before + 1) << round;
    clock.now += expected - 1;
    resolve("example.org");
    EXPECT_EQ(getter.asked.size(), before + 1) << round;
    clock.now += 1;
    expected = std::min<std::int64_t>(expected * 2, 3600 * 1000);
  }
  // Success resets the back-off.
  getter.answers[kWellKnown] = FakeGetter::json(R"({"m.server":"m.example.org:1"})");
  EXPECT_EQ(resolve("example.org").connect_host, "m.example.org");

  // A 404 is an answer, not a failure: cached an hour.
  FakeGetter g;
  FakeSrv s;
  http::ClientResponse not_found;
  not_found.status = 404;
  g.answers["https://x.org/.well-known/matrix/server"] = not_found;
  ServerDiscovery d{g, s, clock};
  run_task(d.resolve("x.org"));
  clock.now += 3600 * 1000 - 1;
  run_task(d.resolve("x.org"));
  EXPECT_EQ(g.asked.size(), 1u);
  clock.now += 1;
  run_task(d.resolve("x.org"));
  EXPECT_EQ(g.asked.size(), 2u);
}

TEST_F(DiscoveryTest, RefusesInvalidServerNames) {
  EXPECT_THROW(resolve("bad name"), DiscoveryError);
  EXPECT_THROW(resolve("host:0"), DiscoveryError);
}

TEST(CacheControl, ReadsMaxAgeAndNoStore) {
  EXPECT_EQ(cache_control_max_age("max-age=3600"), 3600);
  EXPECT_EQ(cache_control_max_age("public, Max-Age=60"), 60);
  EXPECT_EQ(cache_control_max_age("no-store"), 0);
  EXPECT_EQ(cache_control_max_age("public"), std::nullopt);
  EXPECT_EQ(cache_control_max_age(""), std::nullopt);
}

TEST(SrvPick, LowestPriorityThenWeightedRandomPerRfc2782) {
  const std::vector<SrvRecord> records = {{20, 100, 1, "backup.example"},
                                          {10, 10, 2, "a.example"},
                                          {10, 0, 3, "zero.example"},
                                          {10, 30, 4, "b.example"}};
  std::uint32_t asked_bound = 0;
  auto pick_with = [&](std::uint32_t value) {
    std::vector<SrvRecord> copy = records;
    const std::function<std::uint32_t(std::uint32_t)> random = [&](std::uint32_t n) {
      asked_bound = n;
      return value;
    };
    return pick_srv_target(copy, random).target;
  };
  // Zero weights first, then running sums 10 (a) and 40 (b) over a number in [0, 40].
  EXPECT_EQ(pick_with(0), "zero.example");
  EXPECT_EQ(asked_bound, 40u);
  EXPECT_EQ(pick_with(1), "a.example");
  EXPECT_EQ(pick_with(10), "a.example");
  EXPECT_EQ(pick_with(11), "b.example");
  EXPECT_EQ(pick_with(40), "b.example");
}

TEST(SrvPick, DiscoveryUsesTheInjectedRandomSource) {
  FakeClock clock;
  FakeSrv srv;
  FakeGetter getter;
  std::uint32_t next = 0;
  DiscoveryOptions options;
  options.random_up_to = [&](std::uint32_t) { return next; };
  ServerDiscovery discovery{getter, srv, clock, options};
  srv.records["_matrix-fed._tcp.example.org"] = {{0, 1, 8001, "one.example.org"}, {0, 3, 8002, "two.example.org"}};
  next = 1;
  EXPECT_EQ(run_task(discovery.resolve("example.org")).connect_host, "one.example.org");
  next = 2;
  EXPECT_EQ(run_task(discovery.resolve("example.org")).connect_host, "two.example.org");
}

TEST_F(DiscoveryTest, SrvTargetsThatAreCnamesAreNotFollowed) {
  srv.records["_matrix-fed._tcp.example.org"] = {{0, 0, 8001, "alias.example.org"}, {5, 0, 8002, "real.example.org"}};
  srv.cnames = {"alias.example.org"};
  expect(resolve("example.org"), "real.example.org", 8002, "example.org", "example.org");
  // With no other record, the next step applies (here: port 8448).
  srv.records["_matrix-fed._tcp.example.org"] = {{0, 0, 8001, "alias.example.org"}};
  expect(resolve("example.org"), "example.org", 8448, "example.org", "example.org");
}

// Answers after a short wait on the caller's executor, so that concurrent discoveries overlap.
class SlowGetter final : public WellKnownGetter {
 public:
  int calls = 0;
  Task<http::ClientResponse> get(std::string) override {
    ++calls;
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, std::chrono::milliseconds(20));
    co_await timer.async_wait(boost::asio::use_awaitable);
    co_return FakeGetter::json(R"({"m.server":"matrix.example.net:443"})");
  }
};

TEST(SharedDiscovery, ConcurrentDiscoveriesOfOneNameShareOneLookup) {
  FakeClock clock;
  FakeSrv srv;
  SlowGetter getter;
  ServerDiscovery discovery{getter, srv, clock};
  boost::asio::io_context io;
  std::vector<std::future<Destination>> results;
  for (int i = 0; i < 5; ++i) results.push_back(boost::asio::co_spawn(io, discovery.resolve("example.org"), boost::asio::use_future));
  results.push_back(boost::asio::co_spawn(io, discovery.resolve("other.org"), boost::asio::use_future));
  io.run();
  for (auto& r : results) EXPECT_EQ(r.get().connect_host, "matrix.example.net");
  EXPECT_EQ(getter.calls, 2);  // example.org once, other.org once
}

}  // namespace
}  // namespace herald::federation
