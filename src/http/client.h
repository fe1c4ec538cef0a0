#pragma once
// Outbound HTTP(S) requests (Boost.Beast), run on their own io_context so a slow remote server never holds
// an io thread. Every address a name resolves to passes the IpGuard (ip_range_blacklist minus
// ip_range_whitelist) unless the operator named the destination (no SSRF).
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/task.h"
#include "http/ip_range.h"
#include "http/request.h"

namespace boost::asio {
class io_context;
}

namespace herald::http {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6
  std::uint16_t port = 0;
  std::string target;  // path and query, at least "/"
  // Accepts http://host[:port][/path][?query] and https://...; nullopt otherwise.
  static std::optional<Url> parse(std::string_view text);
};

struct ClientRequest {
  Method method = Method::get;
  std::string url;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{10000};
  std::size_t response_limit = 1 << 20;
  // Set when an operator named the destination in the configuration: the IpGuard does not apply.
  bool allow_private_addresses = false;
};

struct ClientResponse {
  int status = 0;
  std::string body;
  std::string content_type;
};

// The request did not get an HTTP answer: bad URL, refused address, DNS, connect, TLS, timeout, too large.
struct ClientError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Every address the destination resolves to is refused by the IpGuard.
struct AddressRefused : ClientError {
  using ClientError::ClientError;
};

class Client {
 public:
  // `guard` decides which resolved addresses requests may reach; by default Synapse's default blacklist.
  explicit Client(boost::asio::io_context& io, IpGuard guard = IpGuard());
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Resumes the caller on its own executor. Throws ClientError when no HTTP answer came back.
  Task<ClientResponse> send(ClientRequest request);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace herald::http
