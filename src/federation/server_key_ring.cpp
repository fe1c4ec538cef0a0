#include "federation/server_key_ring.h"

namespace herald::federation {

void StaticServerKeyRing::add(const std::string& server, const std::string& key_id, std::string public_key32,
                              std::int64_t valid_until_ms) {
  std::lock_guard lock(mutex_);
  keys_[{server, key_id}] = Key{std::move(public_key32), valid_until_ms};
}

std::optional<std::string> StaticServerKeyRing::verify_key(const std::string& server, const std::string& key_id,
                                                           std::int64_t at_ms) const {
  std::lock_guard lock(mutex_);
  auto it = keys_.find({server, key_id});
  if (it == keys_.end()) return std::nullopt;
  if (it->second.valid_until_ms != 0 && at_ms > it->second.valid_until_ms) return std::nullopt;
  return it->second.public_key;
}

}  // namespace herald::federation
