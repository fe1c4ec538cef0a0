#include "homeserver/identity_client/identity_client.h"

#include "core/log.h"
#include "core/matrix_error.h"
#include "core/strings.h"
#include "crypto/base64.h"
#include "crypto/request_signature.h"
#include "crypto/sha256.h"
#include "http/client.h"

namespace herald::homeserver {
namespace {

constexpr auto kTimeout = std::chrono::seconds(10);

bool is_valid_token(const std::string& t) {
  if (t.empty() || t.size() > 255) return false;
  for (char c : t)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '=' || c == '_' || c == '-')) return false;
  return true;
}

constexpr const char* kNeedsToken =
    "This identity server does not offer the unauthenticated v1 API (lookup, store-invite): send id_access_token";

IdentityServerError unreachable(const http::ClientError& e) {
  const std::string text = e.what();
  if (dynamic_cast<const http::AddressRefused*>(&e)) {
    return IdentityServerError("This homeserver may not contact that identity server (" + text + ")", false, true);
  }
  return IdentityServerError("The identity server could not be reached (" + text + ")",
                             text.find("timed out") != std::string::npos || text.find("timeout") != std::string::npos);
}

// Sends and parses a JSON answer; a Matrix error from the identity server is rethrown as that error (with
// its status when it is a client error, so the inviter sees why), anything else is IdentityServerError.
// With `if_unsupported`, an answer saying the endpoint does not exist (404, 405, 501, M_UNRECOGNIZED) is
// 400 M_MISSING_PARAM with that message.
Task<nlohmann::json> call(http::Client& client, http::ClientRequest req, const char* if_unsupported = nullptr) {
  const std::string what = req.url.substr(0, req.url.find('?'));
  http::ClientResponse res;
  try {
    res = co_await client.send(std::move(req));
  } catch (const http::ClientError& e) {
    throw unreachable(e);
  }
  auto body = nlohmann::json::parse(res.body, nullptr, false);
  if (if_unsupported) {
    const bool unrecognized = body.is_object() && body.contains("errcode") && body["errcode"] == "M_UNRECOGNIZED";
    if (res.status == 404 || res.status == 405 || res.status == 501 || unrecognized) {
      throw MatrixError(Errc::missing_param, if_unsupported);
    }
  }
  if (res.status == 200) {
    if (!body.is_object()) throw IdentityServerError("The identity server answered " + what + " with something that is not JSON");
    co_return body;
  }
  if (body.is_object() && body.contains("errcode") && body["errcode"].is_string() && res.status >= 400 && res.status < 500) {
    const std::string errcode = body["errcode"].get<std::string>();
    const std::string message = "Identity server: " + body.value("error", errcode);
    if (errcode == "M_THREEPID_IN_USE") {
      MatrixError e(Errc::threepid_in_use, message, res.status);
      if (body.contains("mxid") && body["mxid"].is_string()) throw std::move(e).with("mxid", body["mxid"].get<std::string>());
      throw e;
    }
    if (errcode == "M_TERMS_NOT_SIGNED") throw MatrixError(Errc::terms_not_signed, message, res.status);
    if (errcode == "M_UNAUTHORIZED" || errcode == "M_UNKNOWN_TOKEN") {
      throw MatrixError(Errc::forbidden, "The identity server did not accept id_access_token", 403);
    }
    if (errcode == "M_SESSION_NOT_VALIDATED") throw MatrixError(Errc::session_not_validated, message, res.status);
    if (errcode == "M_NO_VALID_SESSION") throw MatrixError(Errc::no_valid_session, message, res.status);
    if (errcode == "M_INVALID_EMAIL") throw MatrixError(Errc::invalid_email, message, res.status);
    if (errcode == "M_LIMIT_EXCEEDED") throw MatrixError(Errc::limit_exceeded, message, 429);
    throw MatrixError(Errc::unknown, message, res.status == 404 ? 400 : res.status);
  }
  throw IdentityServerError("The identity server answered " + what + " with HTTP " + std::to_string(res.status));
}

