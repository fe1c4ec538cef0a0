#include "federation/transaction_sender.h"

#include <deque>
#include <optional>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/log.h"
#include "federation/federation_client.h"
#include "federation/outbound_queue.h"
#include "http/client.h"
#include "http/metrics.h"

namespace herald::federation {
namespace asio = boost::asio;
using Steady = std::chrono::steady_clock;

namespace {
constexpr std::string_view kQueueLength = "herald_federation_outbound_queue_length";
constexpr std::string_view kTxnsSent = "herald_federation_transactions_sent_total";
constexpr std::string_view kPdusSent = "herald_federation_pdus_sent_total";
constexpr std::string_view kFailures = "herald_federation_send_failures_total";
constexpr std::string_view kDropped = "herald_federation_pdus_dropped_total";
}  // namespace

struct TransactionSender::Destination {
  Destination(asio::io_context& io, std::string destination, RetryOptions retry)
      : name(std::move(destination)), timer(io), backoff(retry) {}

  std::string name;
  asio::steady_timer timer;  // the back-off sleep
  RetryBackoff backoff;
  Steady::time_point retry_at{};  // in the past: not backing off
  bool running = false;           // a sender coroutine is on it
  bool woken = false;             // something was queued since the sender last read the queue
  std::int64_t queued = 0;        // PDUs queued, as last read plus those woken for since
  std::deque<nlohmann::json> edus;
  // The transaction that failed, tried again as it was (same txnId) while the queue's head is unchanged.
  struct Pending {
    std::string txn_id;
    std::vector<std::int64_t> ids;
    std::vector<nlohmann::json> edus;
  };
  std::optional<Pending> pending;
};

TransactionSender::TransactionSender(asio::io_context& outbound, FederationClient& client, OutboundQueue& queue,
                                     http::Metrics& metrics, const Clock& clock, SenderOptions options)
    : io_(outbound),
      client_(client),
      queue_(queue),
      metrics_(metrics),
      clock_(clock),
      options_(options),
      random_(std::random_device{}()),
      boot_ms_(clock.now_ms()) {}

TransactionSender::~TransactionSender() = default;

std::string TransactionSender::next_txn_id() { return std::to_string(boot_ms_) + "." + std::to_string(++txn_counter_); }

std::shared_ptr<TransactionSender::Destination> TransactionSender::destination(const std::string& name) {
  auto& slot = destinations_[name];
  if (!slot) slot = std::make_shared<Destination>(io_, name, options_.retry);
  return slot;
}

void TransactionSender::set_queue_length(const Destination& d) {
  metrics_.set_gauge(kQueueLength, "destination", d.name, d.queued);
}

void TransactionSender::kick(const std::shared_ptr<Destination>& d) {
  if (d->running || stopping_) return;
  d->running = true;
  asio::co_spawn(io_, run(d), asio::detached);
}

void TransactionSender::start() {
  asio::co_spawn(
      io_,
      [this]() -> Task<void> {
        try {
          const auto backlog = co_await queue_.backlog();
          for (const auto& [name, n] : backlog) {
            auto d = destination(name);
            d->queued = n;
            set_queue_length(*d);
            log::info("federation queue resumed destination={} pdus={}", name, n);
            kick(d);
          }
        } catch (const std::exception& e) {
          log::error("federation queue not resumed error={}", e.what());
        }
      },
      asio::detached);
}

void TransactionSender::wake(std::vector<std::string> destinations) {
  if (destinations.empty()) return;
  asio::post(io_, [this, destinations = std::move(destinations)] {
    for (const auto& name : destinations) {
      auto d = destination(name);
      d->woken = true;
      ++d->queued;
      set_queue_length(*d);
      kick(d);
    }
  });
}

void TransactionSender::remote_up(std::string name) {
  asio::post(io_, [this, name = std::move(name)] {
    auto it = destinations_.find(name);
    if (it == destinations_.end() || it->second->retry_at <= Steady::now()) return;
    log::info("federation destination back destination={} after_failures={}", name, it->second->backoff.failures());
    it->second->retry_at = {};
    it->second->timer.cancel();
    kick(it->second);
  });
}

void TransactionSender::queue_edu(std::string name, nlohmann::json edu) {
  asio::post(io_, [this, name = std::move(name), edu = std::move(edu)]() mutable {
    auto d = destination(name);
    d->edus.push_back(std::move(edu));
    if (d->edus.size() > options_.max_queued_edus) {
      d->edus.pop_front();
      metrics_.increment(kDropped, "reason", "edu_overflow");
    }
    d->woken = true;
    kick(d);
  });
}

void TransactionSender::stop() {
  stopping_ = true;
  asio::post(io_, [this] {
    for (auto& [name, d] : destinations_) d->timer.cancel();
  });
}

Task<void> TransactionSender::run(std::shared_ptr<Destination> d) {
  while (!stopping_) {
    if (d->retry_at > Steady::now()) {
      d->timer.expires_at(d->retry_at);
      boost::system::error_code ec;
      co_await d->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;  // stopped, woken early by remote_up, or due
    }
    d->woken = false;
    Attempt attempt = Attempt::failed;
    try {
      attempt = co_await send_once(d);
    } catch (const std::exception& e) {
      // The queue's storage failed: try again later like a failed send.
      const auto delay = d->backoff.failed(std::uniform_real_distribution<double>(0, 1)(random_));
      d->retry_at = Steady::now() + delay;
      log::error("federation queue unreadable destination={} error={} retry_in_ms={}", d->name, e.what(), delay.count());
      continue;
    }
    if (attempt == Attempt::idle && !d->woken) break;
  }
  d->running = false;
}

void TransactionSender::failed(Destination& d, std::string txn_id, std::vector<std::int64_t> ids,
                               std::vector<nlohmann::json> edus, const std::string& why) {
  const auto delay = d.backoff.failed(std::uniform_real_distribution<double>(0, 1)(random_));
  d.retry_at = Steady::now() + delay;
  metrics_.increment(kFailures, "destination", d.name);
  log::info("federation send failed destination={} txn={} pdus={} edus={} failures={} retry_in_ms={} error={}", d.name,
            txn_id, ids.size(), edus.size(), d.backoff.failures(), delay.count(), why);
  d.pending = Destination::Pending{std::move(txn_id), std::move(ids), std::move(edus)};
}

Task<TransactionSender::Attempt> TransactionSender::send_once(std::shared_ptr<Destination> d) {
  QueueBatch batch = co_await queue_.oldest(d->name, options_.max_pdus);
  if (batch.queued > static_cast<std::int64_t>(options_.catch_up_limit)) {
    // Bounded catch-up: the newest events only; the destination fetches the gap from their prev_events.
    const std::int64_t dropped = co_await queue_.keep_newest(d->name, options_.catch_up_limit);
    metrics_.increment(kDropped, "reason", "catch_up", static_cast<std::uint64_t>(dropped));
    log::warn("federation backlog cut destination={} dropped={} kept={}", d->name, dropped, options_.catch_up_limit);
    d->pending.reset();
    batch = co_await queue_.oldest(d->name, options_.max_pdus);
  }
  d->queued = batch.queued;
  set_queue_length(*d);

  std::vector<std::int64_t> ids;
  for (const auto& p : batch.pdus) ids.push_back(p.id);
  std::vector<nlohmann::json> edus;
  std::string txn_id;
  if (d->pending && d->pending->ids == ids) {
    txn_id = std::move(d->pending->txn_id);  // the same transaction again: the remote answers it once
    edus = std::move(d->pending->edus);
  } else {
    if (d->pending) {
      for (auto it = d->pending->edus.rbegin(); it != d->pending->edus.rend(); ++it) d->edus.push_front(std::move(*it));
    }
    while (!d->edus.empty() && edus.size() < options_.max_edus) {
      edus.push_back(std::move(d->edus.front()));
      d->edus.pop_front();
    }
    if (!ids.empty() || !edus.empty()) txn_id = next_txn_id();
  }
  d->pending.reset();
  if (ids.empty() && edus.empty()) co_return Attempt::idle;

  nlohmann::json pdus = nlohmann::json::array();
  for (const auto& p : batch.pdus) {
    if (p.pdu.empty()) continue;  // the event is gone: its row goes with this batch
    nlohmann::json pdu = nlohmann::json::parse(p.pdu, nullptr, false);
    if (pdu.is_discarded() || !pdu.is_object()) continue;
    pdu.erase("unsigned");
    pdus.push_back(std::move(pdu));
  }
  nlohmann::json body = {{"origin", client_.origin()}, {"origin_server_ts", clock_.now_ms()}, {"pdus", std::move(pdus)}};
  if (!edus.empty()) body["edus"] = edus;
  FederationRequest request;
  request.method = http::Method::put;
  request.destination = d->name;
  request.uri = "/_matrix/federation/v1/send/" + txn_id;
  request.body = body.dump();

  http::ClientResponse response;
  try {
    response = co_await client_.send(std::move(request));
  } catch (const std::exception& e) {
    failed(*d, std::move(txn_id), std::move(ids), std::move(edus), e.what());
    co_return Attempt::failed;
  }
  const int status = response.status;
  if (status >= 200 && status < 300) {
    co_await queue_.remove(d->name, ids);
    if (d->backoff.failures() > 0) log::info("federation destination recovered destination={}", d->name);
    d->backoff.succeeded();
    d->retry_at = {};
    d->queued = std::max<std::int64_t>(0, d->queued - static_cast<std::int64_t>(ids.size()));
    set_queue_length(*d);
    metrics_.increment(kTxnsSent, "destination", d->name);
    metrics_.increment(kPdusSent, "destination", d->name, ids.size());
    // Per-PDU errors are the remote's verdict on each event; they are logged, never retried.
    const nlohmann::json answer = nlohmann::json::parse(response.body, nullptr, false);
    if (answer.is_object() && answer.contains("pdus") && answer["pdus"].is_object()) {
      for (const auto& [event_id, result] : answer["pdus"].items()) {
        if (result.is_object() && result.contains("error"))
          log::debug("federation pdu refused destination={} event={} error={}", d->name, event_id, result["error"].dump());
      }
    }
    log::debug("federation txn sent destination={} txn={} pdus={} edus={}", d->name, txn_id, ids.size(), edus.size());
    co_return Attempt::answered;
  }
  if (status >= 400 && status < 500 && status != 429) {
    // Final: sending the same transaction again would get the same answer.
    co_await queue_.remove(d->name, ids);
    d->backoff.succeeded();
    d->retry_at = {};
    d->queued = std::max<std::int64_t>(0, d->queued - static_cast<std::int64_t>(ids.size()));
    set_queue_length(*d);
    metrics_.increment(kFailures, "destination", d->name);
    metrics_.increment(kDropped, "reason", "refused", ids.size());
    log::warn("federation txn refused destination={} txn={} status={} pdus={} edus={} (dropped, not retried)", d->name,
              txn_id, status, ids.size(), edus.size());
    co_return Attempt::answered;
  }
  failed(*d, std::move(txn_id), std::move(ids), std::move(edus), "status " + std::to_string(status));
  co_return Attempt::failed;
}

}  // namespace herald::federation
