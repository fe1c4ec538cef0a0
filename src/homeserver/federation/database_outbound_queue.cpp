#include "homeserver/federation/database_outbound_queue.h"

#include "storage/database.h"
#include "storage/federation_outbound_store.h"

namespace herald::homeserver {
namespace store = storage::federation_outbound_store;

Task<federation::QueueBatch> DatabaseOutboundQueue::oldest(std::string destination, std::size_t limit) {
  co_return co_await db_.read([&](storage::sql::Connection& c) {
    federation::QueueBatch batch;
    for (auto& row : store::oldest(c, destination, limit)) {
      // A redacted event goes out as stored; the redaction event that follows it tells the destination.
      batch.pdus.push_back({row.id, std::move(row.event_id), std::move(row.pdu)});
    }
    batch.queued = store::count(c, destination);
    return batch;
  });
}

Task<void> DatabaseOutboundQueue::remove(std::string destination, std::vector<std::int64_t> ids) {
  if (ids.empty()) co_return;
  co_await db_.write([&](storage::sql::Connection& c) { store::remove(c, destination, ids); });
}

Task<std::int64_t> DatabaseOutboundQueue::keep_newest(std::string destination, std::size_t keep) {
  co_return co_await db_.write([&](storage::sql::Connection& c) { return store::keep_newest(c, destination, keep); });
}

Task<std::vector<std::pair<std::string, std::int64_t>>> DatabaseOutboundQueue::backlog() {
  co_return co_await db_.read([&](storage::sql::Connection& c) { return store::backlog(c); });
}

}  // namespace herald::homeserver