http::ClientRequest request(const IdentityServerTarget& is, http::Method method, std::string path, const std::string& token) {
  http::ClientRequest req;
  req.method = method;
  req.url = is.base_url + path;
  req.timeout = kTimeout;
  req.allow_private_addresses = is.operator_named;
  req.response_limit = 256 * 1024;
  if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
  return req;
}

}  // namespace

MatrixError as_matrix_error(const IdentityServerError& e) {
  if (e.refused) return MatrixError(Errc::server_not_trusted, e.what(), 400);
  return MatrixError(Errc::unknown, e.what(), e.timeout ? 504 : 502);
}

StoredThirdPartyInvite parse_store_invite_reply(const nlohmann::json& reply) {
  StoredThirdPartyInvite out;
  if (!reply.contains("token") || !reply["token"].is_string() || !is_valid_token(reply["token"].get<std::string>())) {
    throw IdentityServerError("The identity server's store-invite reply has no valid token");
  }
  out.token = reply["token"].get<std::string>();
  out.display_name = reply.contains("display_name") && reply["display_name"].is_string()
                         ? reply["display_name"].get<std::string>().substr(0, 255)
                         : std::string("a third-party user");
  if (!reply.contains("public_keys") || !reply["public_keys"].is_array() || reply["public_keys"].empty() ||
      reply["public_keys"].size() > 16) {
    throw IdentityServerError("The identity server's store-invite reply has no public_keys");
  }
  out.public_keys = nlohmann::json::array();
  for (const auto& k : reply["public_keys"]) {
    if (!k.is_object() || !k.contains("public_key") || !k["public_key"].is_string()) {
      throw IdentityServerError("The identity server's store-invite reply has a malformed public key");
    }
    const std::string key = k["public_key"].get<std::string>();
    const auto raw = crypto::base64_decode(key);
    if (!raw || raw->size() != 32) throw IdentityServerError("The identity server's store-invite reply has a malformed public key");
    nlohmann::json entry = {{"public_key", key}};
    if (k.contains("key_validity_url")) {
      if (!k["key_validity_url"].is_string() || !http::Url::parse(k["key_validity_url"].get<std::string>())) {
        throw IdentityServerError("The identity server's store-invite reply has a malformed key_validity_url");
      }
      entry["key_validity_url"] = k["key_validity_url"];
    }
    out.public_keys.push_back(std::move(entry));
  }
  return out;
}

Task<std::optional<std::string>> HttpIdentityClient::lookup(IdentityServerTarget is, std::string id_access_token,
                                                            std::string medium, std::string address) {
  if (id_access_token.empty()) {
    auto v1_req = request(is, http::Method::get,
                          "/_matrix/identity/api/v1/lookup?medium=" + strings::percent_encode(medium) +
                              "&address=" + strings::percent_encode(address),
                          "");
    const nlohmann::json found = co_await call(client_, std::move(v1_req), kNeedsToken);
    // {} when unbound. The signature is not checked: Synapse stopped requiring it (synapse#5253).
    const auto mxid = found.find("mxid");
    if (mxid == found.end() || !mxid->is_string()) co_return std::nullopt;
    co_return mxid->get<std::string>();
  }
  auto details_req = request(is, http::Method::get, "/_matrix/identity/v2/hash_details", id_access_token);
  const nlohmann::json details = co_await call(client_, std::move(details_req));
  if (!details.contains("lookup_pepper") || !details["lookup_pepper"].is_string() || !details.contains("algorithms") ||
      !details["algorithms"].is_array()) {
    throw IdentityServerError("The identity server's hash_details answer is malformed");
  }
  const std::string pepper = details["lookup_pepper"].get<std::string>();
  bool sha256 = false, none = false;
  for (const auto& a : details["algorithms"]) {
    if (a == "sha256") sha256 = true;
    if (a == "none") none = true;
  }
  if (!sha256 && !none) throw IdentityServerError("The identity server offers no lookup algorithm Herald knows");
  const std::string key = sha256 ? crypto::base64url_encode(crypto::sha256(address + " " + medium + " " + pepper))
                                 : address + " " + medium;
  auto lookup_req = request(is, http::Method::post, "/_matrix/identity/v2/lookup", id_access_token);
  lookup_req.body = nlohmann::json{{"algorithm", sha256 ? "sha256" : "none"}, {"pepper", pepper}, {"addresses", {key}}}.dump();
  const nlohmann::json found = co_await call(client_, std::move(lookup_req));
  if (!found.contains("mappings") || !found["mappings"].is_object()) co_return std::nullopt;
  const auto it = found["mappings"].find(key);
  if (it == found["mappings"].end() || !it->is_string()) co_return std::nullopt;
  co_return it->get<std::string>();
}

