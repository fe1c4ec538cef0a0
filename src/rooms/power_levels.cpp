#include "rooms/power_levels.h"

#include <cctype>
#include <cmath>
#include <nlohmann/json.hpp>

#include "events/room_version.h"

namespace herald::rooms {
namespace {
constexpr std::int64_t kMax = 9007199254740991;

std::optional<std::int64_t> parse_integer_string(const std::string& s) {
  std::size_t i = 0, end = s.size();
  while (i < end && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  while (end > i && std::isspace(static_cast<unsigned char>(s[end - 1]))) --end;
  if (i == end) return std::nullopt;
  bool negative = false;
  if (s[i] == '+' || s[i] == '-') {
    negative = s[i] == '-';
    ++i;
  }
  if (i == end) return std::nullopt;
  std::int64_t v = 0;
  for (; i < end; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
    v = v * 10 + (s[i] - '0');
    if (v > kMax) return std::nullopt;
  }
  return negative ? -v : v;
}
}  // namespace

std::optional<std::int64_t> parse_power_level(const nlohmann::json& value, const events::RoomVersion& version) {
  if (value.is_number_integer()) {
    const auto v = value.get<std::int64_t>();
    if (v > kMax || v < -kMax) return std::nullopt;
    return v;
  }
  if (value.is_number_unsigned()) return std::nullopt;
  switch (version.power_level_values) {
    case events::PowerLevelValues::integers_only:
      return std::nullopt;
    case events::PowerLevelValues::integer_strings:
      if (value.is_string()) return parse_integer_string(value.get<std::string>());
      return std::nullopt;
    case events::PowerLevelValues::strings_and_floats:
      if (value.is_string()) return parse_integer_string(value.get<std::string>());
      if (value.is_number_float()) {
        const double d = value.get<double>();
        if (!std::isfinite(d) || std::fabs(d) > static_cast<double>(kMax)) return std::nullopt;
        return static_cast<std::int64_t>(std::trunc(d));
      }
      return std::nullopt;
  }
  return std::nullopt;
}

PowerLevels PowerLevels::absent() { return PowerLevels{}; }

PowerLevels PowerLevels::from_content(const nlohmann::json& content, const events::RoomVersion& version) {
  PowerLevels pl;
  pl.present = true;
  if (!content.is_object()) return pl;
  auto read = [&](const char* key, std::int64_t& out) {
    auto it = content.find(key);
    if (it == content.end()) return;
    if (auto v = parse_power_level(*it, version)) out = *v;
  };
  read("users_default", pl.users_default);
  read("events_default", pl.events_default);
  read("state_default", pl.state_default);
  read("ban", pl.ban);
  read("kick", pl.kick);
  read("redact", pl.redact);
  read("invite", pl.invite);
  auto read_map = [&](const char* key, std::map<std::string, std::int64_t>& out) {
    auto it = content.find(key);
    if (it == content.end() || !it->is_object()) return;
    for (const auto& [k, v] : it->items())
      if (auto level = parse_power_level(v, version)) out[k] = *level;
  };
  read_map("users", pl.users);
  read_map("events", pl.events);
  return pl;
}

std::int64_t PowerLevels::user_level(const std::string& user_id) const {
  auto it = users.find(user_id);
  return it != users.end() ? it->second : users_default;
}

std::int64_t PowerLevels::event_level(const std::string& type, bool is_state) const {
  auto it = events.find(type);
  if (it != events.end()) return it->second;
  return is_state ? state_default : events_default;
}

}  // namespace herald::rooms
