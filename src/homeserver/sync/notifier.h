#pragma once
// Wakes waiting /sync requests: services report the stream position of each committed event and
// the users it concerns; waiters then read what changed from storage (positions, not data).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/task.h"

namespace herald::homeserver {

class Notifier {
 public:
  explicit Notifier(std::int64_t start_position) : position_(start_position) {}

  std::int64_t position() const { return position_.load(); }
  // After a commit: advances the position and wakes the users' waiters.
  void notify(std::int64_t position, const std::vector<std::string>& users);
  // Waits until something for `user` happens after `since`, or the timeout passes.
  // Returns at once when the position is already past `since` for this user.
  Task<void> wait(std::string user, std::int64_t since, std::chrono::milliseconds timeout);
  // Wakes every waiter and makes later waits return at once (shutdown: long-polls answer now).
  void shutdown();

 private:
  struct Waiter;
  std::atomic<std::int64_t> position_;
  bool shutting_down_ = false;
  std::mutex mutex_;
  std::unordered_map<std::string, std::int64_t> last_position_for_user_;
  std::unordered_multimap<std::string, std::shared_ptr<Waiter>> waiters_;
};

}  // namespace herald::homeserver
