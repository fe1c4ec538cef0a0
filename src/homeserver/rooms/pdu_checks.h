#pragma once
// The first checks on a PDU from another server (federation.md §4, rooms-and-auth.md §5), shared by the
// event pipeline (events received into a room) and the room snapshot a send_join answers with (events
// taken as a room's state before this server holds any of it). Pure: no storage, no network.
#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace herald::events {
struct RoomVersion;
}
namespace herald::federation {
class ServerKeyRing;
}

namespace herald::homeserver::pdu_checks {

// The spec's limits on a PDU.
inline constexpr std::size_t kMaxPduBytes = 65536;
inline constexpr std::size_t kMaxPrevEvents = 20;
inline constexpr std::size_t kMaxAuthEvents = 10;

// The referenced event IDs of prev_events / auth_events: strings (v3+) or [id, hashes] pairs (v1-2).
// Empty when the field is missing, malformed, or lists more than `max`.
std::optional<std::vector<std::string>> reference_ids(const nlohmann::json& pdu, const char* key, std::size_t max,
                                                      const events::RoomVersion& version);

// The part after the first ':' of an ID ("" when none).
std::string server_of(const std::string& id);

// Why `pdu` (whose JSON text is `pdu_bytes` long) is not a well-formed event of room `room_id`, or
// nothing. A create event passes only when `allow_create` (it cannot be received into a room, but a
// room's snapshot starts with it).
std::optional<std::string> format_problem(const nlohmann::json& pdu, const events::RoomVersion& version,
                                          const std::string& room_id, std::size_t pdu_bytes, bool allow_create = false);

// The servers whose signatures the event needs: the sender's; for v1-2 the event ID's; for a restricted
// join, the authorising user's.
std::set<std::string> required_signers(const nlohmann::json& pdu, const events::RoomVersion& version);

// The first of required_signers without a valid signature: an ed25519 signature in `pdu` that verifies over
// `redacted` (the event's redacted form) with a key of that server `keys` knows (valid at the event's
// origin_server_ts where the version enforces key validity). Nothing when every one signed.
std::optional<std::string> missing_signature(const nlohmann::json& pdu, const nlohmann::json& redacted,
                                             const events::RoomVersion& version, const federation::ServerKeyRing& keys);

}  // namespace herald::homeserver::pdu_checks
