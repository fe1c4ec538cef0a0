#pragma once
// The HTTP/1.1 server (Boost.Beast, one coroutine per connection on its own strand): keep-alive, read
// timeouts, a body limit, CORS on every answer, OPTIONS pre-flight, and errors as Matrix JSON. Listeners
// speak plain HTTP or HTTPS (TLS 1.2 or 1.3 through OpenSSL), with the same limits on both.
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace herald::http {

class Router;
class Metrics;

struct ServerOptions {
  std::size_t body_limit = 65536;
  std::size_t header_limit = 16384;
  std::chrono::seconds read_timeout{30};
  std::string server_header = "Herald";
  // Open connections at most, in all and from one address; the total is also kept below the open-file
  // limit minus kReservedDescriptors (the database, logs and outbound calls need descriptors too).
  std::size_t max_connections = 10000;
  std::size_t max_connections_per_address = 200;
  // Time a client has, from connecting, to finish the TLS handshake on a TLS listener (Herald: the read
  // timeout, at most 10 s).
  std::chrono::seconds tls_handshake_timeout{10};
};

// The certificate and key of the TLS listeners, both PEM; the certificate file holds the full chain
// (the server's certificate first, then the intermediates).
struct TlsFiles {
  std::string certificate_chain_path;
  std::string private_key_path;
};

// A TLS file that cannot be read or used; says which file and why.
struct TlsFileError : std::runtime_error {
  enum class Which { certificate, private_key };
  TlsFileError(Which which, std::string path, const std::string& message)
      : std::runtime_error(message), which(which), path(std::move(path)) {}
  Which which;
  std::string path;
};

inline constexpr std::size_t kReservedDescriptors = 128;

class Server {
 public:
  Server(boost::asio::io_context& io, const Router& router, Metrics& metrics, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the certificate and key for TLS listeners; throws TlsFileError. Call before listen(..., tls).
  void use_tls(TlsFiles files);
  // Loads the files given to use_tls again (SIGHUP). New connections get the new certificate, open ones
  // keep theirs. On failure logs the reason, keeps the certificate in use and returns false.
  bool reload_tls();

  // Binds and listens; returns the bound port (so port 0 works). Throws on failure.
  // `resources`: what the listener is for (client, federation, identity, metrics), seen by handlers.
  // `tls`: serve HTTPS with the certificate from use_tls (which must have been called).
  std::uint16_t listen(const std::string& address, std::uint16_t port, std::vector<std::string> resources = {},
                       bool tls = false);
  // Starts accepting on every listener.
  void start();
  // Stops accepting; idle connections close now, busy ones after their current response.
  void stop();
  std::size_t active_connections() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace herald::http
