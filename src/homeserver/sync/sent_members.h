#pragma once
// Which m.room.member events each client (user + device) has already been sent by lazy-loading syncs, so
// an incremental sync does not send them again (the filter's include_redundant_members: false). A bounded
// in-memory cache: forgetting an entry only costs one redundant member event later.
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace herald::homeserver {

class SentMembers {
 public:
  explicit SentMembers(std::size_t max_clients = 20'000, std::size_t max_events_per_client = 50'000)
      : max_clients_(max_clients), max_events_per_client_(max_events_per_client) {}

  // An initial sync: the client starts again from nothing.
  void reset(const std::string& client);
  bool was_sent(const std::string& client, const std::string& event_id) const;
  void record(const std::string& client, const std::vector<std::string>& event_ids);

 private:
  struct Client {
    std::unordered_set<std::string> events;
    std::uint64_t last_used = 0;
  };
  void evict_least_recent();  // mutex held

  std::size_t max_clients_, max_events_per_client_;
  mutable std::mutex mutex_;
  std::uint64_t clock_ = 0;
  std::unordered_map<std::string, Client> clients_;
};

}  // namespace herald::homeserver
