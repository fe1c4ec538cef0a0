#pragma once
// store-invite and sign-ed25519 (identity.md §6): an invitation to an unbound address is stored with a
// fresh ephemeral key and mailed to the address; the mailed private key lets the invitee's client obtain a
// signed {mxid, sender, token} to join with.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/task.h"

namespace herald::identity {

struct IdentityContext;

enum class ApiVersion { v1, v2 };

// `owner`: the authenticated account (v2), which must be the sender; nullopt on the legacy v1 path.
// `requester_address`: the caller's IP address (rate limits).
Task<nlohmann::json> store_invite(IdentityContext& ctx, const nlohmann::json& params, std::optional<std::string> owner,
                                  ApiVersion version, std::string requester_address);
Task<nlohmann::json> sign_ed25519(IdentityContext& ctx, const nlohmann::json& params);

}  // namespace herald::identity
