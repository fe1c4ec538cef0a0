#include "http/client.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>

namespace herald::http {

TEST(Url, ParsesSchemesHostsPortsAndTargets) {
  auto u = Url::parse("http://127.0.0.1:8008/_matrix/x?a=b");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8008);
  EXPECT_EQ(u->target, "/_matrix/x?a=b");
  u = Url::parse("https://matrix.org");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, 443);
  EXPECT_EQ(u->target, "/");
  u = Url::parse("https://[::1]:8448?x=1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 8448);
  EXPECT_EQ(u->target, "/?x=1");
}

TEST(Url, RejectsWhatIsNotAPlainHttpUrl) {
  for (const char* bad : {"ftp://x", "http://", "http://user@host/", "http://host:0/", "http://host:99999/",
                          "http://host:/", "http://ho st/", "file:///etc/passwd", "http://[::1/"}) {
    EXPECT_FALSE(Url::parse(bad)) << bad;
  }
}

namespace {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A loopback HTTP listener that counts the connections it accepted and answers each with 200 {}.
struct CountingListener {
  explicit CountingListener(asio::io_context& io) : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io, serve(), asio::detached);
  }
  std::uint16_t port() const { return acceptor.local_endpoint().port(); }
  Task<void> serve() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      ++accepted;
      asio::streambuf buffer;
      co_await asio::async_read_until(socket, buffer, "\r\n\r\n", asio::redirect_error(asio::use_awaitable, ec));
      const std::string answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
      co_await asio::async_write(socket, asio::buffer(answer), asio::redirect_error(asio::use_awaitable, ec));
    }
  }
  tcp::acceptor acceptor;
  int accepted = 0;
};

ClientResponse send_on(asio::io_context& io, Client& client, ClientRequest req) {
  auto future = asio::co_spawn(io, client.send(std::move(req)), asio::use_future);
  while (future.wait_for(std::chrono::milliseconds(0)) != std::future_status::ready) {
    if (io.run_one() == 0) io.restart();  // out of work stops the context; the co_spawned task is queued
  }
  return future.get();
}

}  // namespace

TEST(ClientIpGuard, RefusesLoopbackWithoutConnecting) {
  asio::io_context io;
  CountingListener listener(io);
  Client client(io);  // the default blacklist
  for (const std::string host : {"127.0.0.1", "localhost"}) {
    ClientRequest req;
    req.url = "http://" + host + ":" + std::to_string(listener.port()) + "/";
    EXPECT_THROW(send_on(io, client, req), AddressRefused) << host;
  }
  // A federation route naming another host but connecting to loopback is guarded the same way.
  ClientRequest routed;
  routed.url = "http://example.org/";
  routed.connect_host = "127.0.0.1";
  routed.connect_port = listener.port();
  EXPECT_THROW(send_on(io, client, routed), AddressRefused);
  io.poll();
  EXPECT_EQ(listener.accepted, 0);
}

TEST(ClientIpGuard, TheWhitelistLetsLoopbackThrough) {
  asio::io_context io;
  CountingListener listener(io);
  Client client(io, IpGuard(default_ip_range_blacklist(), {"127.0.0.0/8"}));
  ClientRequest req;
  req.url = "http://example.invalid/";
  req.connect_host = "127.0.0.1";
  req.connect_port = listener.port();
  req.host_header = "example.invalid:1234";
  const ClientResponse res = send_on(io, client, req);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.header("Content-Type"), "application/json");
  EXPECT_EQ(listener.accepted, 1);
}

TEST(ClientTls, ABadCaFileStopsConstruction) {
  asio::io_context io;
  EXPECT_THROW(Client(io, IpGuard(), ClientTlsOptions{true, {"/nonexistent/ca.pem"}}), std::runtime_error);
}

}  // namespace herald::http
