#include "homeserver/client_api/path_params.h"

#include <algorithm>

#include "core/matrix_error.h"

namespace herald::homeserver {

RoomId room_id_param(const http::Request& req, const char* name) {
  const std::string& id = req.path_param(name);
  auto parsed = RoomId::parse(id);
  if (!parsed) throw MatrixError(Errc::invalid_param, "Invalid room ID: " + id);
  return std::move(*parsed);
}

UserId parse_user_id(const std::string& text, const char* field) {
  auto id = UserId::parse(text);
  if (!id) throw MatrixError(Errc::invalid_param, std::string("'") + field + "' is not a valid user ID: it " + std::string(describe(id.error())));
  return std::move(*id);
}

std::int64_t int_query_param(const http::Request& req, const char* name, std::int64_t fallback, std::int64_t lo,
                             std::int64_t hi) {
  const auto text = req.query_param(name);
  if (!text) return fallback;
  std::string_view digits = *text;
  const bool negative = !digits.empty() && digits.front() == '-';
  if (negative) digits.remove_prefix(1);
  if (digits.empty() || digits.size() > 15 || digits.find_first_not_of("0123456789") != std::string_view::npos) {
    throw MatrixError(Errc::invalid_param, std::string("'") + name + "' must be an integer");
  }
  std::int64_t v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  return std::clamp<std::int64_t>(negative ? -v : v, lo, hi);
}

}  // namespace herald::homeserver
