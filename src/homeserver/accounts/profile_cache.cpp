#include "homeserver/accounts/profile_cache.h"

namespace herald::homeserver {

std::optional<Profile> ProfileCache::find(const std::string& user_id) const {
  std::lock_guard lock(mutex_);
  auto it = profiles_.find(user_id);
  if (it == profiles_.end()) return std::nullopt;
  return it->second;
}

void ProfileCache::put(const std::string& user_id, Profile profile) {
  std::lock_guard lock(mutex_);
  // Bounded without bookkeeping: starting over is cheap, entries refill from the writer's reads.
  if (profiles_.size() >= capacity_ && !profiles_.contains(user_id)) profiles_.clear();
  profiles_.insert_or_assign(user_id, std::move(profile));
}

void ProfileCache::erase(const std::string& user_id) {
  std::lock_guard lock(mutex_);
  profiles_.erase(user_id);
}

void ProfileCache::clear() {
  std::lock_guard lock(mutex_);
  profiles_.clear();
}

}  // namespace herald::homeserver
