#include "events/room_version.h"

#include <array>

namespace herald::events {
namespace {
using E = EventIdFormat;
using S = StateResolution;
using R = RedactionRules;
using P = PowerLevelValues;

// Columns: id, event IDs, state res, redaction, PL values, redaction auth, aliases rule, strict JSON,
// notifications PL, knock, restricted, knock_restricted, creator in content, redacts in content,
// room ID from create, create in auth events, infinite creators, key validity.
constexpr std::array<RoomVersion, 12> kVersions = {{
    {"1", E::server_assigned, S::v1, R::v1, P::strings_and_floats, true, true, false, false, false, false, false, true, false, false, true, false, false},
    {"2", E::server_assigned, S::v2, R::v1, P::strings_and_floats, true, true, false, false, false, false, false, true, false, false, true, false, false},
    {"3", E::base64_standard, S::v2, R::v1, P::strings_and_floats, false, true, false, false, false, false, false, true, false, false, true, false, false},
    {"4", E::base64_url, S::v2, R::v1, P::strings_and_floats, false, true, false, false, false, false, false, true, false, false, true, false, false},
    {"5", E::base64_url, S::v2, R::v1, P::strings_and_floats, false, true, false, false, false, false, false, true, false, false, true, false, true},
    {"6", E::base64_url, S::v2, R::v6, P::integer_strings, false, false, true, true, false, false, false, true, false, false, true, false, true},
    {"7", E::base64_url, S::v2, R::v6, P::integer_strings, false, false, true, true, true, false, false, true, false, false, true, false, true},
    {"8", E::base64_url, S::v2, R::v8, P::integer_strings, false, false, true, true, true, true, false, true, false, false, true, false, true},
    {"9", E::base64_url, S::v2, R::v9, P::integer_strings, false, false, true, true, true, true, false, true, false, false, true, false, true},
    {"10", E::base64_url, S::v2, R::v9, P::integers_only, false, false, true, true, true, true, true, true, false, false, true, false, true},
    {"11", E::base64_url, S::v2, R::v11, P::integers_only, false, false, true, true, true, true, true, false, true, false, true, false, true},
    {"12", E::base64_url, S::v2_1, R::v11, P::integers_only, false, false, true, true, true, true, true, false, true, true, false, true, true},
}};
}  // namespace

const RoomVersion* find_room_version(std::string_view id) {
  for (const auto& v : kVersions)
    if (v.id == id) return &v;
  return nullptr;
}

std::span<const RoomVersion> all_room_versions() { return kVersions; }

}  // namespace herald::events
