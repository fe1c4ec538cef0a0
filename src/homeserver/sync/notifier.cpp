#include "homeserver/sync/notifier.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace herald::homeserver {

struct Notifier::Waiter {
  explicit Waiter(boost::asio::any_io_executor ex) : timer(ex) {}
  boost::asio::steady_timer timer;
};

void Notifier::notify(std::int64_t position, const std::vector<std::string>& users) {
  std::int64_t current = position_.load();
  while (current < position && !position_.compare_exchange_weak(current, position)) {
  }
  std::lock_guard lock(mutex_);
  for (const auto& user : users) {
    auto& last = last_position_for_user_[user];
    last = std::max(last, position);
    auto [begin, end] = waiters_.equal_range(user);
    for (auto it = begin; it != end; ++it) {
      auto waiter = it->second;
      // cancel() must run on the timer's executor; post keeps it thread-safe.
      boost::asio::post(waiter->timer.get_executor(), [waiter] { waiter->timer.cancel(); });
    }
    waiters_.erase(begin, end);
  }
}

void Notifier::shutdown() {
  std::lock_guard lock(mutex_);
  shutting_down_ = true;
  for (auto& [user, waiter] : waiters_) {
    auto w = waiter;
    boost::asio::post(w->timer.get_executor(), [w] { w->timer.cancel(); });
  }
  waiters_.clear();
}

Task<void> Notifier::wait(std::string user, std::int64_t since, std::chrono::milliseconds timeout) {
  auto ex = co_await boost::asio::this_coro::executor;
  auto waiter = std::make_shared<Waiter>(ex);
  {
    std::lock_guard lock(mutex_);
    if (shutting_down_) co_return;
    auto it = last_position_for_user_.find(user);
    if (it != last_position_for_user_.end() && it->second > since) co_return;
    waiter->timer.expires_after(timeout);
    waiters_.emplace(user, waiter);
  }
  boost::system::error_code ec;
  co_await waiter->timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  std::lock_guard lock(mutex_);
  auto [begin, end] = waiters_.equal_range(user);
  for (auto it = begin; it != end; ++it) {
    if (it->second == waiter) {
      waiters_.erase(it);
      break;
    }
  }
}

}  // namespace herald::homeserver
