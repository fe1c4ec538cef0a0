#include "http/server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <type_traits>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/log.h"
#include "core/matrix_error.h"
#include "http/metrics.h"
#include "http/router.h"

namespace herald::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

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
  Connection(tcp::socket socket, std::shared_ptr<const std::vector<std::string>> resources, std::string address,
             std::shared_ptr<ssl::context> tls_context)
      : executor(socket.get_executor()),
        tls_context(std::move(tls_context)),
        resources(std::move(resources)),
        address(std::move(address)) {
    if (this->tls_context) {
      stream.emplace<TlsStream>(beast::tcp_stream(std::move(socket)), *this->tls_context);
    } else {
      stream.emplace<beast::tcp_stream>(std::move(socket));
    }
  }
  // The TCP layer, under TLS or not: what the sweeper closes and stop() cancels.
  beast::tcp_stream& tcp_layer() {
    if (auto* tls = std::get_if<TlsStream>(&stream)) return tls->next_layer();
    return std::get<beast::tcp_stream>(stream);
  }

  asio::any_io_executor executor;  // the connection's strand
  // The certificate the connection was accepted with; a reload on SIGHUP does not touch open connections.
  std::shared_ptr<ssl::context> tls_context;
  std::variant<std::monostate, beast::tcp_stream, TlsStream> stream;
  std::shared_ptr<const std::vector<std::string>> resources;  // of the listener that accepted it
  std::string address;                                        // the peer's IP address
  bool busy = false;
  // Milliseconds on the steady clock after which the sweeper closes the connection; 0 = no deadline.
  // A sweep once a second replaces per-operation timers, which cost a timer update on every read and write.
  std::atomic<std::int64_t> deadline_ms{0};
};

struct Listener {
  std::unique_ptr<tcp::acceptor> acceptor;
  std::shared_ptr<const std::vector<std::string>> resources;
  bool tls = false;
};

// TLS 1.2 suites with forward secrecy and AEAD (Mozilla's "intermediate" list); TLS 1.3 keeps OpenSSL's.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// The oldest error OpenSSL queued on this thread, as text; clears the queue.
std::string openssl_reason() {
  const unsigned long code = ERR_peek_error();
  std::string out = "unknown OpenSSL error";
  if (code != 0) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    out = text;
  }
  ERR_clear_error();
  return out;
}

void check_readable(TlsFileError::Which which, const std::string& path, const char* what) {
  std::ifstream in(path);
  if (!in) throw TlsFileError(which, path, std::string("cannot read the TLS ") + what + " file '" + path + "': " + std::strerror(errno));
}

// "subject=... serial=... not_after=..." of the certificate in use, for the log.
std::string describe_certificate(SSL_CTX* ctx, bool& expired) {
  X509* cert = SSL_CTX_get0_certificate(ctx);
  expired = false;
  if (!cert) return "none";
  char subject[256] = "";
  X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof subject);
  std::string serial = "?";
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(bn)) {
      serial = hex;
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  std::string not_after = "?";
  if (BIO* bio = BIO_new(BIO_s_mem())) {
    if (ASN1_TIME_print(bio, X509_get0_notAfter(cert)) == 1) {
      char* data = nullptr;
      const long n = BIO_get_mem_data(bio, &data);
      if (n > 0) not_after.assign(data, static_cast<std::size_t>(n));
    }
    BIO_free(bio);
  }
  expired = X509_cmp_current_time(X509_get0_notAfter(cert)) < 0;
  return std::string("subject=") + subject + " serial=" + serial + " not_after=\"" + not_after + "\"";
}

