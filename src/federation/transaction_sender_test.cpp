#include "federation/transaction_sender.h"

#include <gtest/gtest.h>

#include <deque>
#include <functional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "crypto/signing_key.h"
#include "federation/federation_client.h"
#include "federation/outbound_queue.h"
#include "federation/retry_backoff.h"
#include "federation/server_discovery.h"
#include "federation/test_fakes.h"
#include "http/client.h"
#include "http/metrics.h"

namespace herald::federation {
namespace {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

TEST(RetryBackoff, StartsAtMinDoublesAndStopsAtMax) {
  RetryBackoff b({.min = milliseconds(5000), .multiplier = 2.0, .max = milliseconds(30000)});
  EXPECT_EQ(b.failed(0.5), milliseconds(5000));  // 0.5: no jitter
  EXPECT_EQ(b.failed(0.5), milliseconds(10000));
  EXPECT_EQ(b.failed(0.5), milliseconds(20000));
  EXPECT_EQ(b.failed(0.5), milliseconds(30000));
  EXPECT_EQ(b.failed(0.5), milliseconds(30000));
  EXPECT_EQ(b.failures(), 5u);
  // Jitter is ±20% of the interval.
  EXPECT_EQ(b.failed(0.0), milliseconds(24000));
  EXPECT_EQ(b.failed(0.999999), milliseconds(35999));
  b.succeeded();
  EXPECT_EQ(b.failures(), 0u);
  EXPECT_EQ(b.failed(0.5), milliseconds(5000));
}

// In memory, as the homeserver's table behaves.
class MemoryQueue final : public OutboundQueue {
 public:
  std::map<std::string, std::deque<QueuedPdu>> rows;
  std::int64_t next_id = 1;
  void add(const std::string& dest, const std::string& event_id) {
    rows[dest].push_back({next_id++, event_id, nlohmann::json{{"type", "m.room.message"}, {"n", event_id}}.dump()});
  }
  Task<QueueBatch> oldest(std::string destination, std::size_t limit) override {
    QueueBatch b;
    auto& q = rows[destination];
    for (std::size_t i = 0; i < q.size() && i < limit; ++i) b.pdus.push_back(q[i]);
    b.queued = static_cast<std::int64_t>(q.size());
    co_return b;
  }
  Task<void> remove(std::string destination, std::vector<std::int64_t> ids) override {
    auto& q = rows[destination];
    std::erase_if(q, [&](const QueuedPdu& p) { return std::find(ids.begin(), ids.end(), p.id) != ids.end(); });
    co_return;
  }
  Task<std::int64_t> keep_newest(std::string destination, std::size_t keep) override {
    auto& q = rows[destination];
    std::int64_t dropped = 0;
    while (q.size() > keep) {
      q.pop_front();
      ++dropped;
    }
    co_return dropped;
  }
  Task<std::vector<std::pair<std::string, std::int64_t>>> backlog() override {
    std::vector<std::pair<std::string, std::int64_t>> out;
    for (const auto& [d, q] : rows)
      if (!q.empty()) out.emplace_back(d, static_cast<std::int64_t>(q.size()));
    co_return out;
  }
};

// Answers every request with the next status of `statuses` (200 once they run out), recording targets and bodies.
struct Remote {
  explicit Remote(asio::io_context& io) : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io, accept(), asio::detached);
  }
  Task<void> accept() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), asio::detached);
    }
  }
  Task<void> serve(tcp::socket socket) {
    asio::streambuf buffer;
    for (;;) {
      boost::system::error_code ec;
      const std::size_t head_size =
          co_await asio::async_read_until(socket, buffer, "\r\n\r\n", asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      std::string data(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data()));
      const std::string head = data.substr(0, head_size);
      buffer.consume(head_size);
      std::size_t length = 0;
      if (auto at = head.find("Content-Length: "); at != std::string::npos) length = std::stoul(head.substr(at + 16));
      if (buffer.size() < length) {
        co_await asio::async_read(socket, buffer, asio::transfer_exactly(length - buffer.size()),
                                  asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return;
      }
      std::string body(asio::buffers_begin(buffer.data()), asio::buffers_begin(buffer.data()) + static_cast<long>(length));
      buffer.consume(length);
      targets.push_back(head.substr(head.find(' ') + 1, head.find(" HTTP/") - head.find(' ') - 1));
      bodies.push_back(nlohmann::json::parse(body));
      int status = 200;
      if (!statuses.empty()) {
        status = statuses.front();
        statuses.pop_front();
      }
      const std::string payload = status == 200 ? R"({"pdus":{}})" : R"({"errcode":"M_UNKNOWN"})";
      const std::string answer = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\nContent-Length: " +
                                 std::to_string(payload.size()) + "\r\n\r\n" + payload;
      co_await asio::async_write(socket, asio::buffer(answer), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
    }
  }
  tcp::acceptor acceptor;
  std::deque<int> statuses;
  std::vector<std::string> targets;
  std::vector<nlohmann::json> bodies;
};

struct Fixture {
  asio::io_context io;
  Remote remote{io};
  testing::FakeClock clock;
  testing::FakeSrv srv;
  testing::FakeGetter getter;
  ServerDiscovery discovery{getter, srv, clock};
  http::Client http{io, http::IpGuard(http::default_ip_range_blacklist(), {"127.0.0.0/8"})};
  crypto::SigningKey key = crypto::SigningKey::generate("k1");
  FederationClient client{http, discovery, "origin.example", &key,
                          {{"dest.example", "http://127.0.0.1:" + std::to_string(remote.acceptor.local_endpoint().port())}}};
  MemoryQueue queue;
  http::Metrics metrics;
  std::unique_ptr<TransactionSender> sender;

  explicit Fixture(SenderOptions options = {.retry = {.min = milliseconds(10), .multiplier = 2.0, .max = milliseconds(40)}}) {
    sender = std::make_unique<TransactionSender>(io, client, queue, metrics, clock, options);
  }
  // Runs the io_context until `done` or a few seconds have passed.
  bool run_until(const std::function<bool()>& done, milliseconds limit = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.run_for(milliseconds(5));
      if (io.stopped()) io.restart();
    }
    return done();
  }
};

