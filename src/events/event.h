#pragma once
// An event as a PDU. Kept compactly: the PDU's JSON text exactly as built or received (lossless),
// its content parsed, and the fields the auth rules and hot paths read. pdu() re-parses on demand.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "events/event_references.h"

namespace herald::events {

class Event {
 public:
  // pdu is the federation form (v3+: without event_id); room_id is given separately because a v12
  // m.room.create has none in its PDU.
  Event(std::string event_id, std::string room_id, const nlohmann::json& pdu, std::string reference_hash_b64);
  // From stored text: parses it once to pick out the fields.
  static std::shared_ptr<const Event> from_text(std::string event_id, std::string room_id, std::string pdu_text,
                                                std::string reference_hash_b64);

  const std::string& event_id() const { return event_id_; }
  const std::string& room_id() const { return room_id_; }
  nlohmann::json pdu() const { return nlohmann::json::parse(pdu_text_); }
  const std::string& pdu_text() const { return pdu_text_; }
  const std::string& type() const { return type_; }
  const std::string& sender() const { return sender_; }
  const std::string* state_key() const { return state_key_ ? &*state_key_ : nullptr; }
  bool is_state() const { return state_key_.has_value(); }
  const nlohmann::json& content() const { return content_; }
  std::int64_t origin_server_ts() const { return origin_server_ts_; }
  std::int64_t depth() const { return depth_; }
  const std::string& reference_hash() const { return reference_hash_; }
  // The IDs in prev_events (v1-2 pairs reduced to their IDs).
  EventIds prev_event_ids() const { return references_.prev(); }
  // The IDs in auth_events, read the same way. Kept here because state resolution walks auth chains
  // over thousands of events and must not re-parse PDUs to do it. (v12: the create event is implied
  // by the room ID and not listed.)
  EventIds auth_event_ids() const { return references_.auth(); }
  bool has_room_id_field() const { return has_room_id_field_; }
  // The top-level `redacts` (room versions before 11).
  const std::optional<std::string>& top_level_redacts() const { return redacts_; }
  // content.membership of an m.room.member event, else empty.
  const std::string& membership() const { return membership_; }
  // The string content[key], if it is one.
  std::optional<std::string> content_string(std::string_view key) const;

  // The client-facing form (client-server.md §5): no hashes, signatures, depth, auth/prev events.
  nlohmann::json client_format(bool with_room_id = true) const;
  // type, state_key, sender, content: for invite_state and knock_state.
  nlohmann::json stripped() const;

 private:
  Event() = default;
  void read_fields(const nlohmann::json& pdu);

  std::string event_id_;
  std::string room_id_;
  std::string pdu_text_;
  std::string reference_hash_;
  nlohmann::json content_;
  std::string type_;
  std::string sender_;
  std::optional<std::string> state_key_;
  std::string membership_;
  std::int64_t origin_server_ts_ = 0;
  std::int64_t depth_ = 0;
  EventReferences references_;  // prev_events and auth_events
  std::optional<std::string> redacts_;
  bool has_room_id_field_ = false;
};

using EventPtr = std::shared_ptr<const Event>;

}  // namespace herald::events
