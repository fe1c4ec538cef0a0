// Email validation sessions, bind and unbind.
#include <nlohmann/json.hpp>

#include "core/json_body.h"
#include "core/matrix_error.h"
#include "identity/accounts/identity_accounts.h"
#include "identity/api/identity_api.h"
#include "identity/associations/association_service.h"
#include "identity/context.h"
#include "identity/required_params.h"
#include "identity/templates.h"
#include "identity/validation/validation_service.h"
#include "mail/template.h"

namespace herald::identity {
namespace {

// A field that may arrive as a JSON string or, from a legacy form, as text.
std::string text_param(const nlohmann::json& params, const char* key) {
  const auto& v = params.at(key);
  if (!v.is_string()) throw MatrixError(Errc::invalid_param, std::string("'") + key + "' must be a string");
  return v.get<std::string>();
}

std::optional<std::string> owner_for(ApiVersion version, std::optional<std::string> user) {
  return version == ApiVersion::v2 ? user : std::nullopt;
}

Task<http::Response> post_request_token(http::Request req, IdentityContext& ctx, ApiVersion version) {
  if (version == ApiVersion::v2) co_await authenticate(ctx, req, TermsCheck::required);
  const nlohmann::json params = request_params(req, version);
  require_params(params, {"client_secret", "email", "send_attempt"});
  TokenRequest t;
  t.client_secret = text_param(params, "client_secret");
  t.email = text_param(params, "email");
  const auto& attempt = params.at("send_attempt");
  if (attempt.is_number_integer()) {
    t.send_attempt = attempt.get<std::int64_t>();
  } else if (attempt.is_string() && !attempt.get<std::string>().empty() && attempt.get<std::string>().size() < 16 &&
             attempt.get<std::string>().find_first_not_of("0123456789") == std::string::npos) {
    t.send_attempt = std::stoll(attempt.get<std::string>());
  } else {
    throw MatrixError(Errc::invalid_param, "send_attempt must be an integer");
  }
  if (params.contains("next_link") && !params["next_link"].is_null()) t.next_link = text_param(params, "next_link");
  t.requester_address = req.remote_address;
  const std::string sid = co_await request_email_token(ctx, std::move(t));
  co_return http::Response::json(200, {{"sid", sid}});
}

Task<http::Response> post_submit_token(http::Request req, IdentityContext& ctx, ApiVersion version) {
  if (version == ApiVersion::v2) co_await authenticate(ctx, req, TermsCheck::required);
  const nlohmann::json params = request_params(req, version);
  require_params(params, {"sid", "client_secret", "token"});
  co_await submit_email_token(ctx, text_param(params, "sid"), text_param(params, "client_secret"), text_param(params, "token"));
  co_return http::Response::json(200, {{"success", true}});
}

http::Response page(const IdentityContext& ctx, int status, bool ok, const std::string& title, const std::string& message) {
  const mail::TemplateVars vars{{"outcome", ok ? "ok" : "fail"}, {"title", title}, {"message", message}};
  http::Response res = http::Response::text(status, mail::render_template(ctx.templates.get("validation_page.html"), vars,
                                                                          mail::Escape::html),
                                            "text/html; charset=utf-8");
  res.headers.emplace_back("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
  res.headers.emplace_back("X-Frame-Options", "DENY");
  res.headers.emplace_back("Referrer-Policy", "no-referrer");
  return res;
}

// The link in the validation email: a person's browser opens it, so it answers a page, not JSON, and needs no
// access token (it is the emailed token that proves control of the address).
Task<http::Response> get_submit_token(http::Request req, IdentityContext& ctx, ApiVersion) {
  const auto sid = req.query_param("sid");
  const auto secret = req.query_param("client_secret");
  const auto token = req.query_param("token");
  if (!sid || !secret || !token) {
    co_return page(ctx, 400, false, "This link is incomplete",
                   "Open the whole link from the email. If your mail program broke it over two lines, copy both parts.");
  }
  std::optional<ValidationSession> session;
  std::optional<MatrixError> failure;
  try {
    session = co_await submit_email_token(ctx, *sid, *secret, *token);
  } catch (const MatrixError& e) {
    failure = e;
  }
  if (failure) {
    std::string message = "This link is not valid. Ask for a new email and use the newest link.";
    if (failure->errc() == Errc::session_expired) message = "This link has expired. Ask for a new email and open its link within a day.";
    co_return page(ctx, failure->http_status(), false, "We couldn't verify your email address", message);
  }
  if (session->next_link && !session->next_link->starts_with("file:")) {
    http::Response res = http::Response::empty(302);
    res.headers.emplace_back("Location", *session->next_link);
    co_return res;
  }
  co_return page(ctx, 200, true, "Your email address is verified",
                 "Thank you. You can close this page and return to your Matrix app to continue.");
}

Task<http::Response> get_validated_3pid(http::Request req, IdentityContext& ctx, ApiVersion version) {
  if (version == ApiVersion::v2) co_await authenticate(ctx, req, TermsCheck::required);
  const auto sid = req.query_param("sid");
  const auto secret = req.query_param("client_secret");
  if (!sid || !secret) throw MatrixError(Errc::missing_params, "Missing parameters: sid, client_secret");
  const ValidationSession s = co_await validated_session(ctx, *sid, *secret);
  co_return http::Response::json(200, {{"medium", s.medium}, {"address", s.address}, {"validated_at", *s.validated_ts}});
}

Task<http::Response> post_bind(http::Request req, IdentityContext& ctx, ApiVersion version) {
  std::optional<std::string> user;
  if (version == ApiVersion::v2) user = co_await authenticate(ctx, req, TermsCheck::required);
  const nlohmann::json params = request_params(req, version);
  require_params(params, {"sid", "client_secret", "mxid"});
  const nlohmann::json association = co_await bind(ctx, text_param(params, "sid"), text_param(params, "client_secret"),
                                                   text_param(params, "mxid"), owner_for(version, user));
  co_return http::Response::json(200, association);
}

Task<http::Response> post_unbind(http::Request req, IdentityContext& ctx, ApiVersion) {
  const nlohmann::json body = json_body::parse_object(req.body);
  co_await unbind(ctx, body, req.authorization, req.target.empty() ? req.path : req.target);
  co_return http::Response::json(200, nlohmann::json::object());
}

}  // namespace

void add_validation_routes(http::Router& router, IdentityContext& ctx) {
  add_identity_route(router, ctx, http::Method::post, "/validate/email/requestToken", post_request_token, true);
  add_identity_route(router, ctx, http::Method::post, "/validate/email/submitToken", post_submit_token, true);
  add_identity_route(router, ctx, http::Method::get, "/validate/email/submitToken", get_submit_token, true);
  add_identity_route(router, ctx, http::Method::get, "/3pid/getValidated3pid", get_validated_3pid, true);
  add_identity_route(router, ctx, http::Method::post, "/3pid/bind", post_bind, true);
  add_identity_route(router, ctx, http::Method::post, "/3pid/unbind", post_unbind, true);
}

}  // namespace herald::identity
