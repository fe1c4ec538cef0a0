#include "federation/key_fetcher.h"

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "crypto/base64.h"
#include "http/client.h"

namespace herald::federation {

std::vector<ServerKeys> verified_notary_answer(const nlohmann::json& answer, std::string_view server_name,
                                               std::string_view notary, const std::map<std::string, std::string>& notary_keys) {
  std::vector<ServerKeys> out;
  if (!answer.is_object()) return out;
  const auto list = answer.find("server_keys");
  if (list == answer.end() || !list->is_array()) return out;
  for (const auto& object : *list) {
    if (!object.is_object() || object.value("server_name", std::string()) != server_name) continue;
    if (!signed_by_notary(object, notary, notary_keys)) {
      log::warn("notary answer not signed by the notary notary={} server={}", notary, server_name);
      continue;
    }
    auto keys = parse_server_keys(object, server_name);
    if (!keys) {
      log::warn("notary answer refused notary={} server={} reason={}", notary, server_name, keys.error());
      continue;
    }
    out.push_back(std::move(*keys));
  }
  return out;
}

Task<std::vector<ServerKeys>> DirectKeyFetcher::fetch(std::string server_name, std::int64_t) {
  std::vector<ServerKeys> out;
  FederationRequest req;
  req.destination = server_name;
  req.uri = "/_matrix/key/v2/server";
  req.sign = false;
  req.response_limit = 256 * 1024;
  req.timeout = std::chrono::seconds(10);
  try {
    const nlohmann::json body = co_await client_.request_json(std::move(req));
    auto keys = parse_server_keys(body, server_name);
    if (!keys) {
      log::warn("server keys refused server={} reason={}", server_name, keys.error());
      co_return out;
    }
    out.push_back(std::move(*keys));
  } catch (const FederationError& e) {
    log::warn("server keys unavailable server={} error={}", server_name, e.what());
  }
  co_return out;
}

NotaryKeyFetcher::NotaryKeyFetcher(FederationClient& client, TrustedKeyServer notary)
    : client_(client), notary_(std::move(notary)) {
  for (const auto& [id, b64] : notary_.verify_keys) {
    auto raw = crypto::base64_decode(b64);
    if (!raw || raw->size() != 32) {
      throw std::invalid_argument("trusted_key_servers: " + notary_.server_name + " key " + id + " is not an ed25519 key");
    }
    raw_keys_.emplace(id, std::move(*raw));
  }
}

Task<std::vector<ServerKeys>> NotaryKeyFetcher::fetch(std::string server_name, std::int64_t minimum_valid_until_ts) {
  std::vector<ServerKeys> out;
  // An empty inner object asks for all the server's keys; minimum_valid_until_ts goes per key ID, so it
  // is not sent and the store checks valid_until_ts itself.
  (void)minimum_valid_until_ts;
  nlohmann::json query = {{"server_keys", {{server_name, nlohmann::json::object()}}}};
  FederationRequest req;
  req.method = http::Method::post;
  req.destination = notary_.server_name;
  req.uri = "/_matrix/key/v2/query";
  req.body = query.dump();
  req.response_limit = 1 << 20;
  req.timeout = std::chrono::seconds(15);
  try {
    const nlohmann::json answer = co_await client_.request_json(std::move(req));
    out = verified_notary_answer(answer, server_name, notary_.server_name, raw_keys_);
  } catch (const FederationError& e) {
    log::warn("notary unavailable notary={} server={} error={}", notary_.server_name, server_name, e.what());
  }
  co_return out;
}

}  // namespace herald::federation
