#include "federation/server_discovery.h"

#include <algorithm>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <set>

#include "core/clock.h"
#include "core/log.h"
#include "federation/server_name.h"
#include "federation/srv_resolver.h"
#include "http/client.h"

namespace herald::federation {
namespace {

constexpr std::uint16_t kDefaultPort = 8448;

// Resolves a Location header against the URL it answered: absolute https URLs and absolute paths.
std::optional<std::string> follow(const std::string& from, const std::string& location) {
  if (location.starts_with("https://")) return location;
  if (location.starts_with("/") && !location.starts_with("//")) {
    const auto url = http::Url::parse(from);
    if (!url) return std::nullopt;
    const std::string host = url->host.find(':') != std::string::npos ? "[" + url->host + "]" : url->host;
    return "https://" + host + (url->port == 443 ? "" : ":" + std::to_string(url->port)) + location;
  }
  return std::nullopt;  // http:// (a downgrade), scheme-relative or relative paths: not followed
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<std::int64_t> cache_control_max_age(std::string_view value) {
  const std::string v = lower(value);
  if (v.find("no-store") != std::string::npos || v.find("no-cache") != std::string::npos) return 0;
  const auto at = v.find("max-age=");
  if (at == std::string::npos) return std::nullopt;
  std::int64_t seconds = 0;
  std::size_t i = at + 8;
  if (i >= v.size() || !std::isdigit(static_cast<unsigned char>(v[i]))) return std::nullopt;
  for (; i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])); ++i) {
    seconds = seconds * 10 + (v[i] - '0');
    if (seconds > 10LL * 365 * 24 * 3600) break;  // far beyond any cap
  }
  return seconds;
}

Task<http::ClientResponse> ClientWellKnownGetter::get(std::string url) {
  http::ClientRequest req;
  req.url = std::move(url);
  req.timeout = std::chrono::seconds(10);
  req.response_limit = 50 * 1024;
  auto res = co_await client_.send(std::move(req));
  co_return res;
}

const SrvRecord& pick_srv_target(std::vector<SrvRecord>& records,
                                 const std::function<std::uint32_t(std::uint32_t)>& random_up_to) {
  const auto lowest = std::min_element(records.begin(), records.end(), [](const SrvRecord& a, const SrvRecord& b) {
                        return a.priority < b.priority;
                      })->priority;
  std::erase_if(records, [lowest](const SrvRecord& r) { return r.priority != lowest; });
  std::stable_partition(records.begin(), records.end(), [](const SrvRecord& r) { return r.weight == 0; });
  const std::uint32_t total = std::accumulate(records.begin(), records.end(), std::uint32_t{0},
                                              [](std::uint32_t sum, const SrvRecord& r) { return sum + r.weight; });
  const std::uint32_t chosen = random_up_to(total);
  std::uint32_t running = 0;
  for (const auto& r : records) {
    running += r.weight;
    if (running >= chosen) return r;
  }
  return records.back();  // only when random_up_to broke its contract
}

struct ServerDiscovery::Flight {
  std::mutex mutex;
  bool done = false;
  std::optional<Destination> result;
  std::exception_ptr error;
  std::vector<std::function<void()>> waiters;  // each posts its caller's resumption to the caller's executor
};

Task<void> ServerDiscovery::join(std::shared_ptr<Flight> flight) {
  namespace asio = boost::asio;
  auto wait = [flight](auto handler) {
    // Shared so that the (copyable) std::function can hold the move-only handler.
    auto held = std::make_shared<decltype(handler)>(std::move(handler));
    auto resume = [held] {
      auto executor = asio::get_associated_executor(*held);
      asio::post(executor, [held] { std::move (*held)(); });
    };
    std::unique_lock lock(flight->mutex);
    if (!flight->done) {
      flight->waiters.emplace_back(std::move(resume));
      return;
    }
    lock.unlock();
    resume();
  };
  co_await asio::async_initiate<const asio::use_awaitable_t<>&, void()>(std::move(wait), asio::use_awaitable);
}

ServerDiscovery::ServerDiscovery(WellKnownGetter& well_known, SrvResolver& srv, const Clock& clock, DiscoveryOptions options)
    : getter_(well_known), srv_(srv), clock_(clock), options_(options) {}
ServerDiscovery::~ServerDiscovery() = default;

Task<ServerDiscovery::Fetched> ServerDiscovery::fetch_well_known(std::string host) {
  Fetched out;
  std::string url = "https://" + host + "/.well-known/matrix/server";
  std::set<std::string> seen{url};
  for (int hop = 0;; ++hop) {
    http::ClientResponse res;
    try {
      res = co_await getter_.get(url);
    } catch (const http::ClientError& e) {
      log::debug("well-known fetch failed host={} url={} error={}", host, url, e.what());
      out.kind = Fetched::Kind::failed;
      co_return out;
    }
    if (res.status >= 300 && res.status < 400) {
      const auto next = follow(url, res.header("location"));
      if (!next || hop + 1 > options_.max_redirects || !seen.insert(*next).second) {
        log::debug("well-known redirect not followed host={} location={}", host, res.header("location"));
        out.kind = Fetched::Kind::invalid;
        out.cache_ms = options_.invalid_cache_ms;
        co_return out;
      }
      url = *next;
      continue;
    }
    if (res.status >= 500) {
      out.kind = Fetched::Kind::failed;
      co_return out;
    }
    out.kind = Fetched::Kind::invalid;
    out.cache_ms = options_.invalid_cache_ms;
    if (res.status != 200) co_return out;
    // Parsed as JSON whatever the Content-Type says.
    const auto body = nlohmann::json::parse(res.body, nullptr, false);
    if (!body.is_object()) co_return out;
    const auto it = body.find("m.server");
    if (it == body.end() || !it->is_string()) co_return out;
    const std::string delegated = it->get<std::string>();
    if (!ServerName::parse(delegated)) co_return out;
    out.kind = Fetched::Kind::valid;
    out.delegated = delegated;
    const auto max_age = cache_control_max_age(res.header("cache-control"));
    const std::int64_t wanted = max_age ? *max_age * 1000 : options_.default_cache_ms;
    out.cache_ms = std::clamp(wanted, options_.min_cache_ms, options_.max_cache_ms);
    co_return out;
  }
}

