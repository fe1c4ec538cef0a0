#pragma once
// Email validation (identity.md §5): requestToken mails a token (once per send_attempt), submitToken
// validates the session, getValidated3pid reports it. Sessions live 24 hours from their last change.
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "core/task.h"
#include "identity/validation/session_store.h"

namespace herald::identity {

struct IdentityContext;

// Fields already pulled out of JSON or a legacy form.
struct TokenRequest {
  std::string client_secret;
  std::string email;
  std::int64_t send_attempt = 0;
  std::optional<std::string> next_link;
  std::string requester_address;  // for the per-IP rate limit
};

// Returns the session ID.
Task<std::string> request_email_token(IdentityContext& ctx, TokenRequest request);
// Validates the session; returns it (its next_link is where the emailed link redirects to).
Task<ValidationSession> submit_email_token(IdentityContext& ctx, std::string sid, std::string client_secret,
                                           std::string token);
// A validated, unexpired session or the spec's error (M_NO_VALID_SESSION, M_SESSION_NOT_VALIDATED,
// M_SESSION_EXPIRED).
Task<ValidationSession> validated_session(IdentityContext& ctx, std::string sid, std::string client_secret);

}  // namespace herald::identity
