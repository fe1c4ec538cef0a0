#pragma once
// An event as a PDU: the lossless JSON it was built or received with, plus typed accessors.
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace herald::events {

class Event {
 public:
  // pdu is the federation form (v3+: without event_id); room_id is given separately because a v12
  // m.room.create has none in its PDU.
  Event(std::string event_id, std::string room_id, nlohmann::json pdu, std::string reference_hash_b64);

  const std::string& event_id() const { return event_id_; }
  const std::string& room_id() const { return room_id_; }
  const nlohmann::json& pdu() const { return pdu_; }
  const std::string& type() const { return type_; }
  const std::string& sender() const { return sender_; }
  const std::string* state_key() const { return state_key_ ? &*state_key_ : nullptr; }
  bool is_state() const { return state_key_.has_value(); }
  const nlohmann::json& content() const;
  std::int64_t origin_server_ts() const;
  std::int64_t depth() const;
  const std::string& reference_hash() const { return reference_hash_; }
  // content.membership of an m.room.member event, else empty.
  const std::string& membership() const { return membership_; }
  // The string content[key], if it is one.
  std::optional<std::string> content_string(std::string_view key) const;

  // The client-facing form (client-server.md §5): no hashes, signatures, depth, auth/prev events.
  nlohmann::json client_format(bool with_room_id = true) const;
  // type, state_key, sender, content: for invite_state and knock_state.
  nlohmann::json stripped() const;

 private:
  std::string event_id_;
  std::string room_id_;
  nlohmann::json pdu_;
  std::string reference_hash_;
  std::string type_;
  std::string sender_;
  std::optional<std::string> state_key_;
  std::string membership_;
};

using EventPtr = std::shared_ptr<const Event>;

}  // namespace herald::events
