#include "identity/validation/validation_service.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/strings.h"
#include "core/matrix_error.h"
#include "core/rate_limiter.h"
#include "core/worker_pool.h"
#include "crypto/constant_time.h"
#include "crypto/random.h"
#include "identity/context.h"
#include "identity/templates.h"
#include "identity/validation/email_address.h"
#include "mail/sender.h"
#include "mail/template.h"
#include "storage/database.h"

namespace herald::identity {
namespace {

constexpr std::size_t kMaxNextLinkBytes = 2048;

mail::Message validation_email(const IdentityContext& ctx, const ValidationSession& s) {
  std::string link = ctx.options.public_baseurl + "_matrix/identity/v2/validate/email/submitToken?token=" +
                     strings::percent_encode(s.token) + "&client_secret=" + strings::percent_encode(s.client_secret) + "&sid=" + strings::percent_encode(s.sid);
  const mail::TemplateVars vars{{"address", s.address},
                                {"token", s.token},
                                {"link", link},
                                {"identity_server", ctx.options.server_name}};
  const auto text = split_subject(mail::render_template(ctx.templates.get("validation_email.txt"), vars, mail::Escape::none));
  return {ctx.options.mail_from, s.address, text.subject, text.body,
          mail::render_template(ctx.templates.get("validation_email.html"), vars, mail::Escape::html)};
}

void check_session_secret(const std::optional<ValidationSession>& s, const std::string& client_secret) {
  if (!s || !crypto::equal_constant_time(s->client_secret, client_secret)) {
    throw MatrixError(Errc::no_valid_session, "No valid session was found matching that sid and client secret", 404);
  }
}

}  // namespace

Task<std::string> request_email_token(IdentityContext& ctx, TokenRequest request) {
  if (!is_valid_client_secret(request.client_secret)) throw MatrixError(Errc::invalid_param, "Invalid client_secret");
  const auto email = canonical_email(request.email);
  if (!email) throw MatrixError(Errc::invalid_email, "Invalid email address");
  if (request.send_attempt < 0) throw MatrixError(Errc::invalid_param, "send_attempt must be a non-negative integer");
  if (request.next_link) {
    if (request.next_link->size() > kMaxNextLinkBytes ||
        !(request.next_link->starts_with("https://") || request.next_link->starts_with("http://"))) {
      throw MatrixError(Errc::invalid_param, "next_link must be an http(s) URL");
    }
  }

  // Mail costs the receiver attention: limited per address and per requester. Checked before the session
  // changes, so a refused request can be repeated with the same send_attempt.
  const std::string ip_key = "ip:" + request.requester_address;
  const std::string email_key = "email:" + *email;
  ctx.limiter.throw_if_waiting(RateAction::threepid_validation, ip_key);
  ctx.limiter.throw_if_waiting(RateAction::threepid_validation, email_key);

  const std::int64_t now = ctx.clock.now_ms();
  std::optional<ValidationSession> to_send;
  std::string sid;
  co_await ctx.db.write([&](storage::sql::Connection& c) {
    auto existing = session_store::find(c, "email", *email, request.client_secret);
    if (existing) {
      sid = existing->sid;
      if (request.send_attempt <= existing->send_attempt) return;  // the same attempt again: no new mail
      session_store::update_send_attempt(c, existing->sid, request.send_attempt, request.next_link, now);
      existing->send_attempt = request.send_attempt;
      to_send = std::move(existing);
      return;
    }
    ValidationSession s{crypto::random_alnum(24), "email", *email, request.client_secret, crypto::random_alnum(32),
                        request.send_attempt, request.next_link, now, std::nullopt};
    session_store::insert(c, s);
    sid = s.sid;
    to_send = std::move(s);
  });
  if (!to_send) co_return sid;

  ctx.limiter.try_take(RateAction::threepid_validation, ip_key);
  ctx.limiter.try_take(RateAction::threepid_validation, email_key);
  const mail::Message message = validation_email(ctx, *to_send);
  auto send_fn = [&ctx, &message] { ctx.mail.send(message); };
  try {
    co_await ctx.workers.run(std::move(send_fn));
  } catch (const mail::SendError& e) {
    log::warn("validation email not sent sid={} error={}", sid, e.what());
    if (e.permanent) throw MatrixError(Errc::invalid_email, "The mail server refused this address");
    throw MatrixError(Errc::email_send_error, "Could not send the validation email; try again later");
  }
  if (ctx.options.log_email_links) log::info("validation email for {}: token {} (see the outbox)", *email, to_send->token);
  co_return sid;
}

Task<ValidationSession> submit_email_token(IdentityContext& ctx, std::string sid, std::string client_secret,
                                           std::string token) {
  const std::int64_t now = ctx.clock.now_ms();
  const std::int64_t lifetime = ctx.options.session_lifetime_ms;
  // A read first, so that wrong guesses never take the writer.
  auto session = co_await ctx.db.read([&](storage::sql::Connection& c) { return session_store::find_by_sid(c, sid); });
  check_session_secret(session, client_secret);
  if (!crypto::equal_constant_time(session->token, token)) {
    throw MatrixError(Errc::token_incorrect, "The validation token is incorrect");
  }
  if (session->validated_ts) co_return *session;  // following the link twice is fine
  if (now - session->modified_ts > lifetime) throw MatrixError(Errc::session_expired, "This validation session has expired");
  co_await ctx.db.write([&](storage::sql::Connection& c) { session_store::mark_validated(c, sid, now); });
  session->validated_ts = now;
  session->modified_ts = now;
  co_return *session;
}

Task<ValidationSession> validated_session(IdentityContext& ctx, std::string sid, std::string client_secret) {
  auto session = co_await ctx.db.read([&](storage::sql::Connection& c) { return session_store::find_by_sid(c, sid); });
  check_session_secret(session, client_secret);
  if (!session->validated_ts) throw MatrixError(Errc::session_not_validated, "This validation session has not been validated yet");
  if (ctx.clock.now_ms() - session->modified_ts > ctx.options.session_lifetime_ms) {
    throw MatrixError(Errc::session_expired, "This validation session has expired: validate the address again");
  }
  co_return *session;
}

}  // namespace herald::identity
