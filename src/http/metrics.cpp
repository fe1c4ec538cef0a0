#include "http/metrics.h"

#include <fmt/format.h>

#include <map>
#include <mutex>

namespace herald::http {

Metrics::RouteCounters& Metrics::counters_for(const std::string& key) {
  {
    std::shared_lock lock(mutex_);
    auto it = routes_.find(key);
    if (it != routes_.end()) return *it->second;
  }
  std::unique_lock lock(mutex_);
  auto& slot = routes_[key];
  if (!slot) slot = std::make_unique<RouteCounters>();
  return *slot;
}

void Metrics::record(const std::string& route, std::string_view method, int status, double seconds) {
  std::string key;
  key.reserve(method.size() + 1 + route.size());
  key.append(method).append(1, ' ').append(route);
  if (status >= 100 && status < 600) counters_for(key).by_status[static_cast<std::size_t>(status - 100)]++;
  std::size_t bucket = 0;
  while (bucket < kBuckets.size() && seconds > kBuckets[bucket]) ++bucket;
  latency_buckets_[bucket]++;
  latency_sum_us_ += static_cast<std::uint64_t>(seconds * 1e6);
  latency_count_++;
}

namespace {
std::string label_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}
}  // namespace

std::string Metrics::render() const {
  std::string out;
  out += "# HELP herald_http_requests_total HTTP requests by route template, method and status.\n";
  out += "# TYPE herald_http_requests_total counter\n";
  {
    std::shared_lock lock(mutex_);
    std::map<std::string, const RouteCounters*> sorted;
    for (const auto& [key, counters] : routes_) sorted.emplace(key, counters.get());
    for (const auto& [key, counters] : sorted) {
      const auto space = key.find(' ');
      const std::string_view method = std::string_view(key).substr(0, space);
      const std::string_view route = std::string_view(key).substr(space + 1);
      for (std::size_t i = 0; i < counters->by_status.size(); ++i) {
        const std::uint64_t n = counters->by_status[i].load();
        if (n == 0) continue;
        out += fmt::format("herald_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}\n",
                           label_escape(route), method, i + 100, n);
      }
    }
  }
  out += "# HELP herald_http_request_duration_seconds Time from request read to response ready.\n";
  out += "# TYPE herald_http_request_duration_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += latency_buckets_[i].load();
    out += fmt::format("herald_http_request_duration_seconds_bucket{{le=\"{}\"}} {}\n", kBuckets[i], cumulative);
  }
  cumulative += latency_buckets_[kBuckets.size()].load();
  out += fmt::format("herald_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
  out += fmt::format("herald_http_request_duration_seconds_sum {}\n", static_cast<double>(latency_sum_us_.load()) / 1e6);
  out += fmt::format("herald_http_request_duration_seconds_count {}\n", latency_count_.load());
  out += "# HELP herald_http_open_connections Connections currently open.\n";
  out += "# TYPE herald_http_open_connections gauge\n";
  out += fmt::format("herald_http_open_connections {}\n", open_connections_.load());
  std::shared_lock lock(mutex_);
  std::map<std::string_view, std::uint64_t> series;
  for (const auto& [key, value] : counters_) series.emplace(key, value->load());
  std::string_view family;
  for (const auto& [key, value] : series) {
    const std::string_view this_family = key.substr(0, key.find('{'));
    if (this_family != family) {
      family = this_family;
      out += fmt::format("# TYPE {} counter\n", family);
    }
    out += fmt::format("{} {}\n", key, value);
  }
  std::map<std::string_view, std::int64_t> gauges;
  for (const auto& [key, value] : gauges_) gauges.emplace(key, value->load());
  family = {};
  for (const auto& [key, value] : gauges) {
    const std::string_view this_family = key.substr(0, key.find('{'));
    if (this_family != family) {
      family = this_family;
      out += fmt::format("# TYPE {} gauge\n", family);
    }
    out += fmt::format("{} {}\n", key, value);
  }
  return out;
}

namespace {
std::string series_key(std::string_view family, std::string_view label, std::string_view value) {
  return fmt::format("{}{{{}=\"{}\"}}", family, label, label_escape(value));
}
}  // namespace

void Metrics::increment(std::string_view family, std::string_view label, std::string_view value, std::uint64_t n) {
  const std::string key = series_key(family, label, value);
  {
    std::shared_lock lock(mutex_);
    if (auto it = counters_.find(key); it != counters_.end()) {
      *it->second += n;
      return;
    }
  }
  std::unique_lock lock(mutex_);
  auto& slot = counters_[key];
  if (!slot) slot = std::make_unique<std::atomic<std::uint64_t>>(0);
  *slot += n;
}

void Metrics::set_gauge(std::string_view family, std::string_view label, std::string_view value, std::int64_t v) {
  const std::string key = series_key(family, label, value);
  {
    std::shared_lock lock(mutex_);
    if (auto it = gauges_.find(key); it != gauges_.end()) {
      it->second->store(v);
      return;
    }
  }
  std::unique_lock lock(mutex_);
  auto& slot = gauges_[key];
  if (!slot) slot = std::make_unique<std::atomic<std::int64_t>>(0);
  slot->store(v);
}

std::uint64_t Metrics::counter(std::string_view family, std::string_view label, std::string_view value) const {
  std::shared_lock lock(mutex_);
  auto it = counters_.find(series_key(family, label, value));
  return it == counters_.end() ? 0 : it->second->load();
}

}  // namespace herald::http