// A server context with the certificate chain and key; throws TlsFileError naming the file at fault.
std::shared_ptr<ssl::context> make_tls_context(const TlsFiles& files) {
  ERR_clear_error();
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    throw std::runtime_error("TLS: no usable cipher suites: " + openssl_reason());
  }
  using Which = TlsFileError::Which;
  check_readable(Which::certificate, files.certificate_chain_path, "certificate");
  if (SSL_CTX_use_certificate_chain_file(native, files.certificate_chain_path.c_str()) != 1) {
    throw TlsFileError(Which::certificate, files.certificate_chain_path,
                       "'" + files.certificate_chain_path + "' is not a usable PEM certificate chain: " + openssl_reason());
  }
  check_readable(Which::private_key, files.private_key_path, "private key");
  EVP_PKEY* key = nullptr;
  if (BIO* bio = BIO_new_file(files.private_key_path.c_str(), "r")) {
    key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
  }
  if (!key) {
    throw TlsFileError(Which::private_key, files.private_key_path,
                       "'" + files.private_key_path + "' is not a usable PEM private key: " + openssl_reason());
  }
  const int used = SSL_CTX_use_PrivateKey(native, key);
  EVP_PKEY_free(key);
  if (used != 1 || SSL_CTX_check_private_key(native) != 1) {
    throw TlsFileError(Which::private_key, files.private_key_path,
                       "the private key in '" + files.private_key_path + "' does not belong to the certificate in '" +
                           files.certificate_chain_path + "': " + openssl_reason());
  }
  return ctx;
}

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
  std::vector<Listener> listeners;
  std::optional<TlsFiles> tls_files;
  std::mutex tls_mutex;
  std::shared_ptr<ssl::context> tls_context;  // what new TLS connections get (tls_mutex held)
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

  template <class Stream>
  asio::awaitable<void> drain(Connection& conn, Stream& stream) {
    beast::error_code ec;
    // Under TLS the half-close is left out: the client has the whole answer with "Connection: close" and
    // closes, which ends the loop below.
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      conn.tcp_layer().socket().shutdown(tcp::socket::shutdown_send, ec);
      if (ec) co_return;
    }
    conn.deadline_ms = steady_ms() + kDrainTime.count();  // the sweeper closes the socket after that
    std::vector<char> scratch(64 * 1024);
    std::size_t total = 0;
    while (total < kDrainBytes && !stopping) {
      const std::size_t n = co_await stream.async_read_some(asio::buffer(scratch), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;  // EOF: the client is done (or the deadline closed the socket)
      total += n;
    }
    conn.deadline_ms = 0;
  }

  // Answers a request that cannot be served and will not be read further, then drains and closes.
  template <class Stream>
  asio::awaitable<void> refuse(Connection& conn, Stream& stream, MatrixError error, const char* route) {
    const int status = error.http_status();
    auto out = to_beast(Response::error(error), 11, false);
    conn.deadline_ms = steady_ms() + 5000;
    beast::error_code ec;
    co_await bhttp::async_write(stream, out, asio::redirect_error(asio::use_awaitable, ec));
    metrics.record(route, "?", status, 0);
    if (!ec) co_await drain(conn, stream);
  }

  // On a TLS listener: waits for the client's first bytes; a TLS ClientHello gets the handshake, anything
  // else (plain HTTP sent to the HTTPS port) a plain-text 400. True when TLS is up.
  asio::awaitable<bool> handshake(Connection& conn, TlsStream& tls, beast::flat_buffer& buffer) {
    beast::error_code ec;
    conn.deadline_ms = steady_ms() + std::chrono::duration_cast<std::chrono::milliseconds>(options.tls_handshake_timeout).count();
    const bool is_tls = co_await beast::async_detect_ssl(tls.next_layer(), buffer, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      conn.deadline_ms = 0;
      co_return false;
    }
    if (!is_tls) {
      co_await refuse(conn, tls.next_layer(),
                      MatrixError(Errc::unknown, "This port speaks HTTPS: send the request over TLS", 400),
                      "plain_http_on_tls_port");
      co_return false;
    }
    const std::size_t used = co_await tls.async_handshake(ssl::stream_base::server, buffer.data(),
                                                          asio::redirect_error(asio::use_awaitable, ec));
    conn.deadline_ms = 0;
    if (ec) {
      log::debug("tls handshake failed ip={} error={}", conn.address, ec.message());
      co_return false;
    }
    buffer.consume(used);
    co_return true;
  }

  asio::awaitable<void> session(std::shared_ptr<Connection> conn) {
    metrics.connection_opened();
    beast::flat_buffer buffer;
    if (auto* tls = std::get_if<TlsStream>(&conn->stream)) {
      if (co_await handshake(*conn, *tls, buffer) && co_await serve(*conn, *tls, buffer)) {
        // We chose to close: say so with a close_notify, but wait for the client's reply only briefly.
        beast::error_code ec;
        conn->deadline_ms = steady_ms() + 2000;
        co_await tls->async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
        conn->deadline_ms = 0;
      }
    } else {
      co_await serve(*conn, std::get<beast::tcp_stream>(conn->stream), buffer);
    }
    beast::error_code ec;
    conn->tcp_layer().socket().shutdown(tcp::socket::shutdown_send, ec);
    conn->tcp_layer().close();
    {
      std::lock_guard lock(mutex);
      connections.erase(conn);
      if (auto it = per_address.find(conn->address); it != per_address.end() && --it->second == 0) per_address.erase(it);
    }
    metrics.connection_closed();
  }

  // Reads and answers requests on one connection until either side closes it. True when it ended because
  // this side chose to (no keep-alive, shutting down) with the stream still healthy.
  template <class Stream>
  asio::awaitable<bool> serve(Connection& conn_ref, Stream& stream, beast::flat_buffer& buffer) {
    Connection* conn = &conn_ref;
    beast::error_code ec;
    const std::string& remote = conn->address;
    for (;;) {
      if (stopping) co_return true;
      bhttp::request_parser<bhttp::string_body> parser;
      // No limit while the header is read (Beast would refuse a large Content-Length right there); the
      // limit of the route the header names is applied below.
      parser.body_limit(boost::none);
      parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
      conn->deadline_ms = steady_ms() + std::chrono::duration_cast<std::chrono::milliseconds>(options.read_timeout).count();
      // The header first: the route it names may take a larger body than the server's default.
      co_await bhttp::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (!ec) {
        const std::string_view target(parser.get().target().data(), parser.get().target().size());
        const std::string_view path = target.substr(0, target.find('?'));
        const std::size_t limit = router.body_limit_for(method_of(parser.get().method()), path).value_or(options.body_limit);
        if (auto length = parser.content_length(); length && *length > limit) ec = bhttp::error::body_limit;
        parser.body_limit(limit);  // a chunked body is counted as it arrives
        if (!ec && !parser.is_done()) {
          co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
        }
      }
      conn->deadline_ms = 0;
      if (ec == bhttp::error::body_limit) {
        co_await refuse(*conn, stream, MatrixError(Errc::too_large, "Request body too large"), "too_large");
        co_return false;
      }
      if (ec == bhttp::error::header_limit) {
        co_await refuse(*conn, stream, MatrixError(Errc::too_large, "Request header fields too large", 431),
                        "header_too_large");
        co_return false;
      }
      if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
          ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
        // A malformed request (bad Content-Length, request line, header...): say so, then close.
        co_await refuse(*conn, stream, MatrixError(Errc::unknown, "Malformed HTTP request: " + ec.message(), 400),
                        "bad_request");
        co_return false;
      }
      if (ec) co_return false;  // EOF or timeout: close this connection and nothing else
      if (auto te = parser.get().find(bhttp::field::transfer_encoding); te != parser.get().end()) {
        // Only "chunked" is understood; a body in any other coding cannot be read.
        std::string codings(te->value());
        std::erase_if(codings, [](char c) { return c == ' ' || c == '\t'; });
        std::transform(codings.begin(), codings.end(), codings.begin(), [](unsigned char c) { return std::tolower(c); });
        if (codings != "chunked") {
          co_await refuse(*conn, stream,
                          MatrixError(Errc::unrecognized, "Transfer-Encoding '" + std::string(te->value()) + "' is not supported",
                                      501),
                          "unsupported_transfer_encoding");
          co_return false;
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
      co_await bhttp::async_write(stream, out, asio::redirect_error(asio::use_awaitable, ec));
      conn->deadline_ms = 0;
      conn->busy = false;
      log::info("request id={} method={} route={} status={} ms={:.2f} ip={}", req.request_id, name_of(req.method),
                req.route, status, seconds * 1000, remote);
      if (ec) co_return false;
      if (!keep_alive) co_return true;
    }
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
          asio::post(conn->executor, [conn] {
            beast::error_code ignored;
            conn->tcp_layer().socket().close(ignored);
          });
        }
      }
    }
  }

  asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, std::shared_ptr<const std::vector<std::string>> resources,
                                    bool tls) {
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
      std::shared_ptr<ssl::context> context;
      if (tls) {
        std::lock_guard lock(tls_mutex);
        context = tls_context;
      }
      auto conn = std::make_shared<Connection>(std::move(socket), resources, address, std::move(context));
      {
        std::lock_guard lock(mutex);
        connections.insert(conn);
      }
      auto ex = conn->executor;
      asio::co_spawn(ex, session(conn), asio::detached);
    }
  }
};