Task<std::optional<std::string>> ServerDiscovery::well_known(std::string host) {
  const std::int64_t now = clock_.now_ms();
  int failures = 0;
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(host); it != cache_.end()) {
      if (it->second.expires_ms > now) co_return it->second.delegated;
      failures = it->second.failures;
    }
  }
  const Fetched fetched = co_await fetch_well_known(host);
  Entry entry;
  entry.delegated = fetched.delegated;
  if (fetched.kind == Fetched::Kind::failed) {
    entry.failures = failures + 1;
    std::int64_t backoff = options_.first_failure_cache_ms;
    for (int i = 1; i < entry.failures && backoff < options_.max_failure_cache_ms; ++i) backoff *= 2;
    entry.expires_ms = clock_.now_ms() + std::min(backoff, options_.max_failure_cache_ms);
  } else {
    entry.expires_ms = clock_.now_ms() + fetched.cache_ms;
  }
  {
    std::lock_guard lock(mutex_);
    cache_[host] = entry;
  }
  co_return entry.delegated;
}

Task<std::optional<Destination>> ServerDiscovery::by_srv(std::string host) {
  for (const char* prefix : {"_matrix-fed._tcp.", "_matrix._tcp."}) {
    std::vector<SrvRecord> records = co_await srv_.lookup(prefix + host);
    std::erase_if(records, [](const SrvRecord& r) { return r.target.empty() || r.port == 0; });
    // A target must not be a CNAME: such targets are skipped, and another record picked.
    while (!records.empty()) {
      const std::function<std::uint32_t(std::uint32_t)> random = [this](std::uint32_t n) { return random_up_to(n); };
      std::vector<SrvRecord> candidates = records;
      const SrvRecord target = pick_srv_target(candidates, random);
      const bool cname = co_await srv_.is_cname(target.target);
      if (!cname) {
        Destination d;
        d.connect_host = target.target;
        d.port = target.port;
        d.host_header = host;
        d.tls_name = host;
        co_return d;
      }
      log::info("srv target not followed name={}{} target={} reason=it is a CNAME", prefix, host, target.target);
      std::erase_if(records, [&](const SrvRecord& r) { return r.target == target.target; });
    }
  }
  co_return std::nullopt;
}

std::uint32_t ServerDiscovery::random_up_to(std::uint32_t n) {
  if (options_.random_up_to) return options_.random_up_to(n);
  thread_local std::mt19937 engine{std::random_device{}()};
  return std::uniform_int_distribution<std::uint32_t>(0, n)(engine);
}

Task<Destination> ServerDiscovery::resolve(std::string server_name) {
  std::shared_ptr<Flight> flight;
  bool first = false;
  {
    std::lock_guard lock(mutex_);
    auto& slot = flights_[server_name];
    if (!slot) {
      slot = std::make_shared<Flight>();
      first = true;
    }
    flight = slot;
  }
  if (!first) {
    co_await join(flight);
    if (flight->error) std::rethrow_exception(flight->error);
    co_return *flight->result;
  }
  std::optional<Destination> result;
  std::exception_ptr error;
  try {
    result = co_await discover(server_name);
  } catch (...) {
    error = std::current_exception();
  }
  {
    std::lock_guard lock(mutex_);
    flights_.erase(server_name);
  }
  std::vector<std::function<void()>> waiters;
  {
    std::lock_guard lock(flight->mutex);
    flight->done = true;
    flight->result = result;
    flight->error = error;
    waiters.swap(flight->waiters);
  }
  for (auto& resume : waiters) resume();
  if (error) std::rethrow_exception(error);
  co_return *result;
}

Task<Destination> ServerDiscovery::discover(std::string server_name) {
  const auto name = ServerName::parse(server_name);
  if (!name) throw DiscoveryError("not a valid server name: " + server_name);
  // 3. /.well-known/matrix/server, unless the name is an IP literal or carries a port; a valid delegation
  // then goes through the same steps as a name (3.1-3.5 mirror 1, 2, 4-6) without a second well-known.
  std::optional<ServerName> delegated;
  if (!name->ip_literal && !name->port) {
    const std::optional<std::string> delegated_text = co_await well_known(name->host);
    if (delegated_text) delegated = ServerName::parse(*delegated_text);
  }
  ServerName target = delegated ? *delegated : *name;
  Destination d = co_await by_name(std::move(target));
  d.server_name = server_name;
  co_return d;
}

Task<Destination> ServerDiscovery::by_name(ServerName name) {
  Destination d;
  // 1. IP literal; 2. hostname with an explicit port.
  if (name.ip_literal || name.port) {
    d.connect_host = name.host;
    d.port = name.port.value_or(kDefaultPort);
    d.host_header = name.str();
    d.tls_name = name.host;
    co_return d;
  }
  // 4, 5. SRV records.
  auto srv = co_await by_srv(name.host);
  if (srv) co_return *srv;
  // 6. Port 8448.
  d.connect_host = name.host;
  d.port = kDefaultPort;
  d.host_header = name.host;
  d.tls_name = name.host;
  co_return d;
}

}  // namespace herald::federation
