#include "identity/invites/invite_service.h"

#include <algorithm>

#include "core/clock.h"
#include "core/ids.h"
#include "core/json_body.h"
#include "core/log.h"
#include "core/strings.h"
#include "core/matrix_error.h"
#include "core/rate_limiter.h"
#include "core/worker_pool.h"
#include "crypto/base64.h"
#include "crypto/random.h"
#include "crypto/signed_json.h"
#include "crypto/signing_key.h"
#include "identity/associations/association_service.h"
#include "identity/context.h"
#include "identity/invites/invite_store.h"
#include "identity/invites/redacted_address.h"
#include "identity/invites/store_invite_request.h"
#include "identity/required_params.h"
#include "identity/keys/ephemeral_key.h"
#include "identity/templates.h"
#include "mail/sender.h"
#include "mail/template.h"
#include "storage/database.h"

namespace herald::identity {
namespace {

constexpr std::size_t kInviteTokenLength = 128;
constexpr std::size_t kMaxFieldBytes = 2048;

// UTF-8-safe truncation with an ellipsis, as the mail templates show long names (identity.md §6).
std::string shorten(const std::string& s, std::size_t max_chars, std::size_t keep_chars) {
  std::size_t chars = 0;
  for (unsigned char c : s) chars += (c & 0xc0) != 0x80;
  if (chars <= max_chars) return s;
  std::size_t i = 0, n = 0;
  while (i < s.size() && n < keep_chars) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xc0) == 0x80) ++i;
    ++n;
  }
  return s.substr(0, i) + "…";
}

namespace {
// The caller's web client for the invitation link when it is a plain https:// URL (http:// when the
// operator allows it); anything else (javascript:, data:, spaces, quotes...) falls back to the configured one.
std::string safe_client_location(const std::string& requested, const IdentityOptions& options) {
  const std::string lower = strings::to_lower_ascii(requested);
  const bool scheme_ok = lower.rfind("https://", 0) == 0 || (options.allow_http_web_client_location && lower.rfind("http://", 0) == 0);
  const bool clean = requested.size() <= 512 && requested.find_first_of(" \t\r\n\"'<>\\`") == std::string::npos &&
                     std::all_of(requested.begin(), requested.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
  const std::size_t host = requested.find("://") + 3;
  if (!scheme_ok || !clean || requested.size() <= host) return options.web_client_location;
  return requested;
}
}  // namespace

mail::Message invite_email(const IdentityContext& ctx, const nlohmann::json& params, const std::string& to,
                           const std::string& token, const EphemeralKey& key, ApiVersion version) {
  mail::TemplateVars vars;
  for (const auto& [k, v] : params.items()) {
    if (v.is_string()) vars[k] = v.get<std::string>();
  }
  const std::string sender = vars["sender"];
  const std::string display = vars.contains("sender_display_name") && !vars["sender_display_name"].empty()
                                  ? shorten(vars["sender_display_name"], 20, 19)
                                  : sender;
  const std::string room_name = vars.contains("room_name") ? shorten(vars["room_name"], 30, 25) : "";
  vars["sender_display_name"] = display;
  vars["room_name"] = room_name;
  vars["bracketed_room_name"] = room_name.empty() ? "" : "(" + room_name + ") ";
  vars["bracketed_verified_sender"] = version == ApiVersion::v2 && display != sender ? "(" + sender + ") " : "";
  vars["token"] = token;
  vars["ephemeral_private_key"] = key.private_key;
  vars["to"] = to;
  vars["identity_server"] = ctx.options.server_name;
  const std::string web = safe_client_location(vars["org.matrix.web_client_location"], ctx.options);
  vars["web_client_location"] = web;
  // The link carries what the invitee's client needs to join without the onbind path: the room, and a
  // URL at which /sign-ed25519 signs with the ephemeral private key.
  const std::string sign_url = ctx.options.public_baseurl + "_matrix/identity/api/v1/sign-ed25519?token=" +
                               strings::percent_encode(token) + "&private_key=" + strings::percent_encode(key.private_key);
  vars["link"] = web + "/#/room/" + strings::percent_encode(vars["room_id"]) + "?email=" + strings::percent_encode(to) +
                 "&signurl=" + strings::percent_encode(sign_url) + "&room_name=" + strings::percent_encode(room_name) +
                 "&room_avatar_url=" + strings::percent_encode(vars["room_avatar_url"]) + "&inviter_name=" + strings::percent_encode(display) +
                 "&guest_access_token=" + strings::percent_encode(vars["guest_access_token"]) +
                 "&guest_user_id=" + strings::percent_encode(vars["guest_user_id"]) + "&room_type=" + strings::percent_encode(vars["room_type"]);
  const auto text = split_subject(mail::render_template(ctx.templates.get("invite_email.txt"), vars, mail::Escape::none));
  return {ctx.options.mail_from, to, text.subject, text.body,
          mail::render_template(ctx.templates.get("invite_email.html"), vars, mail::Escape::html)};
}

}  // namespace

