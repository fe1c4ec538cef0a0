#pragma once
// Access tokens from `Authorization: Bearer` or the legacy `access_token` query parameter.
#include <optional>
#include <string>

#include "core/task.h"
#include "homeserver/accounts/account_service.h"
#include "http/request.h"

namespace herald::homeserver {

// nullopt when the request carries no token; throws M_MISSING_TOKEN when it carries two.
std::optional<std::string> access_token_of(const http::Request& req);
// 401 M_MISSING_TOKEN / M_UNKNOWN_TOKEN unless the token belongs to a live session.
Task<Session> require_session(const http::Request& req, AccountService& accounts);

}  // namespace herald::homeserver
