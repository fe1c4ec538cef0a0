#pragma once
// The store-invite body (identity.md §6), checked without I/O: {medium, address, room_id, sender} plus the
// display fields the invitation email shows (room_name, sender_display_name, ...), each string at most
// 2,048 bytes.
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "core/matrix_error.h"

namespace herald::identity {

struct StoreInviteRequest {
  std::string medium;
  std::string address;  // as given: the answer's display_name redacts this form
  std::string room_id;
  std::string sender;
  // The address as bindings store it (canonical_address): what the "already bound?" lookup and the
  // per-target rate limit use; nullopt when no address of this medium can be stored in that form.
  std::optional<std::string> canonical;
  // Why no invitation can be mailed: the medium is not email (M_UNRECOGNIZED), the address is empty or too
  // long (M_INVALID_PARAM) or not one we send mail to (M_INVALID_EMAIL). Sydent answers M_THREEPID_IN_USE
  // for a bound address before these, so store_invite throws it only after the lookup. nullopt: the
  // invitation can be stored and mailed to *canonical.
  std::optional<MatrixError> refusal;
};

// Throws, in Sydent's order: M_MISSING_PARAMS naming every absent key of the four; M_INVALID_PARAM for a
// string field over 2,048 bytes; M_BAD_JSON for one of the four that is not a string (M_MISSING_PARAM when
// null); M_UNAUTHORIZED (403) when `owner` (the authenticated account, v2 only) is not the sender;
// M_INVALID_PARAM when the sender is not a user ID or room_id does not start with '!'.
StoreInviteRequest parse_store_invite_request(const nlohmann::json& body, const std::optional<std::string>& owner);

}  // namespace herald::identity
