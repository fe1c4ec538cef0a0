#pragma once
// How the homeserver talks to an identity server (identity.md §4-6, §8): over HTTP only, never into the
// identity server's code. Every call may fail with IdentityServerError; none runs inside a database job.
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/matrix_error.h"
#include "core/task.h"

namespace herald::http {
class Client;
}
namespace herald::crypto {
class SigningKey;
}

namespace herald::homeserver {

// The identity server could not be reached, timed out, or answered something that is not the spec's.
// `timeout` picks 504 over 502 for the caller; `refused` means every address it resolves to is one this
// homeserver may not reach (ip_range_blacklist).
struct IdentityServerError : std::runtime_error {
  IdentityServerError(const std::string& what, bool timeout = false, bool refused = false)
      : std::runtime_error(what), timeout(timeout), refused(refused) {}
  bool timeout;
  bool refused;
};

// What the client sees when an identity server failed: 502 (504 on a timeout) M_UNKNOWN with the reason;
// 400 M_SERVER_NOT_TRUSTED when the IP range guard refused its addresses.
MatrixError as_matrix_error(const IdentityServerError& e);

// Where an identity server answers: its base URL, and whether the operator named it (so it may be private).
struct IdentityServerTarget {
  std::string base_url;  // no trailing slash
  bool operator_named = true;
};

struct StoredThirdPartyInvite {
  std::string token;
  std::string display_name;
  nlohmann::json public_keys;  // [{public_key, key_validity_url}, ...], validated
};

class IdentityClient {
 public:
  virtual ~IdentityClient() = default;
  // Hashed v2 lookup with the user's identity-server token: the bound Matrix ID, or nullopt. Without a
  // token, the legacy unauthenticated GET /_matrix/identity/api/v1/lookup (Synapse's lookup_3pid does the
  // same); an identity server without it answers 400 M_MISSING_PARAM naming id_access_token.
  virtual Task<std::optional<std::string>> lookup(IdentityServerTarget is, std::string id_access_token,
                                                  std::string medium, std::string address) = 0;
  // store-invite (v2 with the token; without one, the legacy unauthenticated v1, as the identity-server
  // seed specifies); the reply is checked (token grammar, key format). An identity-server refusal comes
  // back as the MatrixError it sent (e.g. M_THREEPID_IN_USE).
  virtual Task<StoredThirdPartyInvite> store_invite(IdentityServerTarget is, std::string id_access_token,
                                                    nlohmann::json params) = 0;
  // GET <key_validity_url>?public_key=...: true when {"valid": true}.
  virtual Task<bool> key_is_valid(std::string key_validity_url, std::string public_key, bool operator_named) = 0;
  // POST /3pid/bind with the user's token; the signed association, or the identity server's MatrixError.
  virtual Task<nlohmann::json> bind(IdentityServerTarget is, std::string id_access_token, std::string sid,
                                    std::string client_secret, std::string mxid) = 0;
  // The homeserver's own email validation delegated to an identity server (the legacy, unauthenticated v1
  // session API, as Synapse's account_threepid_delegates): start a session, then read what it validated.
  virtual Task<nlohmann::json> request_email_token(IdentityServerTarget is, nlohmann::json body) = 0;
  virtual Task<nlohmann::json> validated_threepid(IdentityServerTarget is, std::string sid, std::string client_secret) = 0;
  // POST /3pid/unbind signed by this homeserver (X-Matrix with destination_is = id_server). True on 200;
  // false when the identity server does not support unbinding (400/404/405/501 without a Matrix error).
  virtual Task<bool> unbind(IdentityServerTarget is, std::string id_server, std::string origin,
                            const crypto::SigningKey& key, nlohmann::json content) = 0;
};

class HttpIdentityClient final : public IdentityClient {
 public:
  explicit HttpIdentityClient(http::Client& client) : client_(client) {}
  Task<std::optional<std::string>> lookup(IdentityServerTarget is, std::string id_access_token, std::string medium,
                                          std::string address) override;
  Task<StoredThirdPartyInvite> store_invite(IdentityServerTarget is, std::string id_access_token,
                                            nlohmann::json params) override;
  Task<bool> key_is_valid(std::string key_validity_url, std::string public_key, bool operator_named) override;
  Task<nlohmann::json> bind(IdentityServerTarget is, std::string id_access_token, std::string sid,
                            std::string client_secret, std::string mxid) override;
  Task<nlohmann::json> request_email_token(IdentityServerTarget is, nlohmann::json body) override;
  Task<nlohmann::json> validated_threepid(IdentityServerTarget is, std::string sid, std::string client_secret) override;
  Task<bool> unbind(IdentityServerTarget is, std::string id_server, std::string origin, const crypto::SigningKey& key,
                    nlohmann::json content) override;

 private:
  http::Client& client_;
};

// The reply of store-invite, checked: token [0-9a-zA-Z.=_-]{1,255}, 1..16 keys of 32-byte base64 with
// http(s) validity URLs, a display name. Throws IdentityServerError when it is not.
StoredThirdPartyInvite parse_store_invite_reply(const nlohmann::json& reply);

}  // namespace herald::homeserver
