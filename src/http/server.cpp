#include "http/server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <sys/resource.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <unordered_map>
#include <vector>

#include "core/log.h"
#include "core/matrix_error.h"
#include "http/metrics.h"
#include "http/router.h"

namespace herald::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {
std::atomic<std::uint64_t> g_request_counter{0};

Method method_of(bhttp::verb v) {
  switch (v) {
    case bhttp::verb::get: return Method::get;
    case bhttp::verb::post: return Method::post;
    case bhttp::verb::put: return Method::put;
    case bhttp::verb::delete_: return Method::delete_;
    case bhttp::verb::options: return Method::options;
    case bhttp::verb::head: return Method::head;
    default: return Method::other;
  }
}

struct Connection {
  Connection(tcp::socket socket, std::shared_ptr<const std::vector<std::string>> resources, std::string address)
      : stream(std::move(socket)), resources(std::move(resources)), address(std::move(address)) {}
  beast::tcp_stream stream;
  std::shared_ptr<const std::vector<std::string>> resources;  // of the listener that accepted it
  std::string address;                                        // the peer's IP address
  bool busy = false;
  // Milliseconds on the steady clock after which the sweeper closes the connection; 0 = no deadline.
  // A sweep once a second replaces per-operation timers, which cost a timer update on every read and write.
  std::atomic<std::int64_t> deadline_ms{0};
};

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

struct Server::Impl : std::enable_shared_from_this<Server::Impl> {
  Impl(asio::io_context& io, const Router& router, Metrics& metrics, ServerOptions options)
      : io(io), router(router), metrics(metrics), options(std::move(options)) {
    // Never more connections than descriptors left after the reserve.
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
      const std::size_t usable = limit.rlim_cur > kReservedDescriptors * 2 ? limit.rlim_cur - kReservedDescriptors
                                                                          : limit.rlim_cur / 2;
      max_connections = std::min(this->options.max_connections, usable);
    } else {
      max_connections = this->options.max_connections;
    }
  }

  asio::io_context& io;
  const Router& router;
  Metrics& metrics;
  ServerOptions options;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::vector<std::shared_ptr<const std::vector<std::string>>> acceptor_resources;  // one per acceptor
  mutable std::mutex mutex;
  std::set<std::shared_ptr<Connection>> connections;
  std::unordered_map<std::string, std::size_t> per_address;  // open connections by peer address (mutex held)
  std::size_t max_connections = 0;
  std::atomic<bool> stopping{false};
  // Refusals and accept failures are logged at most once per interval, with a count.
  std::atomic<std::int64_t> last_warning_ms{0};
  std::atomic<std::uint64_t> unlogged_warnings{0};

  void warn_throttled(const std::string& what) {
    const std::int64_t now = steady_ms();
    std::int64_t last = last_warning_ms.load();
    if (now - last < 10'000 || !last_warning_ms.compare_exchange_strong(last, now)) {
      ++unlogged_warnings;
      return;
    }
    log::warn("{} ({} similar in the last interval)", what, unlogged_warnings.exchange(0));
  }

  void add_common_headers(bhttp::response<bhttp::string_body>& out) const {
    out.set(bhttp::field::server, options.server_header);
    out.set(bhttp::field::access_control_allow_origin, "*");
    out.set(bhttp::field::access_control_allow_methods, "GET, HEAD, POST, PUT, DELETE, OPTIONS");
    out.set(bhttp::field::access_control_allow_headers, "X-Requested-With, Content-Type, Authorization, Date");
  }