Task<StoredThirdPartyInvite> HttpIdentityClient::store_invite(IdentityServerTarget is, std::string id_access_token,
                                                              nlohmann::json params) {
  const bool v1 = id_access_token.empty();
  auto req = request(is, http::Method::post, v1 ? "/_matrix/identity/api/v1/store-invite" : "/_matrix/identity/v2/store-invite",
                     id_access_token);
  req.body = params.dump();
  const nlohmann::json reply = co_await call(client_, std::move(req), v1 ? kNeedsToken : nullptr);
  co_return parse_store_invite_reply(reply);
}

Task<bool> HttpIdentityClient::key_is_valid(std::string key_validity_url, std::string public_key, bool operator_named) {
  http::ClientRequest req;
  req.url = key_validity_url + (key_validity_url.find('?') == std::string::npos ? "?" : "&") +
            "public_key=" + strings::percent_encode(public_key);
  req.timeout = kTimeout;
  req.allow_private_addresses = operator_named;
  req.response_limit = 16 * 1024;
  const nlohmann::json answer = co_await call(client_, std::move(req));
  co_return answer.contains("valid") && answer["valid"] == true;
}

Task<nlohmann::json> HttpIdentityClient::bind(IdentityServerTarget is, std::string id_access_token, std::string sid,
                                              std::string client_secret, std::string mxid) {
  auto req = request(is, http::Method::post, "/_matrix/identity/v2/3pid/bind", id_access_token);
  req.body = nlohmann::json{{"sid", sid}, {"client_secret", client_secret}, {"mxid", mxid}}.dump();
  co_return co_await call(client_, std::move(req));
}

Task<nlohmann::json> HttpIdentityClient::request_email_token(IdentityServerTarget is, nlohmann::json body) {
  auto req = request(is, http::Method::post, "/_matrix/identity/api/v1/validate/email/requestToken", "");
  req.body = body.dump();
  co_return co_await call(client_, std::move(req));
}

Task<nlohmann::json> HttpIdentityClient::validated_threepid(IdentityServerTarget is, std::string sid, std::string client_secret) {
  auto req = request(is, http::Method::get,
                     "/_matrix/identity/api/v1/3pid/getValidated3pid?sid=" + strings::percent_encode(sid) +
                         "&client_secret=" + strings::percent_encode(client_secret),
                     "");
  co_return co_await call(client_, std::move(req));
}

Task<bool> HttpIdentityClient::unbind(IdentityServerTarget is, std::string id_server, std::string origin,
                                      const crypto::SigningKey& key, nlohmann::json content) {
  const std::string uri = "/_matrix/identity/v2/3pid/unbind";
  const nlohmann::json signing = crypto::request_signing_json("POST", uri, origin, "destination_is", id_server, &content);
  auto req = request(is, http::Method::post, uri, "");
  req.headers.emplace_back("Authorization", crypto::x_matrix_header(signing, origin, id_server, key));
  req.body = content.dump();
  http::ClientResponse res;
  try {
    res = co_await client_.send(std::move(req));
  } catch (const http::ClientError& e) {
    throw unreachable(e);
  }
  if (res.status == 200) co_return true;
  const auto body = nlohmann::json::parse(res.body, nullptr, false);
  const bool matrix_error = body.is_object() && body.contains("errcode");
  if (!matrix_error && (res.status == 400 || res.status == 404 || res.status == 405 || res.status == 501)) co_return false;
  if (matrix_error) throw MatrixError(Errc::unknown, "Identity server: " + body.value("error", body["errcode"].dump()), res.status >= 500 ? 502 : res.status);
  throw IdentityServerError("The identity server answered unbind with HTTP " + std::to_string(res.status));
}

}  // namespace herald::homeserver
