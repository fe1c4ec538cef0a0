#pragma once
// Identity-server accounts (identity.md §1.1, §2): registration with an OpenID token checked at the user's
// homeserver, bearer tokens (header or ?access_token=, as Synapse sends them), terms, logout.
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "core/task.h"

namespace herald::http {
struct Request;
}

namespace herald::identity {

struct IdentityContext;

enum class TermsCheck { required, skip };

// {access_token, token_type, matrix_server_name, expires_in} -> a new identity-server token.
Task<std::string> register_account(IdentityContext& ctx, const nlohmann::json& body);
// The account's user ID; 401 M_UNAUTHORIZED without a valid token, 403 M_TERMS_NOT_SIGNED when terms are
// required and not all accepted.
Task<std::string> authenticate(IdentityContext& ctx, const http::Request& req, TermsCheck terms);
Task<void> logout(IdentityContext& ctx, const http::Request& req);
// The URLs must each name a configured policy document; appends to what the account accepted before.
Task<void> accept_terms(IdentityContext& ctx, const std::string& user_id, const nlohmann::json& body);

}  // namespace herald::identity
