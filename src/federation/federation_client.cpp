#include "federation/federation_client.h"

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "crypto/request_signature.h"
#include "crypto/signing_key.h"
#include "federation/server_discovery.h"
#include "http/client.h"

namespace herald::federation {

FederationClient::FederationClient(http::Client& client, ServerDiscovery& discovery, std::string origin,
                                   const crypto::SigningKey* key, std::map<std::string, std::string> destination_overrides,
                                   std::chrono::milliseconds timeout)
    : client_(client),
      discovery_(discovery),
      origin_(std::move(origin)),
      key_(key),
      overrides_(std::move(destination_overrides)),
      timeout_(timeout) {
  for (auto& [name, url] : overrides_)
    while (!url.empty() && url.back() == '/') url.pop_back();
}

Task<http::ClientResponse> FederationClient::send(FederationRequest request) {
  http::ClientRequest out;
  out.method = request.method;
  out.timeout = request.timeout.value_or(timeout_);
  out.response_limit = request.response_limit;
  if (request.body) out.body = *request.body;
  if (request.sign) {
    if (!key_) throw FederationError("no signing key to sign a request to " + request.destination);
    nlohmann::json content;
    const nlohmann::json* content_ptr = nullptr;
    if (request.body) {
      content = nlohmann::json::parse(*request.body, nullptr, false);
      if (content.is_discarded()) throw FederationError("request body is not JSON");
      content_ptr = &content;
    }
    const nlohmann::json signing = crypto::request_signing_json(http::name_of(request.method), request.uri, origin_,
                                                                request.destination_key, request.destination, content_ptr);
    out.headers.emplace_back("Authorization", crypto::x_matrix_header(signing, origin_, request.destination, *key_));
  }
  if (auto it = overrides_.find(request.destination); it != overrides_.end()) {
    out.url = it->second + request.uri;
    out.allow_private_addresses = true;  // the operator named it
  } else {
    Destination where;
    try {
      where = co_await discovery_.resolve(request.destination);
    } catch (const DiscoveryError& e) {
      throw FederationError(e.what());
    }
    out.url = "https://" + (where.host_header.empty() ? where.connect_host : where.host_header) + request.uri;
    out.connect_host = where.connect_host;
    out.connect_port = where.port;
    out.host_header = where.host_header;
    out.tls_name = where.tls_name;
  }
  try {
    auto answer = co_await client_.send(std::move(out));
    co_return answer;
  } catch (const http::ClientError& e) {
    throw FederationError(request.destination + ": " + e.what());
  }
}

Task<nlohmann::json> FederationClient::request_json(FederationRequest request) {
  const std::string destination = request.destination;
  const std::string uri = request.uri;
  const http::ClientResponse res = co_await send(std::move(request));
  auto body = nlohmann::json::parse(res.body, nullptr, false);
  if (res.status < 200 || res.status >= 300) {
    std::string errcode;
    if (body.is_object() && body.contains("errcode") && body["errcode"].is_string()) errcode = body["errcode"].get<std::string>();
    FederationError error(destination + " answered " + std::to_string(res.status) + " to " + uri, res.status, errcode);
    if (body.is_object()) error.error_body = std::move(body);
    throw error;
  }
  if (!body.is_object()) throw FederationError(destination + " answered " + uri + " with something that is not a JSON object", res.status);
  co_return body;
}

Task<nlohmann::json> FederationClient::get_json(std::string destination, std::string uri) {
  FederationRequest r;
  r.destination = std::move(destination);
  r.uri = std::move(uri);
  auto body = co_await request_json(std::move(r));
  co_return body;
}

Task<nlohmann::json> FederationClient::post_json(std::string destination, std::string uri, nlohmann::json body) {
  auto answer = co_await send_json(http::Method::post, std::move(destination), std::move(uri), std::move(body));
  co_return answer;
}

Task<nlohmann::json> FederationClient::put_json(std::string destination, std::string uri, nlohmann::json body) {
  auto answer = co_await send_json(http::Method::put, std::move(destination), std::move(uri), std::move(body));
  co_return answer;
}

Task<nlohmann::json> FederationClient::send_json(http::Method method, std::string destination, std::string uri,
                                                 nlohmann::json body) {
  FederationRequest r;
  r.method = method;
  r.destination = std::move(destination);
  r.uri = std::move(uri);
  r.body = body.dump();
  auto answer = co_await request_json(std::move(r));
  co_return answer;
}

}  // namespace herald::federation
