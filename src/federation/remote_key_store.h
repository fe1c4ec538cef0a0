#pragma once
// Remote servers' signing keys, cached with their valid_until_ts: in memory, and through KeyPersistence
// in the homeserver's database so a restart does not refetch them. Fetches go through the KeyFetchers in
// order (the trusted notaries, then the server itself) and run on the outbound io_context; concurrent
// fetches for one server share a single request.
//
// Two kinds of lookup:
// - request_key(): a key to check an X-Matrix request signature: verify_keys only, valid now; fetched
//   when unknown or expired (an unknown key ID refetches at most once a minute per server).
// - verify_key() (ServerKeyRing): for event signatures, from memory only (the pipeline runs inside a
//   database job); a verify key counts until min(valid_until_ts, the time it was fetched + 7 days), an
//   old_verify_key until its expired_ts (the pipeline asks at time 0 in room versions 1-4, where
//   valid_until_ts is ignored, and at the event's origin_server_ts from version 5).
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/task.h"
#include "federation/server_key_ring.h"
#include "federation/server_keys.h"

namespace boost::asio {
class io_context;
}
namespace herald {
class Clock;
}

namespace herald::federation {

class KeyFetcher;

// Where verified key objects are kept across restarts (implemented by the homeserver over its database).
class KeyPersistence {
 public:
  virtual ~KeyPersistence() = default;
  virtual Task<void> save(ServerKeys keys) = 0;
};

// The key lookup the request verifier needs (RemoteKeyStore in production, a fake in tests).
class RequestKeySource {
 public:
  virtual ~RequestKeySource() = default;
  // The raw 32-byte key `key_id` of `server`, current now; nullopt when it cannot be found.
  virtual Task<std::optional<std::string>> request_key(std::string server, std::string key_id) = 0;
};

class RemoteKeyStore final : public ServerKeyRing, public RequestKeySource {
 public:
  // `io` is the outbound io_context (one thread). `fill`, when given, receives every verified key too
  // (the event pipeline's ring). `persistence` may be null (the identity server keeps keys in memory).
  RemoteKeyStore(boost::asio::io_context& io, std::vector<KeyFetcher*> fetchers, const Clock& clock,
                 KeyPersistence* persistence = nullptr, StaticServerKeyRing* fill = nullptr);
  ~RemoteKeyStore() override;

  // Adds verified keys (loaded from the database at start-up, or fetched), fetched at `fetched_ms`.
  void add(const ServerKeys& keys, std::int64_t fetched_ms);

  Task<std::optional<std::string>> request_key(std::string server, std::string key_id) override;

  // The latest key object of `server` (what a notary serves): fetched again when needs_refetch says so;
  // when that fails (the origin is down), the cached one whatever its age; empty when never seen.
  Task<std::vector<ServerKeys>> keys_for(std::string server, std::int64_t minimum_valid_until_ts);

  // For a notary answer naming key IDs (key ID -> its minimum_valid_until_ts): for each ID, the latest
  // key object seen that lists it in verify_keys (so an origin that stopped publishing a key cannot make
  // us forget it), fetching when one is unknown or valid until before its minimum; when the fetch fails,
  // the cached ones whatever their age. Each object once; IDs never seen give nothing.
  Task<std::vector<ServerKeys>> keys_for(std::string server, std::map<std::string, std::int64_t> minimum_by_key_id);

  // A cached object fetched at `fetched_ms` is asked for again when it is not valid until
  // `minimum_valid_until_ts`, when its event validity (7 days from the fetch) has ended, when it expires
  // within the hour, or when it has passed half its lifetime (federation.md §3).
  static bool needs_refetch(std::int64_t valid_until_ts, std::int64_t fetched_ms, std::int64_t now,
                            std::int64_t minimum_valid_until_ts);

  // Fetches `server`'s keys again (an event named a key unknown or no longer valid at its time), at most
  // once a minute per server; a fetch already under way (for a request signature, say) is waited for.
  Task<void> refetch(std::string server);

  std::optional<std::string> verify_key(const std::string& server, const std::string& key_id,
                                        std::int64_t at_ms) const override;

  // The latest verified key object of `server` in memory.
  std::optional<ServerKeys> cached(const std::string& server) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace herald::federation
