#pragma once
// The HTTP/1.1 server (Boost.Beast, one coroutine per connection on its own strand): keep-alive, read
// timeouts, a body limit, CORS on every answer, OPTIONS pre-flight, and errors as Matrix JSON.
#include <chrono>
#include <cstdint>
#include <memory>
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
};

inline constexpr std::size_t kReservedDescriptors = 128;

class Server {
 public:
  Server(boost::asio::io_context& io, const Router& router, Metrics& metrics, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; returns the bound port (so port 0 works). Throws on failure.
  // `resources`: what the listener is for (client, federation, identity, metrics), seen by handlers.
  std::uint16_t listen(const std::string& address, std::uint16_t port, std::vector<std::string> resources = {});
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
