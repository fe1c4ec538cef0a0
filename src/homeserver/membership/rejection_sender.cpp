#include "homeserver/membership/rejection_sender.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/clock.h"
#include "core/log.h"
#include "homeserver/membership/remote_leaver.h"
#include "storage/database.h"
#include "storage/event_graph_store.h"
#include "storage/pending_rejection_store.h"
#include "storage/room_store.h"

namespace herald::homeserver {
namespace asio = boost::asio;
namespace store = storage::pending_rejection_store;

struct RejectionSender::Pending {
  Pending(asio::io_context& io, Key k, federation::RetryOptions retry) : key(std::move(k)), timer(io), backoff(retry) {}

  Key key;
  asio::steady_timer timer;  // the back-off sleep
  federation::RetryBackoff backoff;
  std::vector<std::string> servers;  // as last read, for remote_up
  bool running = false;              // a coroutine is on it
  bool woken = false;                // kept (again) since that coroutine last read the row
  bool waiting = false;              // asleep on the timer
};

RejectionSender::RejectionSender(asio::io_context& io, storage::Database& db, RemoteLeaver& leaver, const Clock& clock,
                                 federation::RetryOptions retry, std::chrono::milliseconds give_up_after)
    : io_(io),
      db_(db),
      leaver_(leaver),
      clock_(clock),
      retry_(retry),
      give_up_after_(give_up_after),
      random_(std::random_device{}()) {}

RejectionSender::~RejectionSender() = default;

void RejectionSender::start() { asio::co_spawn(io_, resume_kept(), asio::detached); }

Task<void> RejectionSender::resume_kept() {
  std::vector<storage::PendingRejection> kept;
  auto job = [&](storage::sql::Connection& c) { kept = store::all(c); };
  try {
    co_await db_.read(job);
  } catch (const std::exception& e) {
    log::error("kept rejections not resumed error={}", e.what());
    co_return;
  }
  if (!kept.empty()) log::info("kept rejections resumed count={}", kept.size());
  for (const auto& row : kept) wake_here({row.room_id, row.user_id});
}

void RejectionSender::wake(std::string room_id, std::string user_id) {
  asio::post(io_, [this, key = Key(std::move(room_id), std::move(user_id))] { wake_here(key); });
}

void RejectionSender::wake_here(const Key& key) {
  if (stopping_) return;
  auto& slot = pending_[key];
  if (!slot) {
    slot = std::make_shared<Pending>(io_, key, retry_);
    ++in_flight_;
  }
  slot->woken = true;
  if (slot->waiting) slot->timer.cancel();  // a new rejection goes now, not after the old one's back-off
  if (slot->running) return;
  slot->running = true;
  asio::co_spawn(io_, run(slot), asio::detached);
}

void RejectionSender::remote_up(std::string server) {
  asio::post(io_, [this, server = std::move(server)] {
    for (auto& [key, p] : pending_) {
      if (!p->waiting || std::find(p->servers.begin(), p->servers.end(), server) == p->servers.end()) continue;
      log::info("rejection retried now room={} user={}: {} is back", key.first, key.second, server);
      p->timer.cancel();
    }
  });
}

void RejectionSender::stop() {
  stopping_ = true;
  asio::post(io_, [this] {
    for (auto& [key, p] : pending_) p->timer.cancel();
  });
}

Task<void> RejectionSender::run(std::shared_ptr<Pending> p) {
  std::uniform_real_distribution<double> fraction(0.0, 1.0);
  while (!stopping_) {
    p->woken = false;
    const Step step = co_await attempt(p);
    if (stopping_) break;
    if (p->woken) continue;  // kept again meanwhile: that row goes now
    if (step == Step::done) break;
    const auto wait = p->backoff.failed(fraction(random_));
    log::info("rejection waits room={} user={} retry_in_ms={} failures={}", p->key.first, p->key.second, wait.count(),
              p->backoff.failures());
    p->timer.expires_after(wait);
    p->waiting = true;
    boost::system::error_code ec;
    co_await p->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    p->waiting = false;
  }
  p->running = false;
  if (stopping_) co_return;  // the row, if any, stays kept for the next start
  auto it = pending_.find(p->key);
  if (it != pending_.end() && it->second == p) {
    pending_.erase(it);
    --in_flight_;
  }
}

Task<RejectionSender::Step> RejectionSender::attempt(std::shared_ptr<Pending> p) {
  const std::string& room_id = p->key.first;
  const std::string& user_id = p->key.second;
  std::optional<storage::PendingRejection> row;
  bool current = false;
  auto read = [&](storage::sql::Connection& c) {
    row = store::find(c, room_id, user_id);
    if (!row) return;
    // A later invite, or a join, replaced the rejected invite: its leave would undo that. The rejection
    // still stands while the membership is the leave made here out of band (it follows the invite), or
    // the invite itself (rejections kept before out-of-band leaves).
    const auto membership = storage::room_store::membership(c, room_id, user_id);
    current = membership && membership->membership == "leave" &&
              (membership->event_id == row->invite_event_id ||
               storage::event_graph_store::prev_events(c, membership->event_id) == std::vector{row->invite_event_id});
  };
  try {
    co_await db_.read(read);
  } catch (const std::exception& e) {
    log::error("kept rejection not read room={} user={} error={}", room_id, user_id, e.what());
    co_return Step::retry;
  }
  if (!row) co_return Step::done;

  LeaveResult result = LeaveResult::refused;
  const bool too_old = clock_.now_ms() - row->queued_ts > give_up_after_.count();
  if (current && too_old) {
    log::info("rejection given up room={} user={}: no server took it since {}", room_id, user_id, row->queued_ts);
  } else if (current) {
    p->servers = row->servers;
    RemoteLeave leave{row->room_id, row->user_id, row->servers, row->reason};
    try {
      result = co_await leaver_.send_leave(std::move(leave));
    } catch (const std::exception& e) {
      log::warn("rejection not sent room={} user={} error={}", room_id, user_id, e.what());
      result = LeaveResult::unreachable;
    }
    if (result == LeaveResult::unreachable) co_return Step::retry;
    if (result == LeaveResult::refused) {
      log::info("rejection refused by every server room={} user={}: not retried", room_id, user_id);
    }
  }
  const std::string invite_event_id = row->invite_event_id;
  auto remove = [&](storage::sql::Connection& c) { store::remove(c, room_id, user_id, invite_event_id); };
  try {
    co_await db_.write(remove);
  } catch (const std::exception& e) {
    log::error("sent rejection not removed room={} user={} error={}", room_id, user_id, e.what());
    co_return Step::retry;
  }
  co_return Step::done;
}

}  // namespace herald::homeserver
