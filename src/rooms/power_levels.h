#pragma once
// m.room.power_levels read with the spec's defaults (rooms-and-auth.md §11), tolerant of the value
// formats older room versions allow.
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <nlohmann/json_fwd.hpp>

namespace herald::events {
struct RoomVersion;
}

namespace herald::rooms {

// v12 creators outrank every finite level.
inline constexpr std::int64_t kInfinitePower = std::int64_t{1} << 62;

// A power level value as the room version accepts it; nullopt when invalid.
std::optional<std::int64_t> parse_power_level(const nlohmann::json& value, const events::RoomVersion& version);

struct PowerLevels {
  std::map<std::string, std::int64_t> users;
  std::int64_t users_default = 0;
  std::map<std::string, std::int64_t> events;
  std::int64_t events_default = 0;
  std::int64_t state_default = 50;
  std::int64_t ban = 50;
  std::int64_t kick = 50;
  std::int64_t redact = 50;
  std::int64_t invite = 0;
  bool present = false;  // an m.room.power_levels event exists

  static PowerLevels from_content(const nlohmann::json& content, const events::RoomVersion& version);
  // No event: state_default 50 still applies, creators get 100 (v1-11).
  static PowerLevels absent();

  std::int64_t user_level(const std::string& user_id) const;
  std::int64_t event_level(const std::string& type, bool is_state) const;
};

}  // namespace herald::rooms
