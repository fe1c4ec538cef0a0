#pragma once
// Outbound federation transactions (federation.md §5), one queue per destination server (from: Synapse's
// federation/sender/per_destination_queue.py; Dendrite's federationapi/queue/destinationqueue.go).
//
// PDUs wait in an OutboundQueue (persistent: the homeserver writes them in the event's own transaction);
// EDUs wait in memory. Each destination with work has one sender coroutine on the outbound io_context:
// it takes the oldest PDUs (at most 50) and EDUs (at most 100), PUTs them as one transaction to
// /_matrix/federation/v1/send/{txnId}, and removes them once acknowledged. A failure (no answer, 5xx,
// 429) backs the destination off (RetryBackoff) and the same transaction, under the same txnId, is tried
// again later; a 4xx other than 429 is final: the transaction is dropped, not retried forever. When the
// destination returns, the sender catches up oldest first; a backlog above `catch_up_limit` is cut to its
// newest events (the destination fetches the gap with /get_missing_events when it sees their
// prev_events). No thread waits on a remote: every step is a coroutine.
//
//   sender.start();                          // resumes what the queue held at start-up
//   sender.wake({"remote.example"});         // after commit: rows were queued for these destinations
//   sender.stop();                           // on shutdown: no further attempts; queued rows stay queued
//
// Metrics: herald_federation_outbound_queue_length{destination} (gauge, PDUs),
// herald_federation_transactions_sent_total{destination}, herald_federation_pdus_sent_total{destination},
// herald_federation_send_failures_total{destination}, herald_federation_pdus_dropped_total{reason}.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/task.h"
#include "federation/retry_backoff.h"

namespace boost::asio {
class io_context;
}
namespace herald {
class Clock;
}
namespace herald::http {
class Metrics;
}

namespace herald::federation {

class FederationClient;
class OutboundQueue;

struct SenderOptions {
  RetryOptions retry;
  std::size_t max_pdus = 50;   // per transaction (the spec's limit)
  std::size_t max_edus = 100;  // per transaction (the spec's limit)
  // A destination's PDU backlog above this is cut to its newest events before catching up.
  std::size_t catch_up_limit = 1000;
  // EDUs kept in memory per destination; older ones are dropped beyond this.
  std::size_t max_queued_edus = 1000;
};

class TransactionSender {
 public:
  TransactionSender(boost::asio::io_context& outbound, FederationClient& client, OutboundQueue& queue,
                    http::Metrics& metrics, const Clock& clock, SenderOptions options = {});
  ~TransactionSender();
  TransactionSender(const TransactionSender&) = delete;
  TransactionSender& operator=(const TransactionSender&) = delete;

  // Any thread. Reads the queue's backlog and starts a sender for each destination in it.
  void start();
  // Any thread. PDUs were queued (and committed) for these destinations: send them, unless backing off.
  void wake(std::vector<std::string> destinations);
  // Any thread. The remote answered us (e.g. it sent us a request): retry it now if it was backing off.
  void remote_up(std::string destination);
  // Any thread. An EDU for `destination`, sent with the next transaction (kept in memory only).
  void queue_edu(std::string destination, nlohmann::json edu);
  // Any thread. No new attempts after this; what is queued stays queued for the next start.
  void stop();

  // Transaction IDs are "<start-up ms>.<counter>": unique across restarts of this server.
  std::string next_txn_id();

 private:
  struct Destination;
  std::shared_ptr<Destination> destination(const std::string& name);  // outbound thread only
  void kick(const std::shared_ptr<Destination>& d);                   // outbound thread only
  Task<void> run(std::shared_ptr<Destination> d);
  // idle: nothing to send; answered: acknowledged or refused for good; failed: backing off.
  enum class Attempt { idle, answered, failed };
  Task<Attempt> send_once(std::shared_ptr<Destination> d);
  void failed(Destination& d, std::string txn_id, std::vector<std::int64_t> ids, std::vector<nlohmann::json> edus,
              const std::string& why);
  void set_queue_length(const Destination& d);

  boost::asio::io_context& io_;
  FederationClient& client_;
  OutboundQueue& queue_;
  http::Metrics& metrics_;
  const Clock& clock_;
  SenderOptions options_;
  std::atomic<bool> stopping_{false};
  std::map<std::string, std::shared_ptr<Destination>> destinations_;  // outbound thread only
  std::mt19937_64 random_;                                            // outbound thread only
  std::int64_t boot_ms_;
  std::atomic<std::uint64_t> txn_counter_{0};
};

}  // namespace herald::federation