Task<nlohmann::json> store_invite(IdentityContext& ctx, const nlohmann::json& params, std::optional<std::string> owner,
                                  ApiVersion version, std::string requester_address) {
  if (version == ApiVersion::v1 && !ctx.options.legacy_store_invite) {
    throw MatrixError(Errc::unrecognized, "The unauthenticated v1 store-invite is disabled here; use v2", 404);
  }
  const StoreInviteRequest request = parse_store_invite_request(params, owner);
  // Per sender (which a v1 caller writes itself), per requesting address and per target address: varying
  // one of them does not buy more emails.
  const std::string from_address = "address|" + requester_address;
  const std::string target = request.canonical.value_or(request.address);
  ctx.limiter.take_all_or_throw({{RateAction::store_invite, request.sender},
                                 {RateAction::store_invite, from_address},
                                 {RateAction::invite_email, target}});

  if (request.canonical) {
    const std::string& medium = request.medium;
    const std::string& canonical = *request.canonical;
    const auto bound = co_await ctx.db.read([&](storage::sql::Connection& c) {
      return association_store::find(c, medium, canonical);
    });
    if (bound) {
      throw std::move(MatrixError(Errc::threepid_in_use, "Binding already known").with("mxid", bound->mxid));
    }
  }
  if (request.refusal) throw *request.refusal;
  const std::string& room_id = request.room_id;
  const std::string& sender = request.sender;

  const EphemeralKey key = generate_ephemeral_key();
  StoredInvite invite{crypto::random_alnum(kInviteTokenLength), request.medium, *request.canonical, room_id, sender,
                      key.public_key, ctx.clock.now_ms()};
  co_await ctx.db.write([&](storage::sql::Connection& c) { invite_store::insert(c, invite); });

  const mail::Message message = invite_email(ctx, params, *request.canonical, invite.token, key, version);
  auto send_fn = [&ctx, &message] { ctx.mail.send(message); };
  std::optional<MatrixError> failure;
  try {
    co_await ctx.workers.run(std::move(send_fn));
  } catch (const mail::SendError& e) {
    log::warn("invite email not sent room={} sender={} error={}", room_id, sender, e.what());
    failure = e.permanent ? MatrixError(Errc::invalid_email, "The mail server refused this address")
                          : MatrixError(Errc::email_send_error, "Could not send the invitation email; try again later");
  }
  if (failure) {
    // No email, no invite: the inviter sees the error and the stored rows go, so nothing is half-made.
    const std::string token = invite.token;
    co_await ctx.db.write([&](storage::sql::Connection& c) { invite_store::remove(c, token); });
    throw *failure;
  }
  if (ctx.options.log_email_links) log::info("invite email for a third-party invite to room {} written (see the outbox)", room_id);
  log::info("invite stored room={} sender={}", room_id, sender);

  const std::string prefix =
      ctx.options.public_baseurl + (version == ApiVersion::v2 ? "_matrix/identity/v2" : "_matrix/identity/api/v1");
  const std::string long_term = crypto::base64_encode(ctx.key.public_key());
  nlohmann::json keys = nlohmann::json::array();
  keys.push_back({{"public_key", long_term}, {"key_validity_url", prefix + "/pubkey/isvalid"}});
  keys.push_back({{"public_key", key.public_key}, {"key_validity_url", prefix + "/pubkey/ephemeral/isvalid"}});
  co_return nlohmann::json{{"token", invite.token},
                           {"public_keys", std::move(keys)},
                           {"public_key", long_term},
                           {"display_name", redact_address(request.address)}};
}

Task<nlohmann::json> sign_ed25519(IdentityContext& ctx, const nlohmann::json& params) {
  require_params(params, {"mxid", "token", "private_key"});
  const std::string mxid = json_body::required_string(params, "mxid");
  const std::string token = json_body::required_string(params, "token");
  const std::string private_key = json_body::required_string(params, "private_key");
  if (!UserId::parse(mxid)) throw MatrixError(Errc::invalid_param, "'mxid' is not a Matrix user ID");
  if (token.size() > kMaxFieldBytes) throw MatrixError(Errc::unrecognized, "Didn't recognize token", 404);
  const auto invite = co_await ctx.db.read([&](storage::sql::Connection& c) { return invite_store::find(c, token); });
  if (!invite) throw MatrixError(Errc::unrecognized, "Didn't recognize token", 404);
  // Only the private key mailed with this invite may sign for it.
  const auto seed = crypto::base64_decode(private_key);
  if (!seed || seed->size() != 32 || ephemeral_public_key_of(private_key) != invite->ephemeral_public_key) {
    throw MatrixError(Errc::invalid_param, "private_key is not the key of this invitation");
  }
  nlohmann::json signed_object = {{"mxid", mxid}, {"sender", invite->sender}, {"token", token}};
  crypto::sign_json(signed_object, ctx.options.server_name, crypto::SigningKey::from_seed(*seed, "0"));
  co_return signed_object;
}

}  // namespace herald::identity
