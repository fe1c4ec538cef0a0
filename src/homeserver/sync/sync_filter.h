#pragma once
// Filters (client-server.md "Filtering"): which events /sync returns, as pure functions. A filter is
// parsed once (malformed -> 400 M_BAD_JSON naming the field) and then only asked questions.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace herald::homeserver {

// types / not_types / senders / not_senders / limit. An absent list allows everything, an empty one
// nothing; the not_ lists win. A '*' in a type matches any sequence of characters.
struct EventFilter {
  std::optional<std::vector<std::string>> types, senders;
  std::vector<std::string> not_types, not_senders;
  std::optional<std::int64_t> limit;

  bool matches(std::string_view type, std::string_view sender) const;
};

// An EventFilter for room events: also rooms / not_rooms, contains_url and lazy-loading of members.
struct RoomEventFilter : EventFilter {
  std::optional<std::vector<std::string>> rooms;
  std::vector<std::string> not_rooms;
  std::optional<bool> contains_url;
  bool lazy_load_members = false;
  bool include_redundant_members = false;

  bool allows_room(std::string_view room_id) const;
  // `event` in client format (type, sender, content).
  bool matches(const nlohmann::json& event) const;
};

struct RoomFilter {
  std::optional<std::vector<std::string>> rooms;
  std::vector<std::string> not_rooms;
  bool include_leave = false;
  RoomEventFilter timeline, state, ephemeral, account_data;

  bool allows_room(std::string_view room_id) const;
};

struct SyncFilter {
  EventFilter account_data, presence;
  RoomFilter room;

  // Throws MatrixError(M_BAD_JSON) when a field has the wrong type or shape.
  static SyncFilter parse(const nlohmann::json& filter);
};

// '*' matches any run of characters; everything else matches itself.
bool glob_matches(std::string_view pattern, std::string_view text);

}  // namespace herald::homeserver
