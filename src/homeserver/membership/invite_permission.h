#pragma once
// Invite blocking (client-server.md, spec v1.18): a user whose global account data
// m.invite_permission_config says {"default_action": "block"} gets no new invites, from this server's
// users (403 M_INVITE_BLOCKED to the inviter) or from other servers (the same answer to PUT /invite), and
// /sync shows none that arrive anyway. A missing, malformed or other value lets invites through.
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace herald::storage::sql {
class Connection;
}

namespace herald::homeserver::invite_permission {

inline constexpr const char* kAccountDataType = "m.invite_permission_config";

// Whether this content of m.invite_permission_config blocks invites.
bool blocks_invites(const nlohmann::json& config);
// Whether `user` (a local user) blocks invites, read inside a Database job.
bool blocks_invites(storage::sql::Connection& c, const std::string& user);
// 403 M_INVITE_BLOCKED.
[[noreturn]] void refuse();

}  // namespace herald::homeserver::invite_permission
