#include "core/matrix_error.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace herald {
namespace {

struct ErrcInfo {
  std::string_view code;
  int status;
};

// One table maps our codes to the spec's strings and usual statuses (client-server.md §0.7).
ErrcInfo info_of(Errc errc) noexcept {
  switch (errc) {
    case Errc::forbidden: return {"M_FORBIDDEN", 403};
    case Errc::unknown_token: return {"M_UNKNOWN_TOKEN", 401};
    case Errc::missing_token: return {"M_MISSING_TOKEN", 401};
    case Errc::unauthorized: return {"M_UNAUTHORIZED", 401};
    case Errc::bad_json: return {"M_BAD_JSON", 400};
    case Errc::not_json: return {"M_NOT_JSON", 400};
    case Errc::not_found: return {"M_NOT_FOUND", 404};
    case Errc::limit_exceeded: return {"M_LIMIT_EXCEEDED", 429};
    case Errc::unrecognized: return {"M_UNRECOGNIZED", 400};
    case Errc::unknown: return {"M_UNKNOWN", 400};
    case Errc::user_in_use: return {"M_USER_IN_USE", 400};
    case Errc::invalid_username: return {"M_INVALID_USERNAME", 400};
    case Errc::room_in_use: return {"M_ROOM_IN_USE", 400};
    case Errc::invalid_room_state: return {"M_INVALID_ROOM_STATE", 400};
    case Errc::unsupported_room_version: return {"M_UNSUPPORTED_ROOM_VERSION", 400};
    case Errc::incompatible_room_version: return {"M_INCOMPATIBLE_ROOM_VERSION", 400};
    case Errc::bad_state: return {"M_BAD_STATE", 403};
    case Errc::guest_access_forbidden: return {"M_GUEST_ACCESS_FORBIDDEN", 403};
    case Errc::missing_param: return {"M_MISSING_PARAM", 400};
    case Errc::invalid_param: return {"M_INVALID_PARAM", 400};
    case Errc::too_large: return {"M_TOO_LARGE", 413};
    case Errc::exclusive: return {"M_EXCLUSIVE", 400};
    case Errc::user_deactivated: return {"M_USER_DEACTIVATED", 403};
    case Errc::threepid_in_use: return {"M_THREEPID_IN_USE", 400};
    case Errc::threepid_not_found: return {"M_THREEPID_NOT_FOUND", 400};
    case Errc::threepid_auth_failed: return {"M_THREEPID_AUTH_FAILED", 400};
    case Errc::threepid_denied: return {"M_THREEPID_DENIED", 403};
    case Errc::server_not_trusted: return {"M_SERVER_NOT_TRUSTED", 400};
    case Errc::bad_alias: return {"M_BAD_ALIAS", 400};
    case Errc::invite_blocked: return {"M_INVITE_BLOCKED", 403};
    case Errc::unable_to_authorise_join: return {"M_UNABLE_TO_AUTHORISE_JOIN", 400};
    case Errc::unable_to_grant_join: return {"M_UNABLE_TO_GRANT_JOIN", 400};
    case Errc::weak_password: return {"M_WEAK_PASSWORD", 400};
    case Errc::duplicate_annotation: return {"M_DUPLICATE_ANNOTATION", 400};
    case Errc::wrong_room_keys_version: return {"M_WRONG_ROOM_KEYS_VERSION", 403};
    case Errc::missing_params: return {"M_MISSING_PARAMS", 400};
    case Errc::terms_not_signed: return {"M_TERMS_NOT_SIGNED", 403};
    case Errc::invalid_email: return {"M_INVALID_EMAIL", 400};
    case Errc::session_not_validated: return {"M_SESSION_NOT_VALIDATED", 400};
    case Errc::no_valid_session: return {"M_NO_VALID_SESSION", 400};
    case Errc::session_expired: return {"M_SESSION_EXPIRED", 400};
    case Errc::threepid_medium_not_supported: return {"M_THREEPID_MEDIUM_NOT_SUPPORTED", 400};
    case Errc::token_incorrect: return {"M_TOKEN_INCORRECT", 400};
    case Errc::invalid_pepper: return {"M_INVALID_PEPPER", 400};
    case Errc::email_send_error: return {"M_EMAIL_SEND_ERROR", 500};
    case Errc::invalid_address: return {"M_INVALID_ADDRESS", 400};
  }
  return {"M_UNKNOWN", 500};
}

}  // namespace

std::string_view errcode_of(Errc errc) noexcept { return info_of(errc).code; }
int default_status_of(Errc errc) noexcept { return info_of(errc).status; }

MatrixError::MatrixError(Errc errc, std::string message, int http_status)
    : errc_(errc), message_(std::move(message)), http_status_(http_status ? http_status : default_status_of(errc)) {}

MatrixError MatrixError::from_remote(std::string_view errcode, std::string message, int http_status) {
  const bool looks_like_one =
      errcode.size() > 2 && errcode.size() <= 64 && errcode.substr(0, 2) == "M_" &&
      std::all_of(errcode.begin() + 2, errcode.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; });
  if (!looks_like_one || http_status < 400 || http_status > 499) return MatrixError(Errc::unknown, std::move(message), 502);
  MatrixError out(Errc::unknown, std::move(message), http_status);
  out.remote_errcode_ = std::string(errcode);
  return out;
}

std::string_view MatrixError::errcode() const noexcept {
  return remote_errcode_.empty() ? errcode_of(errc_) : std::string_view(remote_errcode_);
}

MatrixError&& MatrixError::with(std::string key, std::int64_t value) && {
  extra_.emplace_back(std::move(key), std::to_string(value));
  return std::move(*this);
}

MatrixError&& MatrixError::with(std::string key, std::string_view value) && {
  extra_.emplace_back(std::move(key), nlohmann::json(std::string(value)).dump());
  return std::move(*this);
}

MatrixError&& MatrixError::with_bool(std::string key, bool value) && {
  extra_.emplace_back(std::move(key), value ? "true" : "false");
  return std::move(*this);
}

std::string MatrixError::body() const {
  nlohmann::json out = {{"errcode", std::string(errcode())}, {"error", message_}};
  for (const auto& [key, text] : extra_) out[key] = nlohmann::json::parse(text);
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace herald
