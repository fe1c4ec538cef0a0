#pragma once
// Binding a validated address to a Matrix ID, unbinding it, and looking bindings up (identity.md §4-5).
// A bind that finds invitations stored for the address queues their signed onbind callback in the same
// transaction.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/task.h"
#include "identity/associations/association_store.h"

namespace herald::identity {

struct IdentityContext;

// The association as the spec publishes it, signed with the long-term key.
nlohmann::json signed_association(const IdentityContext& ctx, const Association& a);

// `owner` is the authenticated account (v2), which must be `mxid`; nullopt on the legacy v1 path.
Task<nlohmann::json> bind(IdentityContext& ctx, std::string sid, std::string client_secret, std::string mxid,
                          std::optional<std::string> owner);
// Unbinding (body: mxid, threepid, and sid + client_secret when no signature): proven by a validated session
// for the same address, or by an X-Matrix signature of the homeserver of mxid (`authorization` is the
// request's Authorization header, `uri` its path).
Task<void> unbind(IdentityContext& ctx, const nlohmann::json& body, std::string authorization, std::string uri);

// POST /v2/lookup: {"algorithm", "pepper", "addresses"} -> {"mappings"}.
Task<nlohmann::json> lookup(IdentityContext& ctx, const nlohmann::json& body);
// Legacy v1 lookup of one address: the signed association, or {}.
Task<nlohmann::json> lookup_one(IdentityContext& ctx, std::string medium, std::string address);
// Legacy v1 bulk_lookup: {"threepids": [[medium, address], ...]} -> {"threepids": [[medium, address, mxid], ...]}.
Task<nlohmann::json> bulk_lookup(IdentityContext& ctx, const nlohmann::json& body);

}  // namespace herald::identity
