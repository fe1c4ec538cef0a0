#include "events/event.h"

namespace herald::events {
namespace {
const nlohmann::json& empty_object() {
  static const nlohmann::json e = nlohmann::json::object();
  return e;
}
std::string string_at(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
}  // namespace

Event::Event(std::string event_id, std::string room_id, nlohmann::json pdu, std::string reference_hash_b64)
    : event_id_(std::move(event_id)),
      room_id_(std::move(room_id)),
      pdu_(std::move(pdu)),
      reference_hash_(std::move(reference_hash_b64)),
      type_(string_at(pdu_, "type")),
      sender_(string_at(pdu_, "sender")) {
  if (auto it = pdu_.find("state_key"); it != pdu_.end() && it->is_string()) state_key_ = it->get<std::string>();
  if (type_ == "m.room.member") membership_ = string_at(content(), "membership");
}

const nlohmann::json& Event::content() const {
  auto it = pdu_.find("content");
  return it != pdu_.end() && it->is_object() ? *it : empty_object();
}

std::int64_t Event::origin_server_ts() const {
  auto it = pdu_.find("origin_server_ts");
  return it != pdu_.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

std::int64_t Event::depth() const {
  auto it = pdu_.find("depth");
  return it != pdu_.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

std::optional<std::string> Event::content_string(std::string_view key) const {
  const nlohmann::json& c = content();
  auto it = c.find(key);
  if (it == c.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

nlohmann::json Event::client_format(bool with_room_id) const {
  nlohmann::json out = {{"event_id", event_id_},
                        {"type", type_},
                        {"sender", sender_},
                        {"origin_server_ts", origin_server_ts()},
                        {"content", content()}};
  if (with_room_id) out["room_id"] = room_id_;
  if (state_key_) out["state_key"] = *state_key_;
  if (type_ == "m.room.redaction") {
    if (auto it = pdu_.find("redacts"); it != pdu_.end()) out["redacts"] = *it;
    else if (auto r = content().find("redacts"); r != content().end()) out["redacts"] = *r;
  }
  return out;
}

nlohmann::json Event::stripped() const {
  return {{"type", type_}, {"state_key", state_key_.value_or("")}, {"sender", sender_}, {"content", content()}};
}

}  // namespace herald::events
