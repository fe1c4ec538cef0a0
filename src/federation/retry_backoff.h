#pragma once
// When to try a destination again after a failed transaction: an interval that starts at `min`, is
// multiplied on each further failure up to `max`, and is jittered by ±20% so that many servers coming
// back at once are not all retried in the same second. A success resets it. Pure: time and randomness are
// parameters (a fraction in [0, 1)).
#include <chrono>
#include <cstdint>

namespace herald::federation {

struct RetryOptions {
  std::chrono::milliseconds min{5000};                    // federation.destination_min_retry_interval
  double multiplier = 2.0;                                // federation.destination_retry_multiplier
  std::chrono::milliseconds max{std::chrono::hours(1)};   // federation.destination_max_retry_interval
};

class RetryBackoff {
 public:
  explicit RetryBackoff(RetryOptions options = {}) : options_(options) {}

  // Records a failure; returns how long to wait before the next attempt. `random` in [0, 1).
  std::chrono::milliseconds failed(double random);
  void succeeded() {
    failures_ = 0;
    interval_ = std::chrono::milliseconds(0);
  }
  std::uint32_t failures() const { return failures_; }
  // The interval before jitter (0 while healthy).
  std::chrono::milliseconds interval() const { return interval_; }

 private:
  RetryOptions options_;
  std::uint32_t failures_ = 0;
  std::chrono::milliseconds interval_{0};
};

}  // namespace herald::federation
