#pragma once
// Wakes waiting /sync requests: services report the stream position of each committed event, its room
// and the users it concerns directly (a membership target); a waiter listens on its user and its joined
// rooms, then reads what changed from storage (positions, not data). Cost per event does not grow with
// the room's size.
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
  // After a commit: advances the position and wakes the waiters of the room and of the users.
  void notify(std::int64_t position, const std::string& room_id, const std::vector<std::string>& users);
  // After a commit that concerns only these users (their account data, say).
  void notify_users(std::int64_t position, const std::vector<std::string>& users);
  // After a commit about one user that everyone in their rooms sees (presence, device lists).
  void notify_user_and_rooms(std::int64_t position, const std::string& user, const std::vector<std::string>& rooms);
  // Waits until something happens after `since` in one of `rooms` or for `user`, or the timeout passes.
  Task<void> wait(std::string user, std::vector<std::string> rooms, std::int64_t since, std::chrono::milliseconds timeout);
  // Wakes every waiter and makes later waits return at once (shutdown: long-polls answer now).
  void shutdown();

 private:
  struct Waiter;
  void wake(std::unordered_multimap<std::string, std::shared_ptr<Waiter>>& map, const std::string& key);  // mutex held
  void advance(std::int64_t position);
  void wake_users(std::int64_t position, const std::vector<std::string>& users);  // mutex held

  std::atomic<std::int64_t> position_;
  std::mutex mutex_;
  bool shutting_down_ = false;
  std::unordered_map<std::string, std::int64_t> last_for_user_;
  std::unordered_map<std::string, std::int64_t> last_for_room_;
  std::unordered_multimap<std::string, std::shared_ptr<Waiter>> user_waiters_;
  std::unordered_multimap<std::string, std::shared_ptr<Waiter>> room_waiters_;
};

}  // namespace herald::homeserver
