#pragma once
// The transaction sender's queue over the homeserver's database (migration 0013). Reads run on the
// reader threads, removals on the writer; the sender awaits them from the outbound io_context.
#include "federation/outbound_queue.h"

namespace herald::storage {
class Database;
}

namespace herald::homeserver {

class DatabaseOutboundQueue final : public federation::OutboundQueue {
 public:
  explicit DatabaseOutboundQueue(storage::Database& db) : db_(db) {}

  Task<federation::QueueBatch> oldest(std::string destination, std::size_t limit) override;
  Task<void> remove(std::string destination, std::vector<std::int64_t> ids) override;
  Task<std::int64_t> keep_newest(std::string destination, std::size_t keep) override;
  Task<std::vector<std::pair<std::string, std::int64_t>>> backlog() override;

 private:
  storage::Database& db_;
};

}  // namespace herald::homeserver
