#include "homeserver/membership/membership_from_template.h"

#include "events/room_version.h"

namespace herald::homeserver {
namespace {
[[noreturn]] void invalid(const std::string& why) { throw InvalidTemplate("the template " + why); }

void require_string(const nlohmann::json& event, const char* key, std::string_view expected) {
  const auto it = event.find(key);
  if (it == event.end() || !it->is_string()) invalid(std::string("has no string ") + key);
  if (it->get_ref<const std::string&>() != expected) {
    invalid(std::string("has ") + key + " " + it->get<std::string>() + ", not " + std::string(expected));
  }
}
}  // namespace

void check_membership_template(const nlohmann::json& event, const std::string& room_id, const std::string& user_id,
                               std::string_view membership) {
  if (!event.is_object()) invalid("is not an object");
  require_string(event, "type", "m.room.member");
  require_string(event, "room_id", room_id);
  require_string(event, "sender", user_id);
  require_string(event, "state_key", user_id);
  const auto content = event.find("content");
  if (content == event.end() || !content->is_object()) invalid("has no content");
  require_string(*content, "membership", membership);
  for (const char* key : {"prev_events", "auth_events"}) {
    const auto list = event.find(key);
    if (list == event.end() || !list->is_array()) invalid(std::string("has no ") + key + " list");
  }
  const auto depth = event.find("depth");
  if (depth == event.end() || !depth->is_number_integer()) invalid("has no integer depth");
}

TemplateEvent membership_from_template(const events::RoomVersion& version, const nlohmann::json& event,
                                       const std::string& room_id, const std::string& user_id,
                                       std::string_view membership, const nlohmann::json& extra_content,
                                       std::int64_t origin_server_ts, const events::Signer& signer) {
  check_membership_template(event, room_id, user_id, membership);
  nlohmann::json pdu = event;
  for (const char* key : {"hashes", "signatures", "unsigned", "event_id"}) pdu.erase(key);
  pdu["origin_server_ts"] = origin_server_ts;
  // The event originates here; v1-2 require the field, later versions keep it when the template has it.
  if (version.event_ids == events::EventIdFormat::server_assigned || pdu.contains("origin")) {
    pdu["origin"] = signer.server_name;
  }
  if (extra_content.is_object()) {
    for (const auto& [key, value] : extra_content.items()) {
      if (key != "membership") pdu["content"][key] = value;
    }
  }
  TemplateEvent out;
  try {
    out.event = events::sign_event(version, room_id, std::move(pdu), signer);
  } catch (const std::exception& e) {
    // Floats or out-of-range integers: no canonical form to hash and sign.
    invalid(std::string("cannot be signed: ") + e.what());
  }
  out.event_id = out.event->event_id();
  out.pdu = out.event->pdu();
  return out;
}

}  // namespace herald::homeserver
