#include "identity/onbind/onbind_delivery.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/clock.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/matrix_error.h"
#include "federation/federation_client.h"
#include "http/client.h"
#include "identity/onbind/onbind_store.h"
#include "storage/database.h"

namespace herald::identity {
namespace asio = boost::asio;

namespace {
constexpr int kBatch = 32;
constexpr auto kIdleWait = std::chrono::seconds(60);
}  // namespace

struct OnbindDelivery::Impl : std::enable_shared_from_this<OnbindDelivery::Impl> {
  Impl(asio::io_context& io, storage::Database& db, federation::FederationClient& federation, const Clock& clock,
       OnbindOptions options)
      : io(io), db(db), federation(federation), clock(clock), options(options), timer(io) {}

  asio::io_context& io;
  storage::Database& db;
  federation::FederationClient& federation;
  const Clock& clock;
  OnbindOptions options;
  asio::steady_timer timer;
  std::atomic<bool> stopped{false};
  std::atomic<bool> woken{false};

  std::int64_t backoff_ms(std::int64_t attempts) const {
    std::int64_t delay = options.first_retry.count();
    for (std::int64_t i = 1; i < attempts && delay < options.max_retry.count(); ++i) delay *= 2;
    return std::min<std::int64_t>(delay, options.max_retry.count());
  }

  // Returns an error text, or empty on a 200.
  Task<std::string> deliver(const OnbindJob& job) {
    const auto user = UserId::parse(job.mxid);
    if (!user) co_return "invalid mxid";
    try {
      federation::FederationRequest req;
      req.method = http::Method::post;  // Synapse routes POST only (identity.md §7)
      req.destination = std::string(user->server_name());
      req.uri = "/_matrix/federation/v1/3pid/onbind";
      req.body = job.body;
      req.sign = false;  // the body carries the signatures
      req.timeout = std::chrono::seconds(30);
      const http::ClientResponse res = co_await federation.send(std::move(req));
      if (res.status == 200) co_return std::string();
      co_return "homeserver answered " + std::to_string(res.status) + ": " + res.body.substr(0, 200);
    } catch (const federation::FederationError& e) {
      co_return std::string(e.what());
    }
  }

  Task<void> run() {
    auto self = shared_from_this();
    while (!stopped) {
      woken = false;
      const std::int64_t now = clock.now_ms();
      std::vector<OnbindJob> jobs;
      try {
        jobs = co_await db.read([&](storage::sql::Connection& c) { return onbind_store::due(c, now, kBatch); });
      } catch (const std::exception& e) {
        log::error("onbind queue unreadable: {}", e.what());
      }
      for (const auto& job : jobs) {
        if (stopped) co_return;
        const std::string error = co_await deliver(job);
        try {
          if (error.empty()) {
            co_await db.write([&](storage::sql::Connection& c) { onbind_store::complete(c, job); });
            log::info("onbind delivered mxid={} invites={} attempts={}", job.mxid, job.invite_tokens.size(), job.attempts + 1);
          } else {
            const std::int64_t attempts = job.attempts + 1;
            const std::int64_t next = clock.now_ms() + backoff_ms(attempts);
            co_await db.write([&](storage::sql::Connection& c) { onbind_store::reschedule(c, job.id, attempts, next, error); });
            log::warn("onbind delivery failed mxid={} attempt={} retry_in_ms={} error={}", job.mxid, attempts,
                      next - clock.now_ms(), error);
          }
        } catch (const std::exception& e) {
          log::error("onbind queue update failed: {}", e.what());
        }
      }
      if (jobs.size() == static_cast<std::size_t>(kBatch) || woken) continue;
      std::optional<std::int64_t> next_due;
      try {
        next_due = co_await db.read([&](storage::sql::Connection& c) { return onbind_store::next_due(c); });
      } catch (const std::exception&) {
      }
      auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(kIdleWait);
      if (next_due) wait = std::min(wait, std::chrono::milliseconds(std::max<std::int64_t>(0, *next_due - clock.now_ms())));
      if (wait.count() == 0 || woken) continue;
      timer.expires_after(wait);
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }
};

OnbindDelivery::OnbindDelivery(asio::io_context& io, storage::Database& db, federation::FederationClient& federation,
                               const Clock& clock, OnbindOptions options)
    : impl_(std::make_shared<Impl>(io, db, federation, clock, options)) {}

OnbindDelivery::~OnbindDelivery() { stop(); }

void OnbindDelivery::start() {
  auto impl = impl_;
  auto loop = impl->run();
  asio::co_spawn(impl->io, std::move(loop), [](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      log::error("onbind delivery stopped: {}", ex.what());
    }
  });
}

void OnbindDelivery::wake() {
  auto impl = impl_;
  impl->woken = true;
  asio::post(impl->io, [impl] { impl->timer.cancel(); });
}

void OnbindDelivery::stop() {
  auto impl = impl_;
  if (impl->stopped.exchange(true)) return;
  asio::post(impl->io, [impl] { impl->timer.cancel(); });
}

}  // namespace herald::identity
