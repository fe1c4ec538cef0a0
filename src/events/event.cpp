#include "events/event.h"

namespace herald::events {
namespace {
std::string string_at(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
std::int64_t int_at(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}
// prev_events and auth_events: v1-2 list [event_id, hashes] pairs, later versions plain IDs.
std::vector<std::string> event_ids_at(const nlohmann::json& pdu, const char* key) {
  std::vector<std::string> ids;
  auto it = pdu.find(key);
  if (it == pdu.end() || !it->is_array()) return ids;
  ids.reserve(it->size());
  for (const auto& p : *it) {
    if (p.is_string()) ids.push_back(p.get<std::string>());
    else if (p.is_array() && !p.empty() && p[0].is_string()) ids.push_back(p[0].get<std::string>());
  }
  return ids;
}
}  // namespace

void Event::read_fields(const nlohmann::json& pdu) {
  type_ = string_at(pdu, "type");
  sender_ = string_at(pdu, "sender");
  if (auto it = pdu.find("state_key"); it != pdu.end() && it->is_string()) state_key_ = it->get<std::string>();
  if (auto it = pdu.find("content"); it != pdu.end() && it->is_object()) content_ = *it;
  else content_ = nlohmann::json::object();
  origin_server_ts_ = int_at(pdu, "origin_server_ts");
  depth_ = int_at(pdu, "depth");
  has_room_id_field_ = pdu.contains("room_id");
  if (auto it = pdu.find("redacts"); it != pdu.end() && it->is_string()) redacts_ = it->get<std::string>();
  references_ = EventReferences(event_ids_at(pdu, "prev_events"), event_ids_at(pdu, "auth_events"));
  if (type_ == "m.room.member") membership_ = string_at(content_, "membership");
}

Event::Event(std::string event_id, std::string room_id, const nlohmann::json& pdu, std::string reference_hash_b64)
    : event_id_(std::move(event_id)),
      room_id_(std::move(room_id)),
      pdu_text_(pdu.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)),
      reference_hash_(std::move(reference_hash_b64)) {
  read_fields(pdu);
}

std::shared_ptr<const Event> Event::from_text(std::string event_id, std::string room_id, std::string pdu_text,
                                              std::string reference_hash_b64) {
  auto e = std::shared_ptr<Event>(new Event());
  e->event_id_ = std::move(event_id);
  e->room_id_ = std::move(room_id);
  e->reference_hash_ = std::move(reference_hash_b64);
  e->read_fields(nlohmann::json::parse(pdu_text));
  e->pdu_text_ = std::move(pdu_text);
  return e;
}

std::optional<std::string> Event::content_string(std::string_view key) const {
  auto it = content_.find(key);
  if (it == content_.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

nlohmann::json Event::client_format(bool with_room_id) const {
  nlohmann::json out = {{"event_id", event_id_},
                        {"type", type_},
                        {"sender", sender_},
                        {"origin_server_ts", origin_server_ts_},
                        {"content", content_}};
  if (with_room_id) out["room_id"] = room_id_;
  if (state_key_) out["state_key"] = *state_key_;
  if (type_ == "m.room.redaction") {
    if (redacts_) out["redacts"] = *redacts_;
    else if (auto r = content_.find("redacts"); r != content_.end()) out["redacts"] = *r;
  }
  return out;
}

nlohmann::json Event::stripped() const {
  return {{"type", type_}, {"state_key", state_key_.value_or("")}, {"sender", sender_}, {"content", content_}};
}

}  // namespace herald::events
