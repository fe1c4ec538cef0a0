#include "homeserver/client_api/request_auth.h"

#include "core/matrix_error.h"

namespace herald::homeserver {

std::optional<std::string> access_token_of(const http::Request& req) {
  std::optional<std::string> from_header;
  if (!req.authorization.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (req.authorization.size() <= kBearer.size() || req.authorization.compare(0, kBearer.size(), kBearer) != 0) {
      throw MatrixError(Errc::missing_token, "Invalid Authorization header: expected 'Bearer <token>'");
    }
    from_header = req.authorization.substr(kBearer.size());
  }
  std::optional<std::string> from_query = req.query_param("access_token");
  if (from_header && from_query) {
    throw MatrixError(Errc::missing_token, "Mixing Authorization headers and access_token query parameters.");
  }
  return from_header ? from_header : from_query;
}

Task<Session> require_session(const http::Request& req, AccountService& accounts) {
  std::optional<std::string> token = access_token_of(req);
  if (!token) throw MatrixError(Errc::missing_token, "Missing access token.");
  std::optional<Session> session = co_await accounts.session_for_token(std::move(*token));
  if (!session) throw MatrixError(Errc::unknown_token, "Unrecognised access token.").with_bool("soft_logout", false);
  co_await accounts.note_seen(*session, req.remote_address);
  co_return std::move(*session);
}

}  // namespace herald::homeserver
