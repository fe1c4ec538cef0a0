#pragma once
// Outbound HTTP(S) requests (Boost.Beast), run on their own io_context so a slow remote server never holds
// an io thread. Refuses private and loopback addresses unless the caller allows them (no SSRF).
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
  // Loopback, private, link-local and unique-local addresses are refused unless this is set (an operator
  // named the destination in the configuration).
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

// True for addresses that a request from the internet must not reach (loopback, RFC 1918, link-local,
// CGNAT, unique-local, unspecified, multicast, IPv4-mapped forms of those). Unparsable text counts as private.
bool is_private_address(std::string_view ip);

class Client {
 public:
  explicit Client(boost::asio::io_context& io);
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
