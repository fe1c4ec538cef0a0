#include "identity/associations/association_service.h"

#include "core/clock.h"
#include "core/ids.h"
#include "core/json_body.h"
#include "core/log.h"
#include "core/matrix_error.h"
#include "crypto/signed_json.h"
#include "crypto/signing_key.h"
#include "federation/request_verifier.h"
#include "identity/associations/lookup_hash.h"
#include "identity/context.h"
#include "identity/invites/invite_store.h"
#include "identity/onbind/onbind_delivery.h"
#include "identity/onbind/onbind_store.h"
#include "identity/required_params.h"
#include "identity/validation/email_address.h"
#include "identity/validation/validation_service.h"
#include "storage/database.h"

namespace herald::identity {
namespace {

constexpr std::int64_t kHundredYearsMs = 100LL * 365 * 24 * 3600 * 1000;

// The onbind body (identity.md §7): each invite carries a `signed` block {mxid, token} signed with the
// long-term key, and the whole body is signed too.
std::string onbind_body(const IdentityContext& ctx, const Association& a, const std::vector<StoredInvite>& invites) {
  nlohmann::json body = {{"medium", a.medium}, {"address", a.address}, {"mxid", a.mxid},
                         {"ts", a.ts},         {"not_before", a.not_before}, {"not_after", a.not_after},
                         {"invites", nlohmann::json::array()}};
  for (const auto& inv : invites) {
    nlohmann::json signed_block = {{"mxid", a.mxid}, {"token", inv.token}};
    crypto::sign_json(signed_block, ctx.options.server_name, ctx.key);
    body["invites"].push_back({{"medium", a.medium},
                               {"address", a.address},
                               {"mxid", a.mxid},
                               {"room_id", inv.room_id},
                               {"sender", inv.sender},
                               {"token", inv.token},
                               {"signed", std::move(signed_block)}});
  }
  crypto::sign_json(body, ctx.options.server_name, ctx.key);
  return body.dump();
}

// Throws 403 unless the request carries a valid X-Matrix signature (destination_is: this server) from
// the homeserver of `mxid`. The checks and the key fetch are the federation layer's.
Task<void> verify_homeserver_signature(IdentityContext& ctx, std::string authorization, std::string uri,
                                       std::string body, const UserId& mxid) {
  std::string origin;
  std::string refused;
  try {
    std::vector<std::string> headers{std::move(authorization)};
    origin = co_await ctx.unbind_verifier.verify(http::Method::post, std::move(uri), std::move(body), std::move(headers));
  } catch (const MatrixError& e) {
    refused = std::string(e.message());  // Sydent answers 403 M_FORBIDDEN where federation says 401
  }
  if (!refused.empty()) throw MatrixError(Errc::forbidden, refused);
  if (origin != mxid.server_name()) throw MatrixError(Errc::forbidden, "The signing server does not own " + mxid.str());
}

}  // namespace

nlohmann::json signed_association(const IdentityContext& ctx, const Association& a) {
  nlohmann::json out = {{"address", a.address}, {"medium", a.medium},         {"mxid", a.mxid},
                        {"not_before", a.not_before}, {"not_after", a.not_after}, {"ts", a.ts}};
  crypto::sign_json(out, ctx.options.server_name, ctx.key);
  return out;
}

Task<nlohmann::json> bind(IdentityContext& ctx, std::string sid, std::string client_secret, std::string mxid,
                          std::optional<std::string> owner) {
  const auto user = UserId::parse(mxid);
  if (!user) throw MatrixError(Errc::invalid_param, "mxid is not a valid Matrix user ID");
  if (owner && *owner != mxid) throw MatrixError(Errc::unauthorized, "This account may only bind addresses to itself", 403);
  const ValidationSession session = co_await validated_session(ctx, sid, client_secret);

  const std::int64_t now = ctx.clock.now_ms();
  const Association a{session.medium, session.address, mxid, now, now, now + kHundredYearsMs};
  const std::string hash = lookup_hash(a.address, a.medium, ctx.lookup_pepper);
  bool queued = false;
  co_await ctx.db.write([&](storage::sql::Connection& c) {
    association_store::upsert(c, a, hash);
    const auto invites = invite_store::take_pending(c, a.medium, a.address, now);
    if (invites.empty()) return;
    OnbindJob job;
    job.mxid = mxid;
    job.body = onbind_body(ctx, a, invites);
    for (const auto& inv : invites) job.invite_tokens.push_back(inv.token);
    onbind_store::enqueue(c, job, now);
    queued = true;
  });
  log::info("3pid bound medium={} mxid={} onbind_queued={}", a.medium, mxid, queued);
  if (queued) ctx.onbind.wake();
  co_return signed_association(ctx, a);
}

Task<void> unbind(IdentityContext& ctx, const nlohmann::json& body, std::string authorization, std::string uri) {
  const std::string mxid = json_body::required_string(body, "mxid");
  const auto user = UserId::parse(mxid);
  if (!user) throw MatrixError(Errc::invalid_param, "mxid is not a valid Matrix user ID");
  const nlohmann::json* threepid = json_body::optional_object(body, "threepid");
  if (!threepid) throw MatrixError(Errc::missing_params, "Missing parameters: threepid");
  const std::string medium = json_body::required_string(*threepid, "medium");
  const auto address = canonical_address(medium, json_body::required_string(*threepid, "address"));
  if (!address) throw MatrixError(Errc::invalid_param, "threepid.address is not a valid address");
  const auto sid = json_body::optional_string(body, "sid");
  const auto client_secret = json_body::optional_string(body, "client_secret");
  if (sid && client_secret) {
    const ValidationSession session = co_await validated_session(ctx, *sid, *client_secret);
    if (session.medium != medium || session.address != *address) {
      throw MatrixError(Errc::forbidden, "The validated session is for another address");
    }
  } else if (authorization.rfind("X-Matrix ", 0) == 0) {
    co_await verify_homeserver_signature(ctx, authorization, uri, body.dump(), *user);
  } else {
    throw MatrixError(Errc::forbidden,
                      "Unbinding needs a request signed by the user's homeserver, or the sid and client_secret of a "
                      "validated session for the address");
  }
  co_await ctx.db.write([&](storage::sql::Connection& c) { association_store::remove(c, medium, *address, mxid); });
  log::info("3pid unbound medium={} mxid={}", medium, mxid);
}

Task<nlohmann::json> lookup(IdentityContext& ctx, const nlohmann::json& body) {
  require_params(body, {"algorithm", "pepper", "addresses"});
  const std::string algorithm = json_body::required_string(body, "algorithm");
  const std::string pepper = json_body::required_string(body, "pepper");
  const nlohmann::json* addresses = json_body::optional_array(body, "addresses");
  if (!addresses) throw MatrixError(Errc::invalid_param, "addresses must be a list");
  if (addresses->size() > ctx.options.lookup_limit) {
    throw MatrixError(Errc::too_large, "Too many addresses: at most " + std::to_string(ctx.options.lookup_limit), 400);
  }
  if (algorithm != "sha256" && algorithm != "none") throw MatrixError(Errc::invalid_param, "Unsupported algorithm: " + algorithm);
  if (pepper != ctx.lookup_pepper) {
    throw std::move(MatrixError(Errc::invalid_pepper, "Unknown or invalid pepper - has it been rotated?")
                        .with("algorithm", algorithm)
                        .with("lookup_pepper", ctx.lookup_pepper));
  }
  // Every address is turned into the hash the bindings are stored under.
  std::vector<std::string> sent;
  std::vector<std::string> hashes;
  for (const auto& item : *addresses) {
    if (!item.is_string()) throw MatrixError(Errc::invalid_param, "addresses must be strings");
    const std::string text = item.get<std::string>();
    if (text.size() > 1024) throw MatrixError(Errc::invalid_param, "An address is too long");
    if (algorithm == "sha256") {
      hashes.push_back(text);
    } else {
      const auto space = text.rfind(' ');
      if (space == std::string::npos) throw MatrixError(Errc::invalid_param, "Each address must be '<address> <medium>'");
      const std::string medium = text.substr(space + 1);
      const auto address = canonical_address(medium, text.substr(0, space));
      hashes.push_back(address ? lookup_hash(*address, medium, ctx.lookup_pepper) : std::string());
    }
    sent.push_back(text);
  }
  nlohmann::json mappings = nlohmann::json::object();
  co_await ctx.db.read([&](storage::sql::Connection& c) {
    for (std::size_t i = 0; i < hashes.size(); ++i) {
      if (hashes[i].empty()) continue;
      if (auto mxid = association_store::mxid_by_hash(c, hashes[i])) mappings[sent[i]] = *mxid;
    }
  });
  co_return nlohmann::json{{"mappings", std::move(mappings)}};
}

Task<nlohmann::json> lookup_one(IdentityContext& ctx, std::string medium, std::string address) {
  const auto canonical = canonical_address(medium, address);
  if (!canonical) co_return nlohmann::json::object();
  const auto found = co_await ctx.db.read([&](storage::sql::Connection& c) { return association_store::find(c, medium, *canonical); });
  if (!found) co_return nlohmann::json::object();
  co_return signed_association(ctx, *found);
}

Task<nlohmann::json> bulk_lookup(IdentityContext& ctx, const nlohmann::json& body) {
  const nlohmann::json* threepids = json_body::optional_array(body, "threepids");
  if (!threepids) throw MatrixError(Errc::missing_params, "Missing parameters: threepids");
  if (threepids->size() > ctx.options.lookup_limit) throw MatrixError(Errc::too_large, "Too many threepids", 400);
  std::vector<std::pair<std::string, std::string>> wanted;  // (medium, address as sent)
  for (const auto& pair : *threepids) {
    if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
      throw MatrixError(Errc::invalid_param, "threepids must be a list of [medium, address] pairs");
    }
    wanted.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
  }
  nlohmann::json hits = nlohmann::json::array();
  co_await ctx.db.read([&](storage::sql::Connection& c) {
    for (const auto& [medium, address] : wanted) {
      const auto canonical = canonical_address(medium, address);
      if (!canonical) continue;
      if (auto a = association_store::find(c, medium, *canonical)) hits.push_back({medium, address, a->mxid});
    }
  });
  co_return nlohmann::json{{"threepids", std::move(hits)}};
}

}  // namespace herald::identity
