#pragma once
// Outbound HTTP(S) requests (Boost.Beast), run on their own io_context so a slow remote server never holds
// an io thread. One deadline covers resolve, connect, TLS handshake, write and read. Every address a name resolves to passes the IpGuard (ip_range_blacklist minus
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

  // Federation routing (federation.md §2), each empty/0 meaning "from the URL": connect to connect_host
  // (a name, resolved and guarded like any other, or an IP literal) on connect_port; send host_header as
  // the Host header; check the certificate against tls_name and send it as SNI, except when it is an IP
  // literal (no SNI for IPs; the certificate must then be valid for that IP).
  std::string connect_host;
  std::uint16_t connect_port = 0;
  std::string host_header;
  std::string tls_name;
};

struct ClientResponse {
  int status = 0;
  std::string body;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // as received, names lower-cased
  // The first header of that name (case-insensitive), or empty.
  std::string header(std::string_view name) const;
};

// TLS settings for outbound HTTPS (federation_verify_certificates, federation_custom_ca_list).
struct ClientTlsOptions {
  bool verify_certificates = true;       // false only for testing: any certificate is accepted
  std::vector<std::string> extra_ca_files;  // PEM files trusted in addition to the system CAs
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
  // Throws std::runtime_error naming a CA file that cannot be loaded.
  explicit Client(boost::asio::io_context& io, IpGuard guard = IpGuard(), ClientTlsOptions tls = {});
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
