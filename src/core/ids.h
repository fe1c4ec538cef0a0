#pragma once
// Matrix identifiers as types, validated once at the edge (rooms-and-auth.md §1).
#include <compare>
#include <functional>
#include <string>
#include <string_view>

#include "core/expected.h"

namespace herald {

enum class IdError { empty, bad_sigil, no_server, bad_localpart, bad_server_name, too_long };
std::string_view describe(IdError e);

bool is_valid_server_name(std::string_view name);
// The strict grammar for new user IDs: a-z 0-9 . _ = - / +
bool is_valid_user_localpart(std::string_view localpart);
// A room alias: '#', a localpart of any bytes but ':' and NUL (at least one), ':', a valid server name;
// 255 bytes at most.
bool is_room_alias(std::string_view s);

class UserId {
 public:
  // Accepts historical IDs (any localpart without ':' or NUL) as the spec asks servers to.
  static Expected<UserId, IdError> parse(std::string_view text);
  static UserId from_parts(std::string_view localpart, std::string_view server_name);

  const std::string& str() const noexcept { return value_; }
  std::string_view localpart() const noexcept;
  std::string_view server_name() const noexcept;
  auto operator<=>(const UserId&) const = default;

 private:
  explicit UserId(std::string value) : value_(std::move(value)) {}
  std::string value_;
};

// A room ID: '!' and an opaque part. Since room version 12 it has no server name (it is the create
// event's hash), so none is required or offered.
class RoomId {
 public:
  static Expected<RoomId, IdError> parse(std::string_view text);

  const std::string& str() const noexcept { return value_; }
  auto operator<=>(const RoomId&) const = default;

 private:
  explicit RoomId(std::string value) : value_(std::move(value)) {}
  std::string value_;
};

}  // namespace herald

template <>
struct std::hash<herald::UserId> {
  std::size_t operator()(const herald::UserId& id) const noexcept { return std::hash<std::string>{}(id.str()); }
};
template <>
struct std::hash<herald::RoomId> {
  std::size_t operator()(const herald::RoomId& id) const noexcept { return std::hash<std::string>{}(id.str()); }
};
