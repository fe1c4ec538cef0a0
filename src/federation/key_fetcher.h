#pragma once
// Getting another server's signing keys (federation.md §3): directly from its /_matrix/key/v2/server, or
// from a trusted notary's POST /_matrix/key/v2/query. Every key object returned has been checked: it is
// the server's own (server_name), self-signed by each verify key, and, through a notary, signed by the
// notary with a key the configuration names.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/task.h"
#include "federation/federation_client.h"
#include "federation/server_keys.h"

namespace herald::federation {

class KeyFetcher {
 public:
  virtual ~KeyFetcher() = default;
  virtual std::string name() const = 0;  // for logs: "direct" or the notary's name
  // The verified key objects of `server_name`; empty when none could be had (unreachable, invalid).
  // Never throws for a misbehaving remote.
  virtual Task<std::vector<ServerKeys>> fetch(std::string server_name, std::int64_t minimum_valid_until_ts) = 0;
};

class DirectKeyFetcher final : public KeyFetcher {
 public:
  explicit DirectKeyFetcher(FederationClient& client) : client_(client) {}
  std::string name() const override { return "direct"; }
  Task<std::vector<ServerKeys>> fetch(std::string server_name, std::int64_t minimum_valid_until_ts) override;

 private:
  FederationClient& client_;
};

class NotaryKeyFetcher final : public KeyFetcher {
 public:
  // Throws std::invalid_argument when a configured notary key is not base64 of 32 bytes.
  NotaryKeyFetcher(FederationClient& client, TrustedKeyServer notary);
  std::string name() const override { return notary_.server_name; }
  Task<std::vector<ServerKeys>> fetch(std::string server_name, std::int64_t minimum_valid_until_ts) override;

 private:
  FederationClient& client_;
  TrustedKeyServer notary_;
  std::map<std::string, std::string> raw_keys_;  // key ID -> 32 bytes
};

// The checks on a notary's answer {"server_keys": [...]}: each object for `server_name` must carry the
// notary's signature by one of `notary_keys` and pass parse_server_keys. Objects failing either are dropped.
std::vector<ServerKeys> verified_notary_answer(const nlohmann::json& answer, std::string_view server_name,
                                               std::string_view notary, const std::map<std::string, std::string>& notary_keys);

}  // namespace herald::federation
