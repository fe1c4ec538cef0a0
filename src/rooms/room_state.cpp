#include "rooms/room_state.h"

#include <algorithm>

#include "events/room_version.h"

namespace herald::rooms {

const events::EventPtr* RoomState::find(const std::string& type, const std::string& state_key) const {
  auto it = state_.find(StateKey{type, state_key});
  return it == state_.end() ? nullptr : &it->second;
}

void RoomState::apply(const events::EventPtr& event) {
  if (!event->state_key()) return;
  state_[StateKey{event->type(), *event->state_key()}] = event;
}

const events::Event* RoomState::create() const {
  const auto* e = find("m.room.create");
  return e ? e->get() : nullptr;
}

std::string RoomState::membership(const std::string& user_id) const {
  const auto* e = find("m.room.member", user_id);
  if (!e) return "leave";
  return (*e)->membership();
}

std::string RoomState::join_rule() const {
  const auto* e = find("m.room.join_rules");
  if (!e) return "invite";
  return (*e)->content_string("join_rule").value_or("invite");
}

PowerLevels RoomState::power_levels() const {
  const auto* e = find("m.room.power_levels");
  if (!e) return PowerLevels::absent();
  return PowerLevels::from_content((*e)->content(), *version_);
}

std::vector<std::string> RoomState::creators() const {
  std::vector<std::string> out;
  const events::Event* c = create();
  if (!c) return out;
  if (version_->creator_in_content) {
    if (auto creator = c->content_string("creator")) out.push_back(*creator);
    return out;
  }
  out.push_back(c->sender());
  if (version_->infinite_creator_power) {
    auto it = c->content().find("additional_creators");
    if (it != c->content().end() && it->is_array()) {
      for (const auto& u : *it)
        if (u.is_string()) out.push_back(u.get<std::string>());
    }
  }
  return out;
}

std::int64_t RoomState::user_power(const std::string& user_id) const {
  const std::vector<std::string> c = creators();
  const bool is_creator = std::find(c.begin(), c.end(), user_id) != c.end();
  if (version_->infinite_creator_power && is_creator) return kInfinitePower;
  const auto* pl = find("m.room.power_levels");
  if (!pl) return is_creator ? 100 : 0;
  return PowerLevels::from_content((*pl)->content(), *version_).user_level(user_id);
}

}  // namespace herald::rooms
