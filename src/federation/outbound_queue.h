#pragma once
// Where the transaction sender keeps what it has yet to send (the seam to persistence, STYLE.md §1): the
// homeserver implements it over its database (homeserver/federation/database_outbound_queue.h), rows
// written in the same transaction as each local event; tests implement it in memory.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/task.h"

namespace herald::federation {

struct QueuedPdu {
  std::int64_t id = 0;    // increasing in queue order
  std::string event_id;
  std::string pdu;        // JSON text of the PDU (federation form); empty when the event is gone
};

struct QueueBatch {
  std::vector<QueuedPdu> pdus;  // the oldest, at most the limit asked for
  std::int64_t queued = 0;      // everything queued for the destination, the batch included
};

class OutboundQueue {
 public:
  virtual ~OutboundQueue() = default;
  virtual Task<QueueBatch> oldest(std::string destination, std::size_t limit) = 0;
  // Acknowledged, refused for good, or gone.
  virtual Task<void> remove(std::string destination, std::vector<std::int64_t> ids) = 0;
  // Drops all but the newest `keep`; returns how many were dropped.
  virtual Task<std::int64_t> keep_newest(std::string destination, std::size_t keep) = 0;
  // Every destination with something queued, and how much (at start-up).
  virtual Task<std::vector<std::pair<std::string, std::int64_t>>> backlog() = 0;
};

}  // namespace herald::federation