  bhttp::response<bhttp::string_body> to_beast(Response res, unsigned version, bool keep_alive) const {
    bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(res.status), version};
    add_common_headers(out);
    if (!res.content_type.empty()) out.set(bhttp::field::content_type, res.content_type);
    for (auto& [name, value] : res.headers) out.set(name, value);
    out.keep_alive(keep_alive);
    out.body() = std::move(res.body);
    out.prepare_payload();
    return out;
  }

  asio::awaitable<Response> dispatch(Request& req) {
    if (req.method == Method::options) {
      req.route = "OPTIONS";
      co_return Response::empty(204);
    }
    std::optional<MatrixError> error;
    try {
      const Router::Match match = router.match(req);
      if (!match.handler) {
        req.route = "unmatched";
        if (match.path_known) throw MatrixError(Errc::unrecognized, "Unrecognized request: method not allowed", 405);
        throw MatrixError(Errc::unrecognized, "Unrecognized request", 404);
      }
      Request arg = req;  // handlers own their request; req keeps route and id for the log line
      Response res = co_await (*match.handler)(std::move(arg));
      co_return res;
    } catch (const MatrixError& e) {
      error.emplace(e);
    } catch (const std::exception& e) {
      log::error("request id={} route={} internal error: {}", req.request_id, req.route, e.what());
      error.emplace(Errc::unknown, "Internal server error (request " + req.request_id + ")", 500);
    }
    co_return Response::error(*error);
  }

  // After answering a request whose body is still arriving (413): half-close, so the client reads the
  // answer and then EOF, and read and discard what it still sends, for at most kDrainTime or kDrainBytes.
  // Closing at once would leave its unread bytes in our receive queue, and the kernel answers those with a
  // RST that can destroy the 413 before the client reads it (it then sees EPIPE or ECONNRESET).
  static constexpr std::chrono::milliseconds kDrainTime{10000};
  static constexpr std::size_t kDrainBytes = 64u << 20;

  asio::awaitable<void> drain(Connection& conn) {
    beast::error_code ec;
    conn.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) co_return;
    conn.deadline_ms = steady_ms() + kDrainTime.count();  // the sweeper closes the socket after that
    std::vector<char> scratch(64 * 1024);
    std::size_t total = 0;
    while (total < kDrainBytes && !stopping) {
      const std::size_t n =
          co_await conn.stream.socket().async_read_some(asio::buffer(scratch), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;  // EOF: the client is done (or the deadline closed the socket)
      total += n;
    }
    conn.deadline_ms = 0;
  }

  // Answers a request that cannot be served and will not be read further, then drains and closes.
  asio::awaitable<void> refuse(Connection& conn, MatrixError error, const char* route) {
    const int status = error.http_status();
    auto out = to_beast(Response::error(error), 11, false);
    conn.deadline_ms = steady_ms() + 5000;
    beast::error_code ec;
    co_await bhttp::async_write(conn.stream, out, asio::redirect_error(asio::use_awaitable, ec));
    metrics.record(route, "?", status, 0);
    if (!ec) co_await drain(conn);
  }

  asio::awaitable<void> session(std::shared_ptr<Connection> conn) {
    metrics.connection_opened();
    beast::error_code ec;
    std::string remote = "unknown";
    {
      auto ep = conn->stream.socket().remote_endpoint(ec);
      if (!ec) remote = ep.address().to_string();
    }
    beast::flat_buffer buffer;
    for (;;) {
      if (stopping) break;
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(options.body_limit);
      parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
      conn->deadline_ms = steady_ms() + std::chrono::duration_cast<std::chrono::milliseconds>(options.read_timeout).count();
      co_await bhttp::async_read(conn->stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      conn->deadline_ms = 0;
      if (ec == bhttp::error::body_limit) {
        co_await refuse(*conn, MatrixError(Errc::too_large, "Request body too large"), "too_large");
        break;
      }
      if (ec == bhttp::error::header_limit) {
        co_await refuse(*conn, MatrixError(Errc::too_large, "Request header fields too large", 431), "header_too_large");
        break;
      }
      if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
          ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
        // A malformed request (bad Content-Length, request line, header...): say so, then close.
        co_await refuse(*conn, MatrixError(Errc::unknown, "Malformed HTTP request: " + ec.message(), 400), "bad_request");
        break;
      }
      if (ec) break;  // EOF or timeout: close this connection and nothing else
      if (auto te = parser.get().find(bhttp::field::transfer_encoding); te != parser.get().end()) {
        // Only "chunked" is understood; a body in any other coding cannot be read.
        std::string codings(te->value());
        std::erase_if(codings, [](char c) { return c == ' ' || c == '\t'; });
        std::transform(codings.begin(), codings.end(), codings.begin(), [](unsigned char c) { return std::tolower(c); });
        if (codings != "chunked") {
          co_await refuse(*conn, MatrixError(Errc::unrecognized, "Transfer-Encoding '" + std::string(te->value()) +
                                                                     "' is not supported", 501),
                          "unsupported_transfer_encoding");
          break;
        }
      }
      conn->busy = true;
      const auto started = std::chrono::steady_clock::now();
      auto& msg = parser.get();
      Request req;
      req.method = method_of(msg.method());
      const std::string_view target(msg.target().data(), msg.target().size());
      const auto qmark = target.find('?');
      req.path = std::string(target.substr(0, qmark));
      req.target = std::string(target);
      if (qmark != std::string_view::npos) req.query = parse_query(target.substr(qmark + 1));
      if (auto it = msg.find(bhttp::field::authorization); it != msg.end()) req.authorization = std::string(it->value());
      req.body = std::move(msg.body());
      req.remote_address = remote;
      req.listener_resources = conn->resources;
      req.request_id = "r" + std::to_string(++g_request_counter);
      const bool keep_alive = msg.keep_alive() && !stopping;
      Response res = co_await dispatch(req);
      const int status = res.status;
      auto out = to_beast(std::move(res), msg.version(), keep_alive);
      // Counted before the answer leaves, so a client that has its answer also sees it in /metrics.
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      metrics.record(req.route, name_of(req.method), status, seconds);
      conn->deadline_ms = steady_ms() + std::chrono::duration_cast<std::chrono::milliseconds>(options.read_timeout).count();
      co_await bhttp::async_write(conn->stream, out, asio::redirect_error(asio::use_awaitable, ec));
      conn->deadline_ms = 0;
      conn->busy = false;
      log::info("request id={} method={} route={} status={} ms={:.2f} ip={}", req.request_id, name_of(req.method),
                req.route, status, seconds * 1000, remote);
      if (ec || !keep_alive) break;
    }
    conn->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    conn->stream.close();
    {
      std::lock_guard lock(mutex);
      connections.erase(conn);
      if (auto it = per_address.find(conn->address); it != per_address.end() && --it->second == 0) per_address.erase(it);
    }
    metrics.connection_closed();
  }

  // Closes connections whose read or write deadline has passed.
  asio::awaitable<void> sweep_loop() {
    auto self = shared_from_this();
    asio::steady_timer timer(io);
    while (!stopping) {
      timer.expires_after(std::chrono::milliseconds(500));
      beast::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      const std::int64_t now = steady_ms();
      std::lock_guard lock(mutex);
      for (const auto& conn : connections) {
        const std::int64_t deadline = conn->deadline_ms.load();
        if (deadline != 0 && deadline < now) {
          asio::post(conn->stream.get_executor(), [conn] {
            beast::error_code ignored;
            conn->stream.socket().close(ignored);
          });
        }
      }
    }
  }

  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, std::shared_ptr<const std::vector<std::string>> resources) {
    auto self = shared_from_this();
    for (;;) {
      beast::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(asio::make_strand(io), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) co_return;
        // Out of descriptors (EMFILE/ENFILE) or the like: back off instead of spinning, keep serving the
        // connections already open, and say so once in a while.
        warn_throttled("accept failed: " + ec.message());
        asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(200));
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      if (stopping) co_return;
      socket.set_option(tcp::no_delay(true), ec);
      std::string address = "unknown";
      if (auto ep = socket.remote_endpoint(ec); !ec) address = ep.address().to_string();
      bool admitted = false;
      {
        std::lock_guard lock(mutex);
        if (connections.size() < max_connections && per_address[address] < options.max_connections_per_address) {
          ++per_address[address];
          admitted = true;
        } else if (per_address[address] == 0) {
          per_address.erase(address);
        }
      }
      if (!admitted) {
        warn_throttled("connection refused: over the connection limits (address " + address + ")");
        socket.close(ec);
        continue;
      }
      auto conn = std::make_shared<Connection>(std::move(socket), resources, address);
      {
        std::lock_guard lock(mutex);
        connections.insert(conn);
      }
      auto ex = conn->stream.get_executor();
      asio::co_spawn(ex, session(conn), asio::detached);
    }
  }
};

