#pragma once
// A room's state: (type, state_key) -> event, with the readers the auth rules and hot paths need.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "events/event.h"
#include "rooms/power_levels.h"

namespace herald::events {
struct RoomVersion;
}

namespace herald::rooms {

using StateKey = std::pair<std::string, std::string>;

class RoomState {
 public:
  explicit RoomState(const events::RoomVersion& version) : version_(&version) {}

  const events::RoomVersion& version() const { return *version_; }
  const events::EventPtr* find(const std::string& type, const std::string& state_key = "") const;
  void apply(const events::EventPtr& event);  // a state event replaces its (type, state_key)
  const std::map<StateKey, events::EventPtr>& events() const { return state_; }

  const events::Event* create() const;
  // The user's membership ("join", "invite", ...), or "leave" when there is no member event.
  std::string membership(const std::string& user_id) const;
  std::string join_rule() const;  // "invite" when there is no m.room.join_rules (as Synapse)
  PowerLevels power_levels() const;
  // Creator semantics per version: v1-10 content.creator; v11 sender; v12 sender + additional_creators.
  std::vector<std::string> creators() const;
  // The level of a user with creators' implied power (100 without a PL event, infinite in v12).
  std::int64_t user_power(const std::string& user_id) const;

 private:
  const events::RoomVersion* version_;
  std::map<StateKey, events::EventPtr> state_;
};

}  // namespace herald::rooms
