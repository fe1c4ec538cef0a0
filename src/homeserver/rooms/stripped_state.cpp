#include "homeserver/rooms/stripped_state.h"

#include "homeserver/rooms/room_registry.h"

namespace herald::homeserver {

const std::vector<std::string>& stripped_state_types() {
  static const std::vector<std::string> types = {"m.room.create",     "m.room.name",            "m.room.avatar",
                                                 "m.room.topic",      "m.room.join_rules",      "m.room.canonical_alias",
                                                 "m.room.encryption"};
  return types;
}

nlohmann::json invite_room_state(const Room& room, const std::string& inviter) {
  nlohmann::json out = nlohmann::json::array();
  for (const std::string& type : stripped_state_types()) {
    const events::EventPtr* e = room.state.find(type, "");
    if (!e) continue;
    out.push_back(type == "m.room.create" ? (*e)->pdu() : (*e)->stripped());
  }
  if (const events::EventPtr* member = room.state.find("m.room.member", inviter)) out.push_back((*member)->stripped());
  return out;
}

nlohmann::json knock_room_state(const Room& room, const std::string& knocker) {
  return invite_room_state(room, knocker);
}

}  // namespace herald::homeserver