Server::Server(asio::io_context& io, const Router& router, Metrics& metrics, ServerOptions options)
    : impl_(std::make_shared<Impl>(io, router, metrics, std::move(options))) {}

Server::~Server() = default;

void Server::use_tls(TlsFiles files) {
  auto context = make_tls_context(files);
  bool expired = false;
  const std::string description = describe_certificate(context->native_handle(), expired);
  {
    std::lock_guard lock(impl_->tls_mutex);
    impl_->tls_files = std::move(files);
    impl_->tls_context = std::move(context);
  }
  log::info("tls certificate loaded {}", description);
  if (expired) log::warn("tls certificate has expired {}", description);
}

bool Server::reload_tls() {
  TlsFiles files;
  {
    std::lock_guard lock(impl_->tls_mutex);
    if (!impl_->tls_files) return false;
    files = *impl_->tls_files;
  }
  std::shared_ptr<ssl::context> context;
  try {
    context = make_tls_context(files);
  } catch (const std::exception& e) {
    log::error("tls certificate reload failed, still using the previous certificate: {}", e.what());
    return false;
  }
  bool expired = false;
  const std::string description = describe_certificate(context->native_handle(), expired);
  {
    std::lock_guard lock(impl_->tls_mutex);
    impl_->tls_context = std::move(context);
  }
  log::info("tls certificate reloaded {}", description);
  if (expired) log::warn("tls certificate has expired {}", description);
  return true;
}

