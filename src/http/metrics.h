#pragma once
// Prometheus counters: requests by route and status, a latency histogram, open connections.
// Recording takes a shared lock and atomic increments, so io threads do not serialise on it.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace herald::http {

class Metrics {
 public:
  void record(const std::string& route, std::string_view method, int status, double seconds);
  void connection_opened() { ++open_connections_; }
  void connection_closed() { --open_connections_; }
  std::int64_t open_connections() const { return open_connections_.load(); }
  std::string render() const;
  // Counters of other families, one series per label value, e.g.
  // increment("herald_federation_inbound_pdus_total", "outcome", "accepted").
  void increment(std::string_view family, std::string_view label, std::string_view value, std::uint64_t n = 1);
  std::uint64_t counter(std::string_view family, std::string_view label, std::string_view value) const;
  // Gauges likewise, e.g. set_gauge("herald_federation_outbound_queue_length", "destination", "b.example", 3).
  void set_gauge(std::string_view family, std::string_view label, std::string_view value, std::int64_t v);

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  5.0};
  struct RouteCounters {
    std::array<std::atomic<std::uint64_t>, 500> by_status{};  // index = status - 100
  };
  RouteCounters& counters_for(const std::string& key);

  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<RouteCounters>> routes_;  // key: method + ' ' + route
  std::array<std::atomic<std::uint64_t>, kBuckets.size() + 1> latency_buckets_{};
  std::atomic<std::uint64_t> latency_sum_us_{0};
  std::atomic<std::uint64_t> latency_count_{0};
  std::atomic<std::int64_t> open_connections_{0};
  std::unordered_map<std::string, std::unique_ptr<std::atomic<std::uint64_t>>> counters_;  // key: the series, as rendered
  std::unordered_map<std::string, std::unique_ptr<std::atomic<std::int64_t>>> gauges_;     // likewise
};

}  // namespace herald::http
