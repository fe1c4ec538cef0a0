#pragma once
// Builds a signed PDU (rooms-and-auth.md §6): content hash, signature over the redacted form, and the
// event ID in the room version's format.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "events/event.h"

namespace herald::crypto {
class SigningKey;
}

namespace herald::events {

struct RoomVersion;

struct EventDraft {
  std::string type;
  std::optional<std::string> state_key;
  std::string sender;
  nlohmann::json content = nlohmann::json::object();
  std::optional<std::string> redacts;  // m.room.redaction target (top-level before v11)
};

struct Signer {
  std::string server_name;
  const crypto::SigningKey& key;
};

// prev_events and auth_events are the referenced events (for v1-2 their hashes go into the PDU).
// room_id is ignored for a v12 m.room.create (the room ID then derives from the event ID).
EventPtr build_event(const RoomVersion& version, const std::string& room_id, const EventDraft& draft,
                     const std::vector<EventPtr>& prev_events, const std::vector<EventPtr>& auth_events,
                     std::int64_t depth, std::int64_t origin_server_ts, const Signer& signer);

// The signed event from a PDU this server fills in (a make_join or make_leave template): drops any
// hashes, signatures, unsigned and event_id, then adds the content hash, this server's signature and, in
// v1-2, a new event ID. room_id: the event's room ("" for a v12 create event).
EventPtr sign_event(const RoomVersion& version, const std::string& room_id, nlohmann::json pdu, const Signer& signer);

// Content hash (unpadded base64 of SHA-256 over the PDU without unsigned, signatures, hashes).
std::string content_hash(const nlohmann::json& pdu);
// Reference hash (unpadded base64 of SHA-256 over the redacted PDU without signatures, unsigned).
std::string reference_hash(const nlohmann::json& pdu, const RoomVersion& version);
// The event ID a v3+ PDU has ($ + reference hash in the version's alphabet).
std::string event_id_from_reference_hash(const std::string& reference_hash_b64, const RoomVersion& version);

// Re-creates an Event from a stored PDU's text (computing its reference hash).
EventPtr event_from_pdu(const RoomVersion& version, std::string event_id, std::string room_id, std::string pdu_text);

}  // namespace herald::events
