#pragma once
// Room versions 1-12, each version's rules as data (rooms-and-auth.md §8).
#include <span>
#include <string>
#include <string_view>

namespace herald::events {

enum class EventIdFormat { server_assigned, base64_standard, base64_url };
enum class StateResolution { v1, v2, v2_1 };
enum class PowerLevelValues { strings_and_floats, integer_strings, integers_only };
enum class RedactionRules { v1, v6, v8, v9, v11 };

struct RoomVersion {
  std::string_view id;
  EventIdFormat event_ids;
  StateResolution state_resolution;
  RedactionRules redaction;
  PowerLevelValues power_level_values;
  bool redaction_auth_rule;          // v1-2: m.room.redaction checked by event-ID domains in auth
  bool special_aliases_rule;         // v1-5: m.room.aliases auth rule
  bool strict_canonical_json;        // v6+
  bool notifications_in_power_levels;// v6+: PL rules cover `notifications`
  bool knock;                        // v7+
  bool restricted;                   // v8+
  bool knock_restricted;             // v10+
  bool creator_in_content;           // v1-10: content.creator on m.room.create
  bool redacts_in_content;           // v11+
  bool room_id_from_create;          // v12: room ID = create event ID, create has no room_id
  bool create_in_auth_events;        // v1-11
  bool infinite_creator_power;       // v12: creators (sender + additional_creators) outrank everyone
  bool enforce_key_validity;         // v5+
};

// nullptr for an unknown version.
const RoomVersion* find_room_version(std::string_view id);
std::span<const RoomVersion> all_room_versions();

}  // namespace herald::events
