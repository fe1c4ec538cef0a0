// The identity server's store-invite body: JSON text -> json_body::parse_object -> parse_store_invite_request,
// as POST /store-invite reads it. Properties: only MatrixError escapes; an accepted body's fields are strings
// of at most 2,048 bytes with a valid sender and a '!' room ID; an invite that may be mailed has medium
// "email" and the canonical form of its address; the same body with the sender as the token's owner gives
// the same answer, and with anyone else as the owner M_UNAUTHORIZED.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/ids.h"
#include "core/json_body.h"
#include "core/matrix_error.h"
#include "identity/invites/store_invite_request.h"
#include "identity/validation/email_address.h"

namespace {

using herald::Errc;
using herald::MatrixError;
using herald::identity::StoreInviteRequest;

std::optional<StoreInviteRequest> parse(const nlohmann::json& body, const std::optional<std::string>& owner,
                                        std::optional<Errc>* error) {
  try {
    return herald::identity::parse_store_invite_request(body, owner);
  } catch (const MatrixError& e) {
    if (e.http_status() < 400 || e.http_status() > 499 || e.message().empty()) std::abort();
    *error = e.errc();
    return std::nullopt;
  }
}

void check_accepted(const StoreInviteRequest& r) {
  for (const std::string* field : {&r.medium, &r.address, &r.room_id, &r.sender}) {
    if (field->size() > 2048) std::abort();
  }
  if (!herald::UserId::parse(r.sender)) std::abort();
  if (r.room_id.empty() || r.room_id.front() != '!') std::abort();
  if (r.canonical != herald::identity::canonical_address(r.medium, r.address)) std::abort();
  if (!r.refusal) {
    if (r.medium != "email" || !r.canonical) std::abort();
    if (r.canonical != herald::identity::canonical_email(r.address)) std::abort();
    // What is mailed to is the canonical form: canonical again, unchanged.
    if (herald::identity::canonical_email(*r.canonical) != r.canonical) std::abort();
  } else if (r.refusal->http_status() != 400) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  nlohmann::json body;
  try {
    body = herald::json_body::parse_object(text);
  } catch (const MatrixError&) {
    // The route answers M_NOT_JSON / M_BAD_JSON before the parser; any other JSON value still must not crash it.
    const auto value = herald::json_body::try_parse(text);
    if (!value) return 0;
    std::optional<Errc> error;
    if (parse(*value, std::nullopt, &error)) std::abort();  // four fields are needed, so only an object passes
    return 0;
  }
  std::optional<Errc> error;
  const auto accepted = parse(body, std::nullopt, &error);  // v1: no owner
  if (!accepted) return 0;
  check_accepted(*accepted);
  // v2: the owner is the sender -> the same request; anyone else -> M_UNAUTHORIZED.
  std::optional<Errc> owner_error;
  const auto as_owner = parse(body, accepted->sender, &owner_error);
  if (!as_owner || as_owner->medium != accepted->medium || as_owner->address != accepted->address ||
      as_owner->canonical != accepted->canonical || as_owner->room_id != accepted->room_id ||
      as_owner->refusal.has_value() != accepted->refusal.has_value()) {
    std::abort();
  }
  std::optional<Errc> other_error;
  if (parse(body, accepted->sender + "x", &other_error) || other_error != Errc::unauthorized) std::abort();
  return 0;
}
