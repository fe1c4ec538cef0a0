#include "federation/server_discovery.h"

#include <algorithm>
#include <nlohmann/json.hpp>
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
    if (records.empty()) continue;
    // Lowest priority first; among equals, the heaviest (a deterministic stand-in for the weighted pick).
    std::sort(records.begin(), records.end(), [](const SrvRecord& a, const SrvRecord& b) {
      return a.priority != b.priority ? a.priority < b.priority : a.weight > b.weight;
    });
    Destination d;
    d.connect_host = records.front().target;
    d.port = records.front().port;
    d.host_header = host;
    d.tls_name = host;
    co_return d;
  }
  co_return std::nullopt;
}

Task<Destination> ServerDiscovery::resolve(std::string server_name) {
  const auto name = ServerName::parse(server_name);
  if (!name) throw DiscoveryError("not a valid server name: " + server_name);
  Destination d;
  d.server_name = server_name;
  // 1. IP literal; 2. hostname with an explicit port.
  if (name->ip_literal || name->port) {
    d.connect_host = name->host;
    d.port = name->port.value_or(kDefaultPort);
    d.host_header = name->str();
    d.tls_name = name->host;
    co_return d;
  }
  // 3. /.well-known/matrix/server.
  const std::optional<std::string> delegated_text = co_await well_known(name->host);
  if (delegated_text) {
    const auto delegated = ServerName::parse(*delegated_text);
    if (delegated) {
      if (delegated->ip_literal || delegated->port) {
        d.connect_host = delegated->host;
        d.port = delegated->port.value_or(kDefaultPort);
        d.host_header = delegated->str();
        d.tls_name = delegated->host;
        co_return d;
      }
      auto srv = co_await by_srv(delegated->host);
      if (srv) {
        srv->server_name = server_name;
        co_return *srv;
      }
      d.connect_host = delegated->host;
      d.port = kDefaultPort;
      d.host_header = delegated->host;
      d.tls_name = delegated->host;
      co_return d;
    }
  }
  // 4, 5. SRV records of the name itself.
  auto srv = co_await by_srv(name->host);
  if (srv) {
    srv->server_name = server_name;
    co_return *srv;
  }
  // 6. Port 8448.
  d.connect_host = name->host;
  d.port = kDefaultPort;
  d.host_header = name->host;
  d.tls_name = name->host;
  co_return d;
}

}  // namespace herald::federation
