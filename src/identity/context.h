#pragma once
// What the identity server's services share, built by app/ with constructor injection: the options, the
// database, the long-term key, the federation layer's client and verifier, mail, templates and the onbind
// queue.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace herald {
class Clock;
class RateLimiter;
class WorkerPool;
}  // namespace herald
namespace herald::crypto {
class SigningKey;
}
namespace herald::storage {
class Database;
}
namespace herald::federation {
class FederationClient;
class RequestVerifier;
}  // namespace herald::federation
namespace herald::mail {
class Sender;
}

namespace herald::identity {

class Templates;
class OnbindDelivery;

struct IdentityOptions {
  std::string server_name = "127.0.0.1:8090";
  std::string public_baseurl = "http://127.0.0.1:8090/";  // ends with '/'
  std::string web_client_location = "https://app.element.io";
  bool allow_http_web_client_location = false;  // may a store-invite caller name an http:// client?
  std::string mail_from = "Herald Identity <noreply@localhost>";
  nlohmann::json terms_policies = nlohmann::json::object();  // {"<id>": {"version": ..., "<lang>": {name, url}}}
  std::size_t lookup_limit = 10000;
  bool legacy_store_invite = true;  // serve the unauthenticated api/v1 store-invite
  std::int64_t session_lifetime_ms = 24LL * 3600 * 1000;
  bool log_email_links = false;  // `herald dev` without SMTP: put the links in the log as well
};

struct IdentityContext {
  IdentityOptions options;
  storage::Database& db;
  WorkerPool& workers;
  const Clock& clock;
  RateLimiter& limiter;
  const crypto::SigningKey& key;  // long-term key, ed25519:0
  // Calls to homeservers (OpenID checks, their keys): server discovery, the IP guard and the CA settings
  // of the one federation layer; the `homeservers` config map overrides discovery for named servers.
  federation::FederationClient& federation;
  federation::RequestVerifier& unbind_verifier;  // X-Matrix with destination_is (identity.md §5)
  mail::Sender& mail;
  const Templates& templates;
  OnbindDelivery& onbind;
  std::string lookup_pepper;  // generated once, stored in the database
};

}  // namespace herald::identity
