#include "identity/invites/store_invite_request.h"

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "core/json_body.h"
#include "identity/required_params.h"
#include "identity/validation/email_address.h"

namespace herald::identity {
namespace {
constexpr std::size_t kMaxFieldBytes = 2048;
}  // namespace

StoreInviteRequest parse_store_invite_request(const nlohmann::json& body, const std::optional<std::string>& owner) {
  // The order of the checks is Sydent's (identity.md §6), which clients and homeservers have come to expect.
  require_params(body, {"medium", "address", "room_id", "sender"});
  for (const auto& [k, v] : body.items()) {
    if (!v.is_string()) continue;
    if (v.get_ref<const std::string&>().size() > kMaxFieldBytes) throw MatrixError(Errc::invalid_param, "'" + k + "' is too long");
  }
  StoreInviteRequest r;
  r.medium = json_body::required_string(body, "medium");
  r.address = json_body::required_string(body, "address");
  r.room_id = json_body::required_string(body, "room_id");
  r.sender = json_body::required_string(body, "sender");
  if (owner && *owner != r.sender) throw MatrixError(Errc::unauthorized, "'sender' doesn't match the token's owner", 403);
  if (!UserId::parse(r.sender)) throw MatrixError(Errc::invalid_param, "'sender' is not a Matrix user ID");
  if (r.room_id.empty() || r.room_id.front() != '!') throw MatrixError(Errc::invalid_param, "'room_id' is not a room ID");
  r.canonical = canonical_address(r.medium, r.address);
  if (r.medium != "email") {
    r.refusal = MatrixError(Errc::unrecognized, "Didn't understand medium '" + r.medium + "'");
  } else if (r.address.empty() || r.address.size() > kMaxEmailLength) {
    r.refusal = MatrixError(Errc::invalid_param, "Invalid email address length");
  } else if (!r.canonical) {
    r.refusal = MatrixError(Errc::invalid_email, "Invalid email address");
  }
  return r;
}

}  // namespace herald::identity
