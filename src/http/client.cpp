#include "http/client.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>

namespace herald::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

bhttp::verb verb_of(Method m) {
  switch (m) {
    case Method::get: return bhttp::verb::get;
    case Method::post: return bhttp::verb::post;
    case Method::put: return bhttp::verb::put;
    case Method::delete_: return bhttp::verb::delete_;
    case Method::head: return bhttp::verb::head;
    case Method::options: return bhttp::verb::options;
    case Method::other: break;
  }
  return bhttp::verb::get;
}

template <class Stream>
Task<ClientResponse> exchange(Stream& stream, const ClientRequest& req, const Url& url) {
  bhttp::request<bhttp::string_body> out{verb_of(req.method), url.target, 11};
  const bool default_port = (url.scheme == "http" && url.port == 80) || (url.scheme == "https" && url.port == 443);
  const std::string host = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  if (!req.host_header.empty()) {
    out.set(bhttp::field::host, req.host_header);
  } else {
    out.set(bhttp::field::host, default_port ? host : host + ":" + std::to_string(url.port));
  }
  out.set(bhttp::field::user_agent, std::string("Herald/") + HERALD_VERSION);
  out.set(bhttp::field::connection, "close");
  for (const auto& [k, v] : req.headers) out.set(k, v);
  if (!req.body.empty() || req.method == Method::post || req.method == Method::put) {
    out.set(bhttp::field::content_type, req.content_type);
    out.body() = req.body;
    out.prepare_payload();
  }
  co_await bhttp::async_write(stream, out, asio::use_awaitable);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(req.response_limit);
  co_await bhttp::async_read(stream, buffer, parser, asio::use_awaitable);
  auto& res = parser.get();
  ClientResponse answer;
  answer.status = res.result_int();
  answer.body = std::move(res.body());
  answer.content_type = std::string(res[bhttp::field::content_type]);
  for (const auto& field : res) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    answer.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  co_return answer;
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace

std::string ClientResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < k.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(k[i])) == std::tolower(static_cast<unsigned char>(name[i]));
    if (same) return v;
  }
  return {};
}

std::optional<Url> Url::parse(std::string_view text) {
  Url u;
  std::string_view rest;
  if (text.starts_with("http://")) {
    u.scheme = "http";
    u.port = 80;
    rest = text.substr(7);
  } else if (text.starts_with("https://")) {
    u.scheme = "https";
    u.port = 443;
    rest = text.substr(8);
  } else {
    return std::nullopt;
  }
  const auto slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (u.target.front() == '?') u.target.insert(0, "/");
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  std::string_view port_text;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    u.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return std::nullopt;
      port_text = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.rfind(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (u.host.empty()) return std::nullopt;
  for (char c : u.host)
    if (static_cast<unsigned char>(c) <= ' ' || c == '/' || c == '\\') return std::nullopt;
  if (!port_text.empty() || (authority.back() == ':')) {
    if (port_text.empty() || port_text.size() > 5) return std::nullopt;
    unsigned port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9') return std::nullopt;
      port = port * 10 + static_cast<unsigned>(c - '0');
    }
    if (port == 0 || port > 65535) return std::nullopt;
    u.port = static_cast<std::uint16_t>(port);
  }
  return u;
}

struct Client::Impl {
  Impl(asio::io_context& io, IpGuard guard, ClientTlsOptions options)
      : io(io), guard(std::move(guard)), verify(options.verify_certificates), tls(asio::ssl::context::tls_client) {
    // The system CAs; OpenSSL reads SSL_CERT_FILE and SSL_CERT_DIR from the environment when they are set.
    tls.set_default_verify_paths();
    for (const auto& file : options.extra_ca_files) {
      boost::system::error_code ec;
      tls.load_verify_file(file, ec);
      if (ec) throw std::runtime_error("cannot load the CA file " + file + ": " + ec.message());
    }
    tls.set_verify_mode(verify ? asio::ssl::verify_peer : asio::ssl::verify_none);
  }
  asio::io_context& io;
  const IpGuard guard;
  const bool verify;
  asio::ssl::context tls;

