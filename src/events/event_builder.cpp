#include "events/event_builder.h"

#include <stdexcept>

#include "core/canonical_json.h"
#include "crypto/base64.h"
#include "crypto/random.h"
#include "crypto/sha256.h"
#include "crypto/signing_key.h"
#include "events/redaction.h"
#include "events/room_version.h"

namespace herald::events {
namespace {
std::string canonical_or_throw(const nlohmann::json& j) {
  auto text = canonical_json(j);
  if (!text) throw std::invalid_argument("event is not valid canonical JSON");
  return std::move(*text);
}

nlohmann::json references(const RoomVersion& version, const std::vector<EventPtr>& events) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& e : events) {
    if (version.event_ids == EventIdFormat::server_assigned) {
      out.push_back(nlohmann::json::array({e->event_id(), {{"sha256", e->reference_hash()}}}));
    } else {
      out.push_back(e->event_id());
    }
  }
  return out;
}
}  // namespace

std::string content_hash(const nlohmann::json& pdu) {
  nlohmann::json copy = pdu;
  copy.erase("unsigned");
  copy.erase("signatures");
  copy.erase("hashes");
  return crypto::base64_encode(crypto::sha256(canonical_or_throw(copy)));
}

std::string reference_hash(const nlohmann::json& pdu, const RoomVersion& version) {
  nlohmann::json redacted = redact(pdu, version);
  redacted.erase("signatures");
  redacted.erase("unsigned");
  return crypto::base64_encode(crypto::sha256(canonical_or_throw(redacted)));
}

std::string event_id_from_reference_hash(const std::string& reference_hash_b64, const RoomVersion& version) {
  if (version.event_ids == EventIdFormat::base64_standard) return "$" + reference_hash_b64;
  std::string id = "$" + reference_hash_b64;
  for (char& c : id) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  return id;
}

EventPtr build_event(const RoomVersion& version, const std::string& room_id, const EventDraft& draft,
                     const std::vector<EventPtr>& prev_events, const std::vector<EventPtr>& auth_events,
                     std::int64_t depth, std::int64_t origin_server_ts, const Signer& signer) {
  const bool is_v12_create = version.room_id_from_create && draft.type == "m.room.create";
  nlohmann::json pdu = {{"type", draft.type},
                        {"sender", draft.sender},
                        {"content", draft.content},
                        {"origin_server_ts", origin_server_ts},
                        {"depth", depth},
                        {"prev_events", references(version, prev_events)},
                        {"auth_events", references(version, auth_events)}};
  if (!is_v12_create) pdu["room_id"] = room_id;
  if (draft.state_key) pdu["state_key"] = *draft.state_key;
  if (draft.redacts && !version.redacts_in_content) pdu["redacts"] = *draft.redacts;
  if (version.event_ids == EventIdFormat::server_assigned) {
    pdu["origin"] = signer.server_name;
  }
  return sign_event(version, is_v12_create ? std::string() : room_id, std::move(pdu), signer);
}

EventPtr sign_event(const RoomVersion& version, const std::string& room_id, nlohmann::json pdu, const Signer& signer) {
  pdu.erase("hashes");
  pdu.erase("signatures");
  pdu.erase("unsigned");
  const bool is_v12_create = version.room_id_from_create && pdu.value("type", "") == "m.room.create";
  std::string event_id;
  if (version.event_ids == EventIdFormat::server_assigned) {
    event_id = "$" + crypto::random_alnum(24) + ":" + signer.server_name;
    pdu["event_id"] = event_id;
  } else {
    pdu.erase("event_id");
  }
  // Nothing left to strip (no unsigned, signatures or hashes): hash the PDU as it is, without a copy.
  pdu["hashes"] = {{"sha256", crypto::base64_encode(crypto::sha256(canonical_or_throw(pdu)))}};
  // Sign the redacted form, then copy the signatures onto the full event.
  nlohmann::json redacted = redact(pdu, version);
  redacted.erase("signatures");
  redacted.erase("unsigned");
  const std::string signing_input = canonical_or_throw(redacted);
  const std::string signature = crypto::base64_encode(signer.key.sign(signing_input));
  pdu["signatures"] = {{signer.server_name, {{signer.key.key_id(), signature}}}};

  // The reference hash covers the redacted event without signatures and unsigned: exactly the bytes
  // just signed, so hash them instead of redacting and serialising a second time.
  const std::string ref = crypto::base64_encode(crypto::sha256(signing_input));
  if (version.event_ids != EventIdFormat::server_assigned) event_id = event_id_from_reference_hash(ref, version);
  const std::string final_room_id = is_v12_create ? "!" + event_id.substr(1) : room_id;
  return std::make_shared<const Event>(std::move(event_id), final_room_id, std::move(pdu), ref);
}

EventPtr event_from_pdu(const RoomVersion& version, std::string event_id, std::string room_id, std::string pdu_text) {
  std::string ref = reference_hash(nlohmann::json::parse(pdu_text), version);
  return Event::from_text(std::move(event_id), std::move(room_id), std::move(pdu_text), std::move(ref));
}

}  // namespace herald::events
