#include "homeserver/rooms/pdu_checks.h"

#include "core/canonical_json.h"
#include "core/ids.h"
#include "crypto/signed_json.h"
#include "events/room_version.h"
#include "federation/server_key_ring.h"

namespace herald::homeserver::pdu_checks {

namespace {
bool is_short_string(const nlohmann::json& pdu, const char* key, bool required) {
  auto it = pdu.find(key);
  if (it == pdu.end()) return !required;
  return it->is_string() && it->get_ref<const std::string&>().size() <= 255;
}
}  // namespace

std::optional<std::vector<std::string>> reference_ids(const nlohmann::json& pdu, const char* key, std::size_t max,
                                                      const events::RoomVersion& version) {
  auto it = pdu.find(key);
  if (it == pdu.end() || !it->is_array() || it->size() > max) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& ref : *it) {
    if (version.event_ids == events::EventIdFormat::server_assigned) {
      if (!ref.is_array() || ref.size() != 2 || !ref[0].is_string() || !ref[1].is_object()) return std::nullopt;
      out.push_back(ref[0].get<std::string>());
    } else {
      if (!ref.is_string()) return std::nullopt;
      out.push_back(ref.get<std::string>());
    }
    if (out.back().empty() || out.back()[0] != '$' || out.back().size() > 255) return std::nullopt;
  }
  return out;
}

std::string server_of(const std::string& id) {
  const auto colon = id.find(':');
  return colon == std::string::npos ? std::string() : id.substr(colon + 1);
}

std::optional<std::string> format_problem(const nlohmann::json& pdu, const events::RoomVersion& v,
                                          const std::string& room_id, std::size_t pdu_bytes, bool allow_create) {
  if (!pdu.is_object()) return "the PDU is not a JSON object";
  if (pdu_bytes > kMaxPduBytes) return "the PDU is larger than 65536 bytes";
  if (v.strict_canonical_json && !is_canonical_compatible(pdu)) return "the PDU is not canonical JSON (floats or integers beyond 2^53)";
  if (!is_short_string(pdu, "type", true) || pdu["type"].get_ref<const std::string&>().empty()) return "type must be a string of 1 to 255 bytes";
  const bool create = pdu["type"] == "m.room.create";
  if (create && !allow_create) return "a room's create event cannot be received into the room";
  if (!is_short_string(pdu, "sender", true)) return "sender must be a user ID";
  if (!UserId::parse(pdu["sender"].get<std::string>())) return "sender is not a valid user ID";
  if (!is_short_string(pdu, "state_key", false)) return "state_key must be a string of at most 255 bytes";
  // A v12 create event names no room: its ID is the room's.
  const bool room_from_id = create && v.room_id_from_create;
  if (!room_from_id && (!pdu.contains("room_id") || !pdu["room_id"].is_string() || pdu["room_id"].get<std::string>() != room_id))
    return "room_id does not name this room";
  if (!pdu.contains("origin_server_ts") || !pdu["origin_server_ts"].is_number_integer()) return "origin_server_ts must be an integer";
  if (!pdu.contains("depth") || !pdu["depth"].is_number_integer() || pdu["depth"].get<std::int64_t>() < 0)
    return "depth must be a non-negative integer";
  if (!pdu.contains("content") || !pdu["content"].is_object()) return "content must be an object";
  if (!reference_ids(pdu, "prev_events", kMaxPrevEvents, v)) return "prev_events must list at most 20 event references";
  if (!reference_ids(pdu, "auth_events", kMaxAuthEvents, v)) return "auth_events must list at most 10 event references";
  if (!pdu.contains("hashes") || !pdu["hashes"].is_object() || !pdu["hashes"].contains("sha256") || !pdu["hashes"]["sha256"].is_string())
    return "hashes.sha256 is missing";
  if (!pdu.contains("signatures") || !pdu["signatures"].is_object()) return "signatures is missing";
  if (v.event_ids == events::EventIdFormat::server_assigned &&
      (!is_short_string(pdu, "event_id", true) || pdu["event_id"].get_ref<const std::string&>().rfind('$', 0) != 0 ||
       server_of(pdu["event_id"].get<std::string>()).empty()))
    return "event_id is missing or malformed";
  return std::nullopt;
}

std::set<std::string> required_signers(const nlohmann::json& pdu, const events::RoomVersion& v) {
  std::set<std::string> servers{server_of(pdu["sender"].get<std::string>())};
  if (v.event_ids == events::EventIdFormat::server_assigned) servers.insert(server_of(pdu["event_id"].get<std::string>()));
  if (v.restricted && pdu["type"] == "m.room.member") {
    const auto& content = pdu["content"];
    if (content.value("membership", "") == "join") {
      if (auto via = content.find("join_authorised_via_users_server"); via != content.end() && via->is_string())
        servers.insert(server_of(via->get<std::string>()));
    }
  }
  return servers;
}

std::optional<std::string> missing_signature(const nlohmann::json& pdu, const nlohmann::json& redacted,
                                             const events::RoomVersion& version, const federation::ServerKeyRing& keys) {
  const std::int64_t key_time = version.enforce_key_validity ? pdu.value("origin_server_ts", std::int64_t{0}) : 0;
  const auto signatures = pdu.find("signatures");
  const bool any = signatures != pdu.end() && signatures->is_object();
  for (const std::string& server : required_signers(pdu, version)) {
    bool verified = false;
    const auto sigs = any ? signatures->find(server) : signatures;
    if (any && sigs != signatures->end() && sigs->is_object()) {
      for (const auto& [key_id, sig] : sigs->items()) {
        if (key_id.rfind("ed25519:", 0) != 0 || !sig.is_string()) continue;
        const auto key = keys.verify_key(server, key_id, key_time);
        if (key && crypto::verify_json(redacted, server, key_id, *key)) {
          verified = true;
          break;
        }
      }
    }
    if (!verified) return server;
  }
  return std::nullopt;
}

}  // namespace herald::homeserver::pdu_checks
