#include "homeserver/membership/remote_membership.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "core/matrix_error.h"
#include "events/event_builder.h"
#include "events/room_version.h"

namespace herald::homeserver::remote_membership {

std::string_view server_of(std::string_view user_id) {
  const auto colon = user_id.find(':');
  return colon == std::string_view::npos ? std::string_view() : user_id.substr(colon + 1);
}

void require_supported_version(const std::string& room_version, const std::vector<std::string>& supported) {
  const bool none = supported.empty();
  if (none ? room_version == "1" : std::find(supported.begin(), supported.end(), room_version) != supported.end()) return;
  throw MatrixError(Errc::incompatible_room_version,
                    "Your homeserver does not support the features required to join this room (version " + room_version + ")",
                    400)
      .with("room_version", room_version);
}

void require_knock_support(const events::RoomVersion& version) {
  if (version.knock) return;
  const std::string id(version.id);
  throw MatrixError(Errc::incompatible_room_version, "Rooms of version " + id + " cannot be knocked on", 400)
      .with("room_version", id);
}

nlohmann::json template_of(const nlohmann::json& built_pdu) {
  nlohmann::json out = built_pdu;
  out.erase("hashes");
  out.erase("signatures");
  out.erase("unsigned");
  out.erase("event_id");  // v1-2: the joining server names the event on its own server
  return out;
}

namespace {
[[noreturn]] void invalid(const std::string& why) { throw MatrixError(Errc::invalid_param, why, 400); }

std::string string_field(const nlohmann::json& pdu, const char* key) {
  const auto it = pdu.find(key);
  if (it == pdu.end() || !it->is_string()) invalid(std::string("The event has no string ") + key);
  return it->get<std::string>();
}
}  // namespace

void check_membership_event(const nlohmann::json& pdu, const events::RoomVersion& version, const std::string& room_id,
                            const std::string& event_id, const std::string& origin, std::string_view membership) {
  if (!pdu.is_object()) throw MatrixError(Errc::bad_json, "The event must be a JSON object", 400);
  if (string_field(pdu, "type") != "m.room.member") invalid("The event is not an m.room.member event");
  if (string_field(pdu, "room_id") != room_id) invalid("The event is for another room");
  const std::string sender = string_field(pdu, "sender");
  if (string_field(pdu, "state_key") != sender) invalid("The event's state_key is not its sender");
  if (server_of(sender) != origin) invalid("The event's sender is not a user of " + origin);
  const auto content = pdu.find("content");
  if (content == pdu.end() || !content->is_object()) invalid("The event has no content");
  const auto m = content->find("membership");
  if (m == content->end() || !m->is_string() || m->get<std::string>() != membership) {
    invalid("The event's membership is not " + std::string(membership));
  }
  if (!pdu.contains("depth")) invalid("The event has no depth");
  std::string actual;
  if (version.event_ids == events::EventIdFormat::server_assigned) {
    actual = string_field(pdu, "event_id");
  } else {
    try {
      actual = events::event_id_from_reference_hash(events::reference_hash(pdu, version), version);
    } catch (const std::invalid_argument&) {
      throw MatrixError(Errc::bad_json, "The event is not canonical JSON", 400);
    }
  }
  if (actual != event_id) invalid("The event ID in the path is not the event's (" + actual + ")");
}

StateAtEvent without_members(const StateAtEvent& full, const std::string& joiner) {
  const auto content_string = [](const nlohmann::json& e, const char* key) {
    const auto content = e.find("content");
    if (content == e.end() || !content->is_object()) return std::string();
    const auto value = content->find(key);
    return value != content->end() && value->is_string() ? value->get<std::string>() : std::string();
  };
  const auto state_key = [](const nlohmann::json& e) {
    const auto key = e.find("state_key");
    return key != e.end() && key->is_string() ? key->get<std::string>() : std::string();
  };
  bool named = false;
  std::vector<std::string> candidates;
  for (const auto& e : full.state) {
    const std::string type = e.value("type", "");
    if (type == "m.room.name" && !content_string(e, "name").empty()) named = true;
    if (type == "m.room.canonical_alias" && !content_string(e, "alias").empty()) named = true;
    if (type != "m.room.member") continue;
    const std::string who = state_key(e);
    const std::string membership = content_string(e, "membership");
    if (who != joiner && (membership == "join" || membership == "invite")) candidates.push_back(who);
  }
  std::set<std::string> kept_members{joiner};
  if (!named) {
    std::sort(candidates.begin(), candidates.end());
    for (std::size_t i = 0; i < candidates.size() && i < 5; ++i) kept_members.insert(candidates[i]);
  }
  StateAtEvent out;
  std::set<std::string> kept_ids;
  for (std::size_t i = 0; i < full.state.size() && i < full.state_ids.size(); ++i) {
    const nlohmann::json& e = full.state[i];
    if (e.value("type", "") == "m.room.member" && !kept_members.contains(state_key(e))) continue;
    out.state.push_back(e);
    out.state_ids.push_back(full.state_ids[i]);
    kept_ids.insert(full.state_ids[i]);
  }
  for (std::size_t i = 0; i < full.auth_chain.size() && i < full.auth_chain_ids.size(); ++i) {
    if (kept_ids.contains(full.auth_chain_ids[i])) continue;
    out.auth_chain.push_back(full.auth_chain[i]);
    out.auth_chain_ids.push_back(full.auth_chain_ids[i]);
  }
  return out;
}

}  // namespace herald::homeserver::remote_membership