  bool allowed(const asio::ip::address& a) const {
    IpBytes bytes{};
    if (a.is_v4()) {
      const auto v4 = a.to_v4().to_bytes();
      bytes = IpBytes{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, v4[0], v4[1], v4[2], v4[3]};
    } else {
      const auto v6 = a.to_v6().to_bytes();
      std::copy(v6.begin(), v6.end(), bytes.begin());
    }
    return guard.allows(bytes);
  }

  Task<ClientResponse> run(ClientRequest req) {
    const auto url = Url::parse(req.url);
    if (!url) throw ClientError("not an http(s) URL: " + req.url);
    const std::string host = req.connect_host.empty() ? url->host : req.connect_host;
    const std::uint16_t port = req.connect_port == 0 ? url->port : req.connect_port;
    const auto deadline = std::chrono::steady_clock::now() + req.timeout;

    // Resolving has the same deadline as the rest: a timer cancels the lookup.
    tcp::resolver resolver(io);
    asio::steady_timer resolve_timer(io);
    resolve_timer.expires_at(deadline);
    resolve_timer.async_wait([&resolver](boost::system::error_code ec) {
      if (!ec) resolver.cancel();
    });
    boost::system::error_code ec;
    auto results = co_await resolver.async_resolve(host, std::to_string(port),
                                                   asio::redirect_error(asio::use_awaitable, ec));
    resolve_timer.cancel();
    if (ec == asio::error::operation_aborted) throw ClientError("timed out resolving " + host);
    if (ec) throw ClientError("cannot resolve " + host + ": " + ec.message());
    // Every address is checked before any connection is tried: a refused address is never contacted.
    std::vector<tcp::endpoint> endpoints;
    std::string refused;
    for (const auto& entry : results) {
      if (req.allow_private_addresses || allowed(entry.endpoint().address())) {
        endpoints.push_back(entry.endpoint());
      } else if (refused.find(entry.endpoint().address().to_string()) == std::string::npos) {
        refused += (refused.empty() ? "" : ", ") + entry.endpoint().address().to_string();
      }
    }
    if (endpoints.empty()) {
      throw AddressRefused("refusing to connect to " + host + ": it resolves only to private addresses (" + refused +
                           "; see ip_range_blacklist)");
    }

    try {
      if (url->scheme == "http") {
        beast::tcp_stream stream(io);
        stream.expires_at(deadline);
        co_await stream.async_connect(endpoints, asio::use_awaitable);
        auto answer = co_await exchange(stream, req, *url);
        stream.socket().shutdown(tcp::socket::shutdown_both, ec);
        co_return answer;
      }
      const std::string tls_name = req.tls_name.empty() ? url->host : req.tls_name;
      beast::ssl_stream<beast::tcp_stream> stream(io, tls);
      // SNI carries a host name only: none when the certificate is checked against an IP literal.
      if (!is_ip_literal(tls_name) && !SSL_set_tlsext_host_name(stream.native_handle(), tls_name.c_str())) {
        throw ClientError("cannot set TLS SNI");
      }
      if (verify) stream.set_verify_callback(asio::ssl::host_name_verification(tls_name));
      beast::get_lowest_layer(stream).expires_at(deadline);
      co_await beast::get_lowest_layer(stream).async_connect(endpoints, asio::use_awaitable);
      co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
      auto answer = co_await exchange(stream, req, *url);
      co_return answer;
    } catch (const boost::system::system_error& e) {
      throw ClientError(host + ": " + e.code().message());
    }
  }
};

Client::Client(asio::io_context& io, IpGuard guard, ClientTlsOptions tls)
    : impl_(std::make_shared<Impl>(io, std::move(guard), std::move(tls))) {}
Client::~Client() = default;

Task<ClientResponse> Client::send(ClientRequest request) {
  auto impl = impl_;
  auto operation = impl->run(std::move(request));
  auto answer = co_await asio::co_spawn(impl->io, std::move(operation), asio::use_awaitable);
  co_return answer;
}

}  // namespace herald::http
