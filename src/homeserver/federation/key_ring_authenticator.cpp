#include "homeserver/federation/key_ring_authenticator.h"

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/ids.h"
#include "core/json_body.h"
#include "core/matrix_error.h"
#include "core/strings.h"
#include "crypto/request_signature.h"
#include "crypto/signed_json.h"
#include "homeserver/federation/server_key_ring.h"

namespace herald::homeserver {
namespace {

[[noreturn]] void unauthorized(const std::string& why) { throw MatrixError(Errc::unauthorized, why, 401); }

// The URIs the origin may have signed. The router keeps the path as sent but the query only decoded, so the
// query is encoded again the two ways senders write it: RFC 3986 (%20) and form style ('+' for a space,
// Python's urlencode, which Synapse uses). TODO(http): sign-check the raw target once http::Request keeps it.
std::vector<std::string> candidate_uris(const http::Request& req) {
  if (req.query.empty()) return {req.path};
  std::string rfc, form;
  for (const auto& [k, v] : req.query) {
    const std::string part = strings::percent_encode(k) + "=" + strings::percent_encode(v);
    if (!rfc.empty()) {
      rfc += '&';
      form += '&';
    }
    rfc += part;
    std::string plus = part;
    for (std::size_t at = plus.find("%20"); at != std::string::npos; at = plus.find("%20", at + 1)) plus.replace(at, 3, "+");
    form += plus;
  }
  std::vector<std::string> out{req.path + "?" + rfc};
  if (form != rfc) out.push_back(req.path + "?" + form);
  return out;
}

}  // namespace

std::string KeyRingAuthenticator::verify(const http::Request& req) const {
  if (req.authorization.empty()) unauthorized("Missing X-Matrix Authorization header");
  const auto auth = crypto::parse_x_matrix_header(req.authorization);
  if (!auth) unauthorized("Malformed X-Matrix Authorization header");
  if (auth->destination && *auth->destination != server_name_) unauthorized("The request is addressed to another server");
  if (!is_valid_server_name(auth->origin)) unauthorized("The origin is not a valid server name");
  if (auth->origin == server_name_) unauthorized("A request from this server's own name");
  const auto key = keys_.verify_key(auth->origin, auth->key_id, clock_.now_ms());
  if (!key) unauthorized("Unknown key " + auth->key_id + " of " + auth->origin);

  std::optional<nlohmann::json> content;
  if (!req.body.empty()) {
    content = json_body::try_parse(req.body);
    if (!content) throw MatrixError(Errc::not_json, "Content not JSON.");
  }
  for (const auto& uri : candidate_uris(req)) {
    nlohmann::json signed_request = crypto::request_signing_json(http::name_of(req.method), uri, auth->origin, "destination",
                                                                 server_name_, content ? &*content : nullptr);
    signed_request["signatures"][auth->origin][auth->key_id] = auth->signature;
    if (crypto::verify_json(signed_request, auth->origin, auth->key_id, *key)) return auth->origin;
  }
  unauthorized("The X-Matrix signature does not verify");
}

Task<std::string> KeyRingAuthenticator::authenticate(const http::Request& req) { co_return verify(req); }

}  // namespace herald::homeserver
