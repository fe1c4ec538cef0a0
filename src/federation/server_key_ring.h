#pragma once
// The signing keys of servers whose signatures the event pipeline checks. The pipeline runs inside a
// database job, so it only reads what is already known; the federation transport fetches and caches
// remote keys (with their valid_until_ts) before handing events over.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace herald::federation {

class ServerKeyRing {
 public:
  virtual ~ServerKeyRing() = default;
  // The raw 32-byte ed25519 public key `key_id` of `server`, if known and valid at `at_ms`.
  virtual std::optional<std::string> verify_key(const std::string& server, const std::string& key_id,
                                                std::int64_t at_ms) const = 0;
};

// Keys known in advance: this server's own, and keys given by an operator or a test.
class StaticServerKeyRing : public ServerKeyRing {
 public:
  // valid_until_ms 0: no expiry.
  void add(const std::string& server, const std::string& key_id, std::string public_key32, std::int64_t valid_until_ms = 0);
  std::optional<std::string> verify_key(const std::string& server, const std::string& key_id,
                                        std::int64_t at_ms) const override;

 private:
  struct Key {
    std::string public_key;
    std::int64_t valid_until_ms;
  };
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, Key> keys_;
};

}  // namespace herald::federation
