#pragma once
// Requests to other Matrix servers by server name (federation.md §1, §2, §4): discovery picks where to
// connect, the Host header and the certificate name; the request is signed with X-Matrix (origin and
// destination are the server names as given, never the delegated ones); JSON in and out.
//
//   federation::FederationClient& fed = ...;
//   nlohmann::json v = co_await fed.get_json("remote.example", "/_matrix/federation/v1/version");
//   nlohmann::json r = co_await fed.put_json("remote.example", "/_matrix/federation/v1/send/1", txn);
//
// Errors: FederationError (no answer: refused address, DNS, TLS, timeout; or a non-2xx answer, with its
// status and errcode kept for the caller; never relayed verbatim to clients).
#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/task.h"
#include "http/request.h"

namespace herald::crypto {
class SigningKey;
}
namespace herald::http {
class Client;
struct ClientResponse;
}  // namespace herald::http

namespace herald::federation {

class ServerDiscovery;

// A trusted notary (trusted_key_servers): its name and the keys its answers must be signed with.
struct TrustedKeyServer {
  std::string server_name;
  std::map<std::string, std::string> verify_keys;  // key ID -> unpadded base64 public key
};

// What app/ builds from the configuration for the one federation layer of either server.
struct FederationClientOptions {
  bool verify_certificates = true;            // federation_verify_certificates
  std::vector<std::string> custom_ca_files;   // federation_custom_ca_list
  std::vector<std::string> ip_range_blacklist;  // empty: http::default_ip_range_blacklist()
  std::vector<std::string> ip_range_whitelist;
  std::vector<TrustedKeyServer> trusted_key_servers;  // empty: fetch keys from each server directly
  // Operator-named destinations: server name -> base URL (http or https). These bypass discovery and the
  // IP guard (the identity server's `homeservers` map; they may be private).
  std::map<std::string, std::string> destination_overrides;
  std::chrono::milliseconds request_timeout{60000};
};

struct FederationError : std::runtime_error {
  FederationError(std::string message, int status = 0, std::string errcode = {})
      : std::runtime_error(std::move(message)), status(status), errcode(std::move(errcode)) {}
  int status;           // 0: no HTTP answer
  std::string errcode;  // the remote's errcode when it sent one
  nlohmann::json error_body;  // the remote's error object (room_version, retry_after_ms...), else null
};

struct FederationRequest {
  http::Method method = http::Method::get;
  std::string destination;  // server name
  std::string uri;          // path and query, already percent-encoded: "/_matrix/federation/v1/..."
  std::optional<std::string> body;  // JSON text; signed as parsed JSON
  bool sign = true;                 // false for the unauthenticated endpoints (keys, onbind)
  std::string destination_key = "destination";  // "destination_is" when the destination is an IS
  std::size_t response_limit = 8 << 20;
  std::optional<std::chrono::milliseconds> timeout;
};

class FederationClient {
 public:
  // `key` may be null: then only unsigned requests can be sent (sign = true throws FederationError).
  FederationClient(http::Client& client, ServerDiscovery& discovery, std::string origin, const crypto::SigningKey* key,
                   std::map<std::string, std::string> destination_overrides = {},
                   std::chrono::milliseconds timeout = std::chrono::seconds(60));

  const std::string& origin() const { return origin_; }

  // The raw answer, whatever its status. Throws FederationError only when no answer came back.
  Task<http::ClientResponse> send(FederationRequest request);

  // A 2xx JSON object answer, or FederationError.
  Task<nlohmann::json> request_json(FederationRequest request);
  Task<nlohmann::json> get_json(std::string destination, std::string uri);
  Task<nlohmann::json> post_json(std::string destination, std::string uri, nlohmann::json body);
  Task<nlohmann::json> put_json(std::string destination, std::string uri, nlohmann::json body);

 private:
  // post_json and put_json: `body` serialised, the answer read as request_json does.
  Task<nlohmann::json> send_json(http::Method method, std::string destination, std::string uri, nlohmann::json body);

  http::Client& client_;
  ServerDiscovery& discovery_;
  std::string origin_;
  const crypto::SigningKey* key_;
  std::map<std::string, std::string> overrides_;
  std::chrono::milliseconds timeout_;
};

}  // namespace herald::federation
