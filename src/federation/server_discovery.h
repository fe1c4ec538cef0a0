#pragma once
// Server discovery (federation.md §2): from a server name to where its federation API answers, in the
// spec's order: IP literal; explicit port; /.well-known/matrix/server (redirects followed, loops refused,
// JSON read whatever its Content-Type, cached per Cache-Control: default 24 h, at least 5 min, at most
// 48 h; failures cached with exponential back-off up to 1 h) and the delegated name's own IP/port/SRV
// rules; SRV `_matrix-fed._tcp` then the deprecated `_matrix._tcp` (lowest priority, then a weighted random
// pick per RFC 2782; targets that are CNAMEs are not followed); port 8448. Concurrent discoveries of one
// server name share a single lookup.
//
// Every connection this makes (the well-known fetch) and every connection made to the result goes through
// http::Client, which applies the IP range guard to each resolved address before connecting.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/task.h"
#include "federation/server_name.h"

namespace herald {
class Clock;
}
namespace herald::http {
class Client;
struct ClientResponse;
}  // namespace herald::http

namespace herald::federation {

class SrvResolver;
struct SrvRecord;

// Where to send a request for `server_name`.
struct Destination {
  std::string server_name;   // as given: requests are signed with it
  std::string connect_host;  // DNS name or IP literal (no brackets), resolved and guarded by the client
  std::uint16_t port = 8448;
  std::string host_header;   // the Host header value
  std::string tls_name;      // the name (or IP) the certificate must be valid for; SNI unless an IP
};

struct DiscoveryError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One HTTPS GET, no redirects followed (discovery follows them itself). Throws http::ClientError when no
// answer came back.
class WellKnownGetter {
 public:
  virtual ~WellKnownGetter() = default;
  virtual Task<http::ClientResponse> get(std::string url) = 0;
};

// The production getter: http::Client with a short timeout and a small response limit.
class ClientWellKnownGetter final : public WellKnownGetter {
 public:
  explicit ClientWellKnownGetter(http::Client& client) : client_(client) {}
  Task<http::ClientResponse> get(std::string url) override;

 private:
  http::Client& client_;
};

struct DiscoveryOptions {
  std::int64_t default_cache_ms = 24LL * 3600 * 1000;
  std::int64_t min_cache_ms = 5LL * 60 * 1000;
  std::int64_t max_cache_ms = 48LL * 3600 * 1000;
  std::int64_t invalid_cache_ms = 3600LL * 1000;    // an answer that is not a valid delegation (404, bad JSON)
  std::int64_t first_failure_cache_ms = 2LL * 60 * 1000;  // no answer at all; doubles per failure
  std::int64_t max_failure_cache_ms = 3600LL * 1000;
  int max_redirects = 5;
  // A uniform random number in [0, n] for the weighted SRV pick; empty: a seeded std::mt19937.
  std::function<std::uint32_t(std::uint32_t n)> random_up_to;
};

class ServerDiscovery {
 public:
  ServerDiscovery(WellKnownGetter& well_known, SrvResolver& srv, const Clock& clock, DiscoveryOptions options = {});
  ~ServerDiscovery();

  // Throws DiscoveryError when `server_name` is not a valid server name. Never throws for an unreachable
  // server: the fallbacks end at port 8448, and the connection attempt reports the failure.
  Task<Destination> resolve(std::string server_name);

  // The delegation /.well-known/matrix/server gave for `host` (after the cache): nullopt when none.
  Task<std::optional<std::string>> well_known(std::string host);

 private:
  struct Entry {
    std::optional<std::string> delegated;
    std::int64_t expires_ms = 0;
    int failures = 0;  // consecutive fetches that got no answer
  };
  struct Fetched {
    std::optional<std::string> delegated;
    enum class Kind { valid, invalid, failed } kind = Kind::failed;
    std::int64_t cache_ms = 0;
  };
  // One discovery in progress for a server name; the callers that join it wait for its outcome.
  struct Flight;
  static Task<void> join(std::shared_ptr<Flight> flight);  // resumes, on the caller's executor, when it ends
  Task<Destination> discover(std::string server_name);
  // Steps 1, 2, 4-6 for `name` (the server name, or its delegated name): everything but the well-known.
  Task<Destination> by_name(ServerName name);
  Task<Fetched> fetch_well_known(std::string host);
  Task<std::optional<Destination>> by_srv(std::string host);
  std::uint32_t random_up_to(std::uint32_t n);

  WellKnownGetter& getter_;
  SrvResolver& srv_;
  const Clock& clock_;
  const DiscoveryOptions options_;
  std::mutex mutex_;
  std::map<std::string, Entry> cache_;
  std::map<std::string, std::shared_ptr<Flight>> flights_;
};

// The record RFC 2782 picks among `records`: the lowest priority, then a weighted random choice among
// those (zero weights first, a number in [0, sum of weights] from `random_up_to`). Records must not be empty.
const SrvRecord& pick_srv_target(std::vector<SrvRecord>& records,
                                 const std::function<std::uint32_t(std::uint32_t)>& random_up_to);

// The seconds of `max-age` in a Cache-Control value, 0 for no-store/no-cache, nullopt when absent.
std::optional<std::int64_t> cache_control_max_age(std::string_view value);

}  // namespace herald::federation