TEST(TransactionSender, SendsTheBacklogOldestFirstInTransactionsOfFifty) {
  Fixture f;
  for (int i = 0; i < 120; ++i) f.queue.add("dest.example", "$e" + std::to_string(i));
  f.sender->start();
  ASSERT_TRUE(f.run_until([&] { return f.queue.rows["dest.example"].empty(); }));
  ASSERT_EQ(f.remote.bodies.size(), 3u);
  EXPECT_EQ(f.remote.bodies[0]["pdus"].size(), 50u);
  EXPECT_EQ(f.remote.bodies[1]["pdus"].size(), 50u);
  EXPECT_EQ(f.remote.bodies[2]["pdus"].size(), 20u);
  EXPECT_EQ(f.remote.bodies[0]["pdus"][0]["n"], "$e0");
  EXPECT_EQ(f.remote.bodies[2]["pdus"][19]["n"], "$e119");
  EXPECT_EQ(f.remote.bodies[0]["origin"], "origin.example");
  EXPECT_NE(f.remote.targets[0], f.remote.targets[1]);  // unique txn IDs
  EXPECT_EQ(f.remote.targets[0].rfind("/_matrix/federation/v1/send/", 0), 0u);
  EXPECT_EQ(f.metrics.counter("herald_federation_transactions_sent_total", "destination", "dest.example"), 3u);
  EXPECT_EQ(f.metrics.counter("herald_federation_pdus_sent_total", "destination", "dest.example"), 120u);
  EXPECT_NE(f.metrics.render().find("herald_federation_outbound_queue_length{destination=\"dest.example\"} 0"),
            std::string::npos);
}

TEST(TransactionSender, RetriesAFailedTransactionUnderTheSameIdAfterBackingOff) {
  Fixture f;
  f.remote.statuses = {500, 503};
  f.queue.add("dest.example", "$a");
  f.sender->wake({"dest.example"});
  ASSERT_TRUE(f.run_until([&] { return f.queue.rows["dest.example"].empty(); }));
  ASSERT_EQ(f.remote.targets.size(), 3u);
  EXPECT_EQ(f.remote.targets[0], f.remote.targets[1]);
  EXPECT_EQ(f.remote.targets[1], f.remote.targets[2]);
  EXPECT_EQ(f.metrics.counter("herald_federation_send_failures_total", "destination", "dest.example"), 2u);
  EXPECT_EQ(f.metrics.counter("herald_federation_transactions_sent_total", "destination", "dest.example"), 1u);
}

TEST(TransactionSender, ARefusalOtherThan429IsNotRetried) {
  Fixture f;
  f.remote.statuses = {400};
  f.queue.add("dest.example", "$a");
  f.sender->wake({"dest.example"});
  ASSERT_TRUE(f.run_until([&] { return f.queue.rows["dest.example"].empty(); }));
  f.run_until([] { return false; }, milliseconds(300));  // nothing more happens
  EXPECT_EQ(f.remote.targets.size(), 1u);
  EXPECT_EQ(f.metrics.counter("herald_federation_pdus_dropped_total", "reason", "refused"), 1u);
}

TEST(TransactionSender, CatchUpKeepsTheNewestEventsOfAHugeBacklog) {
  Fixture f({.retry = {}, .catch_up_limit = 60});
  for (int i = 0; i < 100; ++i) f.queue.add("dest.example", "$e" + std::to_string(i));
  f.sender->start();
  ASSERT_TRUE(f.run_until([&] { return f.queue.rows["dest.example"].empty(); }));
  ASSERT_EQ(f.remote.bodies.size(), 2u);
  EXPECT_EQ(f.remote.bodies[0]["pdus"][0]["n"], "$e40");
  EXPECT_EQ(f.metrics.counter("herald_federation_pdus_dropped_total", "reason", "catch_up"), 40u);
}

TEST(TransactionSender, EdusTravelWithTheNextTransaction) {
  Fixture f;
  f.sender->queue_edu("dest.example", nlohmann::json{{"edu_type", "m.typing"}, {"content", nlohmann::json::object()}});
  ASSERT_TRUE(f.run_until([&] { return f.remote.bodies.size() == 1; }));
  EXPECT_EQ(f.remote.bodies[0]["edus"].size(), 1u);
  EXPECT_EQ(f.remote.bodies[0]["pdus"].size(), 0u);
}

}  // namespace
}  // namespace herald::federation
