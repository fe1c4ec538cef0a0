#pragma once
// The redaction algorithm of each room version (rooms-and-auth.md §7).
#include <nlohmann/json_fwd.hpp>

namespace herald::events {

struct RoomVersion;

// Returns the redacted copy of a PDU (top-level keys and content pruned per version).
nlohmann::json redact(const nlohmann::json& pdu, const RoomVersion& version);

}  // namespace herald::events
