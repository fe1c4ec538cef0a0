#pragma once
// Canonical JSON (rooms-and-auth.md §3): sorted keys, no whitespace, integers only within ±(2^53-1).
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "core/expected.h"

namespace herald {

enum class CanonicalJsonError { float_value, integer_out_of_range, invalid_utf8 };

Expected<std::string, CanonicalJsonError> canonical_json(const nlohmann::json& value);
// True when value holds only what canonical JSON allows (room versions >= 6 enforce it on content).
bool is_canonical_compatible(const nlohmann::json& value);

}  // namespace herald
