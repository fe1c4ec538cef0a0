#include "http/metrics.h"

#include <fmt/format.h>

#include <tuple>

namespace herald::http {

void Metrics::record(const std::string& route, std::string_view method, int status, double seconds) {
  std::size_t bucket = 0;
  while (bucket < kBuckets.size() && seconds > kBuckets[bucket]) ++bucket;
  std::lock_guard lock(mutex_);
  ++requests_[std::make_tuple(route, std::string(method), status)];
  ++latency_buckets_[bucket];
  latency_sum_ += seconds;
  ++latency_count_;
}

namespace {
std::string label_escape(const std::string& s) {
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
  std::lock_guard lock(mutex_);
  std::string out;
  out += "# HELP herald_http_requests_total HTTP requests by route template, method and status.\n";
  out += "# TYPE herald_http_requests_total counter\n";
  for (const auto& [key, count] : requests_) {
    const auto& [route, method, status] = key;
    out += fmt::format("herald_http_requests_total{{route=\"{}\",method=\"{}\",status=\"{}\"}} {}\n",
                       label_escape(route), method, status, count);
  }
  out += "# HELP herald_http_request_duration_seconds Time from request read to response written.\n";
  out += "# TYPE herald_http_request_duration_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    cumulative += latency_buckets_[i];
    out += fmt::format("herald_http_request_duration_seconds_bucket{{le=\"{}\"}} {}\n", kBuckets[i], cumulative);
  }
  cumulative += latency_buckets_[kBuckets.size()];
  out += fmt::format("herald_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
  out += fmt::format("herald_http_request_duration_seconds_sum {}\n", latency_sum_);
  out += fmt::format("herald_http_request_duration_seconds_count {}\n", latency_count_);
  out += "# HELP herald_http_open_connections Connections currently open.\n";
  out += "# TYPE herald_http_open_connections gauge\n";
  out += fmt::format("herald_http_open_connections {}\n", open_connections_.load());
  return out;
}

}  // namespace herald::http
