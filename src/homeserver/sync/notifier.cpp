#include "homeserver/sync/notifier.h"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace herald::homeserver {

struct Notifier::Waiter {
  explicit Waiter(boost::asio::any_io_executor ex) : timer(ex) {}
  boost::asio::steady_timer timer;
  bool woken = false;
};

void Notifier::wake(std::unordered_multimap<std::string, std::shared_ptr<Waiter>>& map, const std::string& key) {
  auto [begin, end] = map.equal_range(key);
  for (auto it = begin; it != end; ++it) {
    auto waiter = it->second;
    if (waiter->woken) continue;
    waiter->woken = true;
    // cancel() must run on the timer's executor; post keeps it thread-safe.
    boost::asio::post(waiter->timer.get_executor(), [waiter] { waiter->timer.cancel(); });
  }
}

void Notifier::advance(std::int64_t position) {
  std::int64_t current = position_.load();
  while (current < position && !position_.compare_exchange_weak(current, position)) {
  }
}

void Notifier::wake_users(std::int64_t position, const std::vector<std::string>& users) {
  for (const auto& user : users) {
    auto& last = last_for_user_[user];
    last = std::max(last, position);
    wake(user_waiters_, user);
  }
}

void Notifier::notify(std::int64_t position, const std::string& room_id, const std::vector<std::string>& users) {
  advance(position);
  std::lock_guard lock(mutex_);
  auto& room_last = last_for_room_[room_id];
  room_last = std::max(room_last, position);
  wake(room_waiters_, room_id);
  wake_users(position, users);
}

void Notifier::notify_users(std::int64_t position, const std::vector<std::string>& users) {
  advance(position);
  std::lock_guard lock(mutex_);
  wake_users(position, users);
}

void Notifier::notify_user_and_rooms(std::int64_t position, const std::string& user,
                                     const std::vector<std::string>& rooms) {
  advance(position);
  std::lock_guard lock(mutex_);
  wake_users(position, {user});
  for (const auto& room : rooms) {
    auto& room_last = last_for_room_[room];
    room_last = std::max(room_last, position);
    wake(room_waiters_, room);
  }
}

void Notifier::shutdown() {
  std::lock_guard lock(mutex_);
  shutting_down_ = true;
  for (auto* map : {&user_waiters_, &room_waiters_}) {
    for (auto& [key, waiter] : *map) {
      if (waiter->woken) continue;
      waiter->woken = true;
      auto w = waiter;
      boost::asio::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
    }
  }
}

Task<void> Notifier::wait(std::string user, std::vector<std::string> rooms, std::int64_t since,
                          std::chrono::milliseconds timeout) {
  auto ex = co_await boost::asio::this_coro::executor;
  auto waiter = std::make_shared<Waiter>(ex);
  auto newer = [since](const std::unordered_map<std::string, std::int64_t>& m, const std::string& key) {
    auto it = m.find(key);
    return it != m.end() && it->second > since;
  };
  {
    std::lock_guard lock(mutex_);
    if (shutting_down_ || newer(last_for_user_, user)) co_return;
    for (const auto& room : rooms)
      if (newer(last_for_room_, room)) co_return;
    waiter->timer.expires_after(timeout);
    user_waiters_.emplace(user, waiter);
    for (const auto& room : rooms) room_waiters_.emplace(room, waiter);
  }
  boost::system::error_code ec;
  co_await waiter->timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  std::lock_guard lock(mutex_);
  auto remove = [&](std::unordered_multimap<std::string, std::shared_ptr<Waiter>>& map, const std::string& key) {
    auto [begin, end] = map.equal_range(key);
    for (auto it = begin; it != end; ++it) {
      if (it->second == waiter) {
        map.erase(it);
        return;
      }
    }
  };
  remove(user_waiters_, user);
  for (const auto& room : rooms) remove(room_waiters_, room);
}

}  // namespace herald::homeserver
