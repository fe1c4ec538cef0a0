// /register, /register/available, /login, /logout, /logout/all, /account/whoami.
#include <nlohmann/json.hpp>

#include "core/json_body.h"
#include "core/matrix_error.h"
#include "core/rate_limiter.h"
#include "core/strings.h"
#include "crypto/random.h"
#include "homeserver/accounts/account_service.h"
#include "homeserver/accounts/user_interactive_auth.h"
#include "homeserver/client_api/client_api.h"
#include "homeserver/client_api/request_auth.h"

namespace herald::homeserver {
namespace {
constexpr std::size_t kMaxDeviceIdBytes = 255;
constexpr std::size_t kMaxDisplayNameBytes = 512;

std::optional<std::string> bounded_string(const nlohmann::json& body, std::string_view key, std::size_t max) {
  std::optional<std::string> v = json_body::optional_string(body, key);
  if (v && v->size() > max) throw MatrixError(Errc::invalid_param, "'" + std::string(key) + "' is too long");
  return v;
}

nlohmann::json login_body(const LoginResult& r, ClientApi& api) {
  nlohmann::json body = {{"user_id", r.user_id}, {"home_server", api.options.server_name}};
  if (r.access_token) body["access_token"] = *r.access_token;
  if (r.device_id) body["device_id"] = *r.device_id;
  return body;
}

Task<http::Response> post_register(http::Request req, ClientApi& api) {
  const std::string kind = req.query_param("kind").value_or("user");
  if (kind == "guest") throw MatrixError(Errc::guest_access_forbidden, "Guest access is disabled");
  if (kind != "user") throw MatrixError(Errc::invalid_param, "Invalid kind: must be 'user' or 'guest'");
  if (!api.options.registration_enabled) throw MatrixError(Errc::forbidden, "Registration has been disabled");

  const nlohmann::json body = json_body::parse_object(req.body);
  // Any length reaches validate_new_localpart, which names a too-long username M_INVALID_USERNAME.
  const std::optional<std::string> username = bounded_string(body, "username", 4096);
  const std::optional<std::string> password = bounded_string(body, "password", 512);
  const std::optional<std::string> device_id = bounded_string(body, "device_id", kMaxDeviceIdBytes);
  const std::optional<std::string> device_name = bounded_string(body, "initial_device_display_name", kMaxDisplayNameBytes);
  const bool inhibit_login = json_body::optional_bool(body, "inhibit_login").value_or(false);
  const nlohmann::json* auth = json_body::optional_object(body, "auth");

  // The spec wants username problems reported before user-interactive auth starts.
  std::optional<std::string> localpart;
  if (username) {
    localpart = api.accounts.validate_new_localpart(*username);
    co_await api.accounts.require_available(*localpart);
  }
  const std::string pending_session = api.uia.check(auth);
  if (!pending_session.empty()) co_return http::Response::json(401, api.uia.challenge(pending_session));

  api.limiter.take_or_throw(RateAction::registration, req.remote_address);
  NewAccount account;
  account.localpart = localpart ? *localpart : "u" + crypto::random_lower(11);
  account.password = password;
  account.device_id = device_id;
  account.initial_device_display_name = device_name;
  account.inhibit_login = inhibit_login;
  const LoginResult result = co_await api.accounts.register_account(std::move(account));
  api.uia.complete(auth);
  co_return http::Response::json(200, login_body(result, api));
}

Task<http::Response> get_register_available(http::Request req, ClientApi& api) {
  const std::optional<std::string> username = req.query_param("username");
  if (!username) throw MatrixError(Errc::missing_param, "Missing 'username' query parameter");
  api.limiter.take_or_throw(RateAction::login_address, req.remote_address);
  const std::string localpart = api.accounts.validate_new_localpart(*username);
  co_await api.accounts.require_available(localpart);
  co_return http::Response::json(200, {{"available", true}});
}

Task<http::Response> get_login(http::Request, ClientApi&) {
  static const nlohmann::json body = {{"flows", nlohmann::json::array({{{"type", "m.login.password"}}})}};
  co_return http::Response::json(200, body);
}

// The user named by `identifier` (m.id.user) or by the deprecated top-level `user` field.
UserId login_user_id(const nlohmann::json& body, ClientApi& api) {
  std::optional<std::string> user;
  if (const nlohmann::json* identifier = json_body::optional_object(body, "identifier")) {
    const std::string type = json_body::required_string(*identifier, "type");
    if (type == "m.id.user") {
      user = json_body::required_string(*identifier, "user");
    } else if (type == "m.id.thirdparty" || type == "m.id.phone") {
      throw MatrixError(Errc::forbidden, "Login with a third-party identifier is not supported on this server");
    } else {
      throw MatrixError(Errc::unknown, "Unknown login identifier type '" + type + "'");
    }
  } else {
    user = json_body::optional_string(body, "user");
  }
  if (!user) throw MatrixError(Errc::missing_param, "Missing 'identifier' (or legacy 'user')");
  if (user->size() > 255) throw MatrixError(Errc::invalid_param, "User identifier is too long");
  if (!user->empty() && user->front() == '@') {
    auto id = UserId::parse(*user);
    if (!id) throw MatrixError(Errc::invalid_param, "Invalid user ID: it " + std::string(describe(id.error())));
    if (id->server_name() != api.options.server_name) throw MatrixError(Errc::forbidden, "Invalid username or password");
    return UserId::from_parts(strings::to_lower_ascii(id->localpart()), api.options.server_name);
  }
  return UserId::from_parts(strings::to_lower_ascii(*user), api.options.server_name);
}

Task<http::Response> post_login(http::Request req, ClientApi& api) {
  const nlohmann::json body = json_body::parse_object(req.body);
  const std::string type = json_body::required_string(body, "type");
  api.limiter.take_or_throw(RateAction::login_address, req.remote_address);
  if (type != "m.login.password") throw MatrixError(Errc::unknown, "Unknown login type " + type);
  const UserId user_id = login_user_id(body, api);
  const std::string password = json_body::required_string(body, "password");
  const std::optional<std::string> device_id = bounded_string(body, "device_id", kMaxDeviceIdBytes);
  const std::optional<std::string> device_name = bounded_string(body, "initial_device_display_name", kMaxDisplayNameBytes);

  // Failed attempts are limited per (account, address) and per address; successful logins are not
  // counted. Not per account alone: a stranger's wrong guesses must not lock the real user out.
  const std::string account_at_address = user_id.str() + "|" + req.remote_address;
  api.limiter.throw_if_waiting(RateAction::login, account_at_address);
  api.limiter.throw_if_waiting(RateAction::login, req.remote_address);
  const std::optional<LoginResult> result =
      co_await api.accounts.login_with_password(user_id, password, device_id, device_name);
  if (!result) {
    api.limiter.try_take(RateAction::login, account_at_address);
    api.limiter.try_take(RateAction::login, req.remote_address);
    throw MatrixError(Errc::forbidden, "Invalid username or password");
  }
  nlohmann::json out = login_body(*result, api);
  out["well_known"] = {{"m.homeserver", {{"base_url", api.options.public_baseurl}}}};
  co_return http::Response::json(200, out);
}

Task<http::Response> post_logout(http::Request req, ClientApi& api) {
  const Session session = co_await require_session(req, api.accounts);
  co_await api.accounts.logout(session);
  co_return http::Response::json(200, nlohmann::json::object());
}

Task<http::Response> post_logout_all(http::Request req, ClientApi& api) {
  const Session session = co_await require_session(req, api.accounts);
  co_await api.accounts.logout_all(session.user_id);
  co_return http::Response::json(200, nlohmann::json::object());
}

Task<http::Response> get_whoami(http::Request req, ClientApi& api) {
  const Session session = co_await require_session(req, api.accounts);
  co_return http::Response::json(200, {{"user_id", session.user_id.str()}, {"device_id", session.device_id}, {"is_guest", false}});
}

}  // namespace

void add_account_routes(http::Router& router, ClientApi& api) {
  using http::Method;
  add_under(router, kClientPrefixes, Method::post, "/register", post_register, api);
  add_under(router, kClientPrefixes, Method::get, "/register/available", get_register_available, api);
  add_under(router, kClientPrefixesWithV1, Method::get, "/login", get_login, api);
  add_under(router, kClientPrefixesWithV1, Method::post, "/login", post_login, api);
  add_under(router, kClientPrefixesWithV1, Method::post, "/logout", post_logout, api);
  add_under(router, kClientPrefixesWithV1, Method::post, "/logout/all", post_logout_all, api);
  add_under(router, kClientPrefixes, Method::get, "/account/whoami", get_whoami, api);
}

}  // namespace herald::homeserver