Server::Server(asio::io_context& io, const Router& router, Metrics& metrics, ServerOptions options)
    : impl_(std::make_shared<Impl>(io, router, metrics, std::move(options))) {}

Server::~Server() = default;

std::uint16_t Server::listen(const std::string& address, std::uint16_t port, std::vector<std::string> resources) {
  const tcp::endpoint endpoint(asio::ip::make_address(address), port);
  auto acceptor = std::make_unique<tcp::acceptor>(asio::make_strand(impl_->io));
  acceptor->open(endpoint.protocol());
  acceptor->set_option(asio::socket_base::reuse_address(true));
  acceptor->bind(endpoint);
  acceptor->listen(asio::socket_base::max_listen_connections);
  const std::uint16_t bound = acceptor->local_endpoint().port();
  impl_->acceptors.push_back(std::move(acceptor));
  impl_->acceptor_resources.push_back(std::make_shared<const std::vector<std::string>>(std::move(resources)));
  return bound;
}

void Server::start() {
  asio::co_spawn(asio::make_strand(impl_->io), impl_->sweep_loop(), asio::detached);
  for (std::size_t i = 0; i < impl_->acceptors.size(); ++i) {
    tcp::acceptor& a = *impl_->acceptors[i];
    asio::co_spawn(a.get_executor(), impl_->accept_loop(a, impl_->acceptor_resources[i]), asio::detached);
  }
}

void Server::stop() {
  impl_->stopping = true;
  for (auto& acceptor : impl_->acceptors) {
    tcp::acceptor& a = *acceptor;
    asio::post(a.get_executor(), [&a] {
      beast::error_code ec;
      a.close(ec);
    });
  }
  std::lock_guard lock(impl_->mutex);
  for (const auto& conn : impl_->connections) {
    // Idle connections are waiting for a request: cancel that read. Busy ones finish their response.
    asio::post(conn->stream.get_executor(), [conn] {
      if (!conn->busy) conn->stream.cancel();
    });
  }
}

std::size_t Server::active_connections() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->connections.size();
}

}  // namespace herald::http
