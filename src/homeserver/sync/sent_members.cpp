#include "homeserver/sync/sent_members.h"

#include <algorithm>

namespace herald::homeserver {

void SentMembers::reset(const std::string& client) {
  std::lock_guard lock(mutex_);
  clients_.erase(client);
}

bool SentMembers::was_sent(const std::string& client, const std::string& event_id) const {
  std::lock_guard lock(mutex_);
  auto it = clients_.find(client);
  return it != clients_.end() && it->second.events.contains(event_id);
}

void SentMembers::record(const std::string& client, const std::vector<std::string>& event_ids) {
  if (event_ids.empty()) return;
  std::lock_guard lock(mutex_);
  if (!clients_.contains(client) && clients_.size() >= max_clients_) evict_least_recent();
  Client& c = clients_[client];
  c.last_used = ++clock_;
  // A client that has been sent more than the cap starts again (it gets some members twice).
  if (c.events.size() + event_ids.size() > max_events_per_client_) c.events.clear();
  c.events.insert(event_ids.begin(), event_ids.end());
}

void SentMembers::evict_least_recent() {
  // Drops the least recently used tenth, so eviction is rare and its scan amortised.
  std::vector<std::pair<std::uint64_t, std::string>> order;
  order.reserve(clients_.size());
  for (const auto& [key, c] : clients_) order.emplace_back(c.last_used, key);
  const std::size_t drop = std::max<std::size_t>(1, order.size() / 10);
  std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(drop - 1), order.end());
  for (std::size_t i = 0; i < drop; ++i) clients_.erase(order[i].second);
}

}  // namespace herald::homeserver
