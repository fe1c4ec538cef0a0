#pragma once
// A user's membership in a room, as the spec's m.room.member `membership` values.
#include <cstdint>
#include <optional>
#include <string_view>

namespace herald::rooms {

enum class Membership : std::uint8_t { join, invite, leave, ban, knock };

// nullopt for anything but the five words (the auth rules refuse other values).
std::optional<Membership> parse_membership(std::string_view text);
std::string_view to_string(Membership m);

}  // namespace herald::rooms
