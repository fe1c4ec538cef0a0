// The account side of third-party identifiers: GET /account/3pid, and binding through a trusted identity
// server (/account/3pid/bind), unbind and delete.
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/json_body.h"
#include "core/matrix_error.h"
#include "core/strings.h"
#include "homeserver/accounts/threepids.h"
#include "homeserver/accounts/user_interactive_auth.h"
#include "homeserver/client_api/client_api.h"
#include "homeserver/client_api/request_auth.h"
#include "homeserver/identity_client/identity_client.h"
#include "homeserver/membership/third_party_invites.h"

namespace herald::homeserver {
namespace {

Task<http::Response> get_threepids(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const auto list = co_await api.threepids.of(s.user_id);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : list) {
    out.push_back({{"medium", t.medium}, {"address", t.address}, {"validated_at", t.validated_at}, {"added_at", t.added_at}});
  }
  co_return http::Response::json(200, {{"threepids", std::move(out)}});
}

Task<http::Response> post_bind(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const nlohmann::json body = json_body::parse_object(req.body);
  const std::string id_server = json_body::required_string(body, "id_server");
  const std::string token = json_body::required_string(body, "id_access_token");
  const std::string sid = json_body::required_string(body, "sid");
  const std::string secret = json_body::required_string(body, "client_secret");
  const IdentityServerTarget target = api.third_party.target_of(id_server);
  nlohmann::json association;
  try {
    association = co_await api.identity.bind(target, token, sid, secret, s.user_id.str());
  } catch (const IdentityServerError& e) {
    throw as_matrix_error(e);
  }
  const auto medium = json_body::optional_string(association, "medium");
  const auto address = json_body::optional_string(association, "address");
  if (!medium || !address || json_body::optional_string(association, "mxid") != s.user_id.str()) {
    throw MatrixError(Errc::unknown, "The identity server's bind answer is not an association for you", 502);
  }
  const std::int64_t now = api.clock.now_ms();
  const storage::account_store::StoredThreepid t{*medium, *address, json_body::optional_int(association, "ts").value_or(now), now};
  co_await api.threepids.add(s.user_id, t, id_server);
  co_return http::Response::json(200, nlohmann::json::object());
}

// Unbinding asks each identity server the address was bound at (or the one named) with a request signed by
// this homeserver; "success" when they all did, "no-support" when one cannot unbind.
Task<http::Response> unbind_or_delete(http::Request req, ClientApi& api, bool remove) {
  const Session s = co_await require_session(req, api.accounts);
  const nlohmann::json body = json_body::parse_object(req.body);
  const std::string medium = json_body::required_string(body, "medium");
  const std::string address = json_body::required_string(body, "address");
  const std::string user = s.user_id.str();
  std::vector<std::string> id_servers;
  if (auto named = json_body::optional_string(body, "id_server")) {
    api.third_party.target_of(*named);
    id_servers.push_back(*named);
  } else {
    id_servers = co_await api.threepids.bound_at(s.user_id, medium, address);
  }
  bool all_unbound = true;
  for (const auto& id_server : id_servers) {
    IdentityServerTarget target;
    try {
      target = api.third_party.target_of(id_server);
    } catch (const MatrixError&) {
      all_unbound = false;  // no longer trusted: we will not send it signed requests
      continue;
    }
    const nlohmann::json content = {{"mxid", user}, {"threepid", {{"medium", medium}, {"address", address}}}};
    try {
      const bool unbound = co_await api.identity.unbind(target, id_server, api.options.server_name, api.signing_key, content);
      all_unbound = all_unbound && unbound;
    } catch (const IdentityServerError& e) {
      throw as_matrix_error(e);
    }
  }
  if (remove) co_await api.threepids.remove(s.user_id, medium, address);
  else co_await api.threepids.forget_bindings(s.user_id, medium, address);
  co_return http::Response::json(200, {{"id_server_unbind_result", all_unbound ? "success" : "no-support"}});
}

Task<http::Response> post_unbind(http::Request req, ClientApi& api) { co_return co_await unbind_or_delete(std::move(req), api, false); }
Task<http::Response> post_delete(http::Request req, ClientApi& api) { co_return co_await unbind_or_delete(std::move(req), api, true); }

IdentityServerTarget email_delegate(ClientApi& api) {
  if (!api.options.threepid_email_delegate) {
    throw MatrixError(Errc::threepid_denied, "This homeserver does not validate email addresses (no threepid_email_delegate)");
  }
  return api.third_party.target_of(*api.options.threepid_email_delegate);
}

// The homeserver validates an address before adding it to an account; Herald delegates the email itself to
// the configured identity server and remembers nothing until /add.
Task<http::Response> post_email_request_token(http::Request req, ClientApi& api) {
  const nlohmann::json body = json_body::parse_object(req.body);
  const std::string secret = json_body::required_string(body, "client_secret");
  const std::string address = json_body::required_string(body, "email");
  const auto attempt = json_body::optional_int(body, "send_attempt");
  if (!attempt) throw MatrixError(Errc::missing_param, "Missing 'send_attempt'");
  const auto next_link = json_body::optional_string(body, "next_link");
  const std::string lowered = strings::to_lower_ascii(address);
  if (co_await api.threepids.in_use("email", lowered)) throw MatrixError(Errc::threepid_in_use, "Email is already in use");
  nlohmann::json forward = {{"client_secret", secret}, {"email", lowered}, {"send_attempt", *attempt}};
  if (next_link) forward["next_link"] = *next_link;
  const IdentityServerTarget target = email_delegate(api);
  nlohmann::json answer;
  try {
    answer = co_await api.identity.request_email_token(target, forward);
  } catch (const IdentityServerError& e) {
    throw as_matrix_error(e);
  }
  if (!answer.contains("sid") || !answer["sid"].is_string()) throw MatrixError(Errc::unknown, "The identity server gave no sid", 502);
  co_return http::Response::json(200, {{"sid", answer["sid"]}});
}

Task<http::Response> post_add(http::Request req, ClientApi& api) {
  const Session s = co_await require_session(req, api.accounts);
  const nlohmann::json body = json_body::parse_object(req.body);
  const nlohmann::json* auth = json_body::optional_object(body, "auth");
  const std::string session = api.uia.check(auth);
  if (!session.empty()) co_return http::Response::json(401, api.uia.challenge(session));
  const std::string sid = json_body::required_string(body, "sid");
  const std::string secret = json_body::required_string(body, "client_secret");
  const IdentityServerTarget target = email_delegate(api);
  nlohmann::json validated;
  try {
    validated = co_await api.identity.validated_threepid(target, sid, secret);
  } catch (const IdentityServerError& e) {
    throw as_matrix_error(e);
  } catch (const MatrixError& e) {
    throw MatrixError(Errc::threepid_auth_failed, "The address has not been validated: " + e.message());
  }
  const auto medium = json_body::optional_string(validated, "medium");
  const auto address = json_body::optional_string(validated, "address");
  if (!medium || !address) throw MatrixError(Errc::threepid_auth_failed, "The validation session is not complete");
  const std::int64_t now = api.clock.now_ms();
  const storage::account_store::StoredThreepid t{*medium, *address, json_body::optional_int(validated, "validated_at").value_or(now), now};
  co_await api.threepids.add(s.user_id, t, std::nullopt);
  co_return http::Response::json(200, nlohmann::json::object());
}

}  // namespace

void add_threepid_routes(http::Router& router, ClientApi& api) {
  add_under(router, kClientPrefixes, http::Method::get, "/account/3pid", get_threepids, api);
  add_under(router, kClientPrefixes, http::Method::post, "/account/3pid/bind", post_bind, api);
  add_under(router, kClientPrefixes, http::Method::post, "/account/3pid/unbind", post_unbind, api);
  add_under(router, kClientPrefixes, http::Method::post, "/account/3pid/delete", post_delete, api);
  add_under(router, kClientPrefixes, http::Method::post, "/account/3pid/email/requestToken", post_email_request_token, api);
  add_under(router, kClientPrefixes, http::Method::post, "/account/3pid/add", post_add, api);
}

}  // namespace herald::homeserver