std::uint16_t Server::listen(const std::string& address, std::uint16_t port, std::vector<std::string> resources, bool tls) {
  if (tls) {
    std::lock_guard lock(impl_->tls_mutex);
    if (!impl_->tls_context) throw std::logic_error("a TLS listener needs a certificate: call use_tls first");
  }
  const tcp::endpoint endpoint(asio::ip::make_address(address), port);
  auto acceptor = std::make_unique<tcp::acceptor>(asio::make_strand(impl_->io));
  acceptor->open(endpoint.protocol());
  acceptor->set_option(asio::socket_base::reuse_address(true));
  acceptor->bind(endpoint);
  acceptor->listen(asio::socket_base::max_listen_connections);
  const std::uint16_t bound = acceptor->local_endpoint().port();
  impl_->listeners.push_back(
      {std::move(acceptor), std::make_shared<const std::vector<std::string>>(std::move(resources)), tls});
  return bound;
}

void Server::start() {
  asio::co_spawn(asio::make_strand(impl_->io), impl_->sweep_loop(), asio::detached);
  for (Listener& l : impl_->listeners) {
    tcp::acceptor& a = *l.acceptor;
    asio::co_spawn(a.get_executor(), impl_->accept_loop(a, l.resources, l.tls), asio::detached);
  }
}

void Server::stop() {
  impl_->stopping = true;
  for (Listener& l : impl_->listeners) {
    tcp::acceptor& a = *l.acceptor;
    asio::post(a.get_executor(), [&a] {
      beast::error_code ec;
      a.close(ec);
    });
  }
  std::lock_guard lock(impl_->mutex);
  for (const auto& conn : impl_->connections) {
    // Idle connections are waiting for a request: cancel that read. Busy ones finish their response.
    asio::post(conn->executor, [conn] {
      if (!conn->busy) conn->tcp_layer().cancel();
    });
  }
}

std::size_t Server::active_connections() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->connections.size();
}

}  // namespace herald::http
