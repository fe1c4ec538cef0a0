#pragma once
// The one exception a client sees: a Matrix error code, a message and the HTTP status (STYLE.md §3).
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald {

enum class Errc : std::uint8_t {
  forbidden,
  unknown_token,
  missing_token,
  unauthorized,
  bad_json,
  not_json,
  not_found,
  limit_exceeded,
  unrecognized,
  unknown,
  user_in_use,
  invalid_username,
  room_in_use,
  invalid_room_state,
  unsupported_room_version,
  incompatible_room_version,
  bad_state,
  guest_access_forbidden,
  missing_param,
  invalid_param,
  too_large,
  exclusive,
  user_deactivated,
  threepid_in_use,
  threepid_not_found,
  threepid_auth_failed,
  threepid_denied,
  server_not_trusted,
  bad_alias,
  invite_blocked,
  unable_to_authorise_join,
  unable_to_grant_join,
  weak_password,
  duplicate_annotation,
  wrong_room_keys_version,
  // Identity service spellings.
  missing_params,
  terms_not_signed,
  invalid_email,
  session_not_validated,
  no_valid_session,
  session_expired,
  threepid_medium_not_supported,
  token_incorrect,
  invalid_pepper,
  email_send_error,
  invalid_address,
};

class MatrixError : public std::exception {
 public:
  // http_status 0 means the spec's usual status for errc.
  MatrixError(Errc errc, std::string message, int http_status = 0);
  // Another server's 4xx refusal passed on to a client with its own errcode (which may be one this server
  // does not know, e.g. M_TEST_ERROR_CODE): kept when it looks like one (M_ and up to 62 of A-Z, 0-9, _)
  // and the status is 4xx; otherwise M_UNKNOWN with 502.
  static MatrixError from_remote(std::string_view errcode, std::string message, int http_status);

  Errc errc() const noexcept { return errc_; }
  std::string_view errcode() const noexcept;
  int http_status() const noexcept { return http_status_; }
  const std::string& message() const noexcept { return message_; }
  const char* what() const noexcept override { return message_.c_str(); }

  // Extra keys of the error body, e.g. with("retry_after_ms", 2000). Values are kept as JSON text.
  MatrixError&& with(std::string key, std::int64_t value) &&;
  MatrixError&& with(std::string key, std::string_view value) &&;
  MatrixError&& with_bool(std::string key, bool value) &&;
  const std::vector<std::pair<std::string, std::string>>& extra_json() const noexcept { return extra_; }

  // The error as the JSON text of a response body.
  std::string body() const;

 private:
  Errc errc_;
  std::string remote_errcode_;  // from_remote: the other server's errcode (errc_ is then unknown)
  std::string message_;
  int http_status_;
  std::vector<std::pair<std::string, std::string>> extra_;
};

std::string_view errcode_of(Errc errc) noexcept;
int default_status_of(Errc errc) noexcept;

}  // namespace herald
