#pragma once
// The one stream every change a /sync can see takes its position from: room events, account data and
// presence. Positions are taken only on the database writer thread, inside the job that stores the
// change, so they commit in order; the Notifier publishes them after the commit.
#include <atomic>
#include <cstdint>

namespace herald::homeserver {

class StreamCounter {
 public:
  explicit StreamCounter(std::int64_t last) : last_(last) {}
  std::int64_t next() { return ++last_; }
  // The next position past `stored_max`, the highest position storage holds: another process writing
  // the same database may have taken positions this counter has not seen.
  std::int64_t next_after(std::int64_t stored_max) {
    std::int64_t last = last_.load();
    while (last < stored_max && !last_.compare_exchange_weak(last, stored_max)) {
    }
    return ++last_;
  }
  std::int64_t last() const { return last_.load(); }

 private:
  std::atomic<std::int64_t> last_;
};

}  // namespace herald::homeserver
