#include "federation/federation_client.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "crypto/signing_key.h"
#include "federation/remote_key_store.h"
#include "federation/request_verifier.h"
#include "federation/server_discovery.h"
#include "federation/test_fakes.h"
#include "core/matrix_error.h"
#include "http/client.h"

namespace herald::federation {
namespace {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Records one request (head and body) and answers 200 {"ok":true}.
struct RecordingListener {
  explicit RecordingListener(asio::io_context& io) : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io, serve(), asio::detached);
  }
  Task<void> serve() {
    boost::system::error_code ec;
    tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    asio::streambuf buffer;
    const std::size_t head_size =
        co_await asio::async_read_until(socket, buffer, "\r\n\r\n", asio::redirect_error(asio::use_awaitable, ec));
    std::string data(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data()));
    head = data.substr(0, head_size);
    std::size_t length = 0;
    if (auto at = head.find("Content-Length: "); at != std::string::npos) length = std::stoul(head.substr(at + 16));
    body = data.substr(head_size);
    if (body.size() < length) {
      std::string rest(length - body.size(), '\0');
      co_await asio::async_read(socket, asio::buffer(rest), asio::redirect_error(asio::use_awaitable, ec));
      body += rest;
    }
    const std::string answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}";
    co_await asio::async_write(socket, asio::buffer(answer), asio::redirect_error(asio::use_awaitable, ec));
  }
  std::string header(const std::string& name) const {
    const auto at = head.find("\r\n" + name + ": ");
    if (at == std::string::npos) return {};
    const auto start = at + 4 + name.size();
    return head.substr(start, head.find("\r\n", start) - start);
  }
  tcp::acceptor acceptor;
  std::string head;
  std::string body;
};

class OneKey final : public RequestKeySource {
 public:
  explicit OneKey(std::string key) : key_(std::move(key)) {}
  Task<std::optional<std::string>> request_key(std::string server, std::string key_id) override {
    if (server != "origin.example" || key_id != "ed25519:c1") co_return std::nullopt;
    co_return key_;
  }

 private:
  std::string key_;
};

template <class T>
T run_on(asio::io_context& io, Task<T> task) {
  auto future = asio::co_spawn(io, std::move(task), asio::use_future);
  while (future.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready) {
    if (io.run_one() == 0) io.restart();  // out of work stops the context; the co_spawned task is queued
  }
  return future.get();
}

TEST(FederationClient, SignsWithTheOriginalServerNamesAndTheVerifierAcceptsIt) {
  asio::io_context io;
  RecordingListener listener(io);
  testing::FakeClock clock;
  testing::FakeSrv srv;
  testing::FakeGetter getter;
  ServerDiscovery discovery(getter, srv, clock);
  http::Client http(io, http::IpGuard(http::default_ip_range_blacklist(), {"127.0.0.0/8"}));
  const crypto::SigningKey key = crypto::SigningKey::generate("c1");
  // The destination is reached through an operator override, but signed as "dest.example".
  FederationClient client(http, discovery, "origin.example", &key,
                          {{"dest.example", "http://127.0.0.1:" + std::to_string(listener.acceptor.local_endpoint().port())}});

  const nlohmann::json answer =
      run_on(io, client.put_json("dest.example", "/_matrix/federation/v1/send/t1?a=b", nlohmann::json{{"pdus", nlohmann::json::array()}}));
  EXPECT_EQ(answer, (nlohmann::json{{"ok", true}}));

  const std::string authorization = listener.header("Authorization");
  EXPECT_NE(authorization.find("origin=\"origin.example\""), std::string::npos) << authorization;
  EXPECT_NE(authorization.find("destination=\"dest.example\""), std::string::npos) << authorization;
  OneKey keys(key.public_key());
  RequestVerifier verifier("dest.example", keys);
  EXPECT_EQ(run_on(io, verifier.verify(http::Method::put, "/_matrix/federation/v1/send/t1?a=b", listener.body, {authorization})),
            "origin.example");
  RequestVerifier elsewhere("other.example", keys);
  EXPECT_THROW(run_on(io, elsewhere.verify(http::Method::put, "/_matrix/federation/v1/send/t1?a=b", listener.body, {authorization})),
               MatrixError);
}

TEST(FederationClient, NoAnswerAndErrorAnswersBecomeFederationErrors) {
  asio::io_context io;
  testing::FakeClock clock;
  testing::FakeSrv srv;
  testing::FakeGetter getter;
  ServerDiscovery discovery(getter, srv, clock);
  http::Client http(io);  // default blacklist: localhost is refused
  FederationClient client(http, discovery, "origin.example", nullptr);
  FederationRequest unsigned_request;
  unsigned_request.destination = "localhost:1";
  unsigned_request.uri = "/_matrix/key/v2/server";
  unsigned_request.sign = false;
  EXPECT_THROW(run_on(io, client.send(unsigned_request)), FederationError);
  EXPECT_THROW(run_on(io, client.get_json("localhost:1", "/x")), FederationError);  // no key to sign with
  EXPECT_THROW(run_on(io, client.get_json("not a name", "/x")), FederationError);
}

}  // namespace
}  // namespace herald::federation
