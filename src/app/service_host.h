#pragma once
// One server inside the process (the homeserver, the identity server): it owns its services and its HTTP
// server, and the runner drives them all on one io_context, with one signal handler and one drain.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/config.h"

namespace boost::asio {
class io_context;
}
namespace herald::http {
class Server;
}
namespace herald::storage {
class Database;
}
namespace herald::federation {
class StaticServerKeyRing;
}

namespace herald::app {

class ServiceHost {
 public:
  virtual ~ServiceHost() = default;
  virtual std::string name() const = 0;
  // Binds every listener; returns the bound ports in order. Throws on failure.
  virtual std::vector<std::uint16_t> listen() = 0;
  virtual void start() = 0;
  // SIGHUP: read the TLS certificate and key again (new connections get them); a file that does not load
  // is logged and the certificate in use kept.
  virtual void reload_tls() {}
  // SIGTERM: stop accepting, answer long-polls, let in-flight requests finish.
  virtual void begin_shutdown() = 0;
  virtual std::size_t active_connections() const = 0;
  // After the io_context stopped: flush and close storage.
  virtual void close() = 0;
};

// Binds `server` on every listener, logging each; returns the bound ports in order. Throws on failure.
std::vector<std::uint16_t> listen_on(http::Server& server, const std::vector<ListenerConfig>& listeners,
                                     std::string_view what);

// The last position of the stream that room events, account data, presence, key changes and to-device
// messages share, as stored.
std::int64_t max_stream_position(storage::Database& db);

// Adds a server's signing key, written "server,ed25519:id,base64" (`herald receive-pdus --trust-key`).
// Throws std::invalid_argument when malformed.
void add_trusted_key(federation::StaticServerKeyRing& ring, const std::string& spec);

// io serves requests; outbound runs calls to other servers (OpenID checks, onbind) on its own thread.
std::unique_ptr<ServiceHost> make_homeserver_host(const HomeserverConfig& config, boost::asio::io_context& io,
                                                  boost::asio::io_context& outbound);
std::unique_ptr<ServiceHost> make_identity_host(const IdentityConfig& config, boost::asio::io_context& io,
                                                boost::asio::io_context& outbound);

}  // namespace herald::app
