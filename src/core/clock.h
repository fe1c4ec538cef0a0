#pragma once
#include <chrono>
#include <cstdint>

namespace herald {

// Time is injected so logic can be tested with a fake clock.
class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch (origin_server_ts, token creation).
  virtual std::int64_t now_ms() const = 0;
  // Monotonic seconds, for rate limits and timeouts.
  virtual double monotonic_seconds() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  double monotonic_seconds() const override {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
};

}  // namespace herald
