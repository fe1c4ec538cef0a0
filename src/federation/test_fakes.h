#pragma once
// Fakes shared by the federation unit tests: a settable clock, SRV records and well-known answers by name.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "federation/server_discovery.h"
#include "federation/srv_resolver.h"
#include "http/client.h"

namespace herald::federation::testing {

class FakeClock final : public Clock {
 public:
  std::int64_t now = 1'700'000'000'000;
  std::int64_t now_ms() const override { return now; }
  double monotonic_seconds() const override { return static_cast<double>(now) / 1000.0; }
};

class FakeSrv final : public SrvResolver {
 public:
  std::map<std::string, std::vector<SrvRecord>> records;
  std::set<std::string> cnames;  // names is_cname() says are CNAMEs
  std::vector<std::string> asked;
  Task<std::vector<SrvRecord>> lookup(std::string name) override {
    asked.push_back(name);
    auto it = records.find(name);
    co_return it == records.end() ? std::vector<SrvRecord>{} : it->second;
  }
  Task<bool> is_cname(std::string name) override { co_return cnames.contains(name); }
};

// Answers by URL; a URL with no answer throws http::ClientError (no connection).
class FakeGetter final : public WellKnownGetter {
 public:
  std::map<std::string, http::ClientResponse> answers;
  std::vector<std::string> asked;
  Task<http::ClientResponse> get(std::string url) override {
    asked.push_back(url);
    auto it = answers.find(url);
    if (it == answers.end()) throw http::ClientError("connection refused");
    co_return it->second;
  }
  static http::ClientResponse json(std::string body, std::string cache_control = "") {
    http::ClientResponse r;
    r.status = 200;
    r.body = std::move(body);
    r.content_type = "text/plain";  // parsed as JSON regardless
    if (!cache_control.empty()) r.headers.emplace_back("cache-control", std::move(cache_control));
    return r;
  }
  static http::ClientResponse redirect(std::string location) {
    http::ClientResponse r;
    r.status = 301;
    r.headers.emplace_back("location", std::move(location));
    return r;
  }
};

}  // namespace herald::federation::testing
