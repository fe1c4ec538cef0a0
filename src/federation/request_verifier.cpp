#include "federation/request_verifier.h"

#include <nlohmann/json.hpp>

#include "core/canonical_json.h"
#include "core/log.h"
#include "core/matrix_error.h"
#include "crypto/request_signature.h"
#include "crypto/signed_json.h"
#include "federation/remote_key_store.h"
#include "federation/server_name.h"

namespace herald::federation {
namespace {

[[noreturn]] void refuse(const std::string& why) {
  log::warn("federation request refused reason={}", why);
  throw MatrixError(Errc::unauthorized, why, 401);
}

}  // namespace

RequestVerifier::RequestVerifier(std::string server_name, RequestKeySource& keys, std::string destination_key)
    : server_name_(std::move(server_name)), keys_(keys), destination_key_(std::move(destination_key)) {}

Task<std::string> RequestVerifier::verify(const http::Request& req) {
  std::string uri = req.target.empty() ? req.path : req.target;
  std::vector<std::string> headers;
  if (!req.authorization.empty()) headers.push_back(req.authorization);
  auto origin = co_await verify(req.method, std::move(uri), req.body, std::move(headers));
  co_return origin;
}

Task<std::string> RequestVerifier::verify(http::Method method, std::string uri, std::string body,
                                          std::vector<std::string> authorization) {
  if (authorization.empty()) refuse("Missing Authorization headers");
  std::vector<crypto::XMatrixAuth> auths;
  for (const auto& header : authorization) {
    auto auth = crypto::parse_x_matrix_header(header);
    if (!auth) refuse("Malformed X-Matrix Authorization header");
    if (!ServerName::parse(auth->origin)) refuse("The X-Matrix origin is not a server name");
    if (auth->destination && *auth->destination != server_name_) {
      refuse("The request is for " + *auth->destination + ", not this server");
    }
    if (!auths.empty() && auths.front().origin != auth->origin) refuse("X-Matrix headers name different origins");
    auths.push_back(std::move(*auth));
  }
  const std::string origin = auths.front().origin;
  nlohmann::json content;
  const nlohmann::json* content_ptr = nullptr;
  if (!body.empty()) {
    content = nlohmann::json::parse(body, nullptr, false);
    if (content.is_discarded()) refuse("The signed request body is not JSON");
    // A body that canonical JSON cannot write (floats, integers beyond 2^53) has no signature to check:
    // it is bad JSON, whoever sent it (room versions 6 and on refuse such events anyway).
    if (!is_canonical_compatible(content)) {
      throw MatrixError(Errc::bad_json, "The request body is not canonical JSON (floats or integers beyond 2^53)", 400);
    }
    content_ptr = &content;
  }
  const nlohmann::json signing =
      crypto::request_signing_json(http::name_of(method), uri, origin, destination_key_, server_name_, content_ptr);
  for (const auto& auth : auths) {
    std::optional<std::string> key = co_await keys_.request_key(origin, auth.key_id);
    if (!key) refuse("Unknown key " + auth.key_id + " for " + origin);
    nlohmann::json signed_copy = signing;
    signed_copy["signatures"][origin][auth.key_id] = auth.signature;
    if (!crypto::verify_json(signed_copy, origin, auth.key_id, *key)) {
      refuse("Invalid signature by " + origin + " key " + auth.key_id);
    }
  }
  co_return origin;
}

}  // namespace herald::federation
