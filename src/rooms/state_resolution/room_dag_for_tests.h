#pragma once
// Test support (not part of the library): a room's event graph written out in a test. Events get
// short readable IDs ("$PA"), depth and origin_server_ts counting up, and auth_events chosen from the
// state before them (§9), which for several prev_events is the resolution of theirs, as a server
// would compute it. The shape follows the scenarios of Synapse's tests/state/test_v2.py.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "events/room_version.h"
#include "rooms/auth/auth_rules.h"
#include "rooms/state_resolution.h"

namespace herald::rooms::state_resolution::test_support {

inline const std::string kAlice = "@alice:example.com";
inline const std::string kBob = "@bob:example.com";
inline const std::string kCharlie = "@charlie:example.com";
inline const std::string kEvelyn = "@evelyn:example.com";
inline const std::string kZara = "@zara:example.com";

struct Draft {
  std::string name;  // the event ID without its '$'
  std::string sender;
  std::string type;
  std::optional<std::string> state_key;  // nullopt: a message event
  nlohmann::json content = nlohmann::json::object();
};

inline Draft member(std::string name, const std::string& sender, const std::string& target, const std::string& membership) {
  return {std::move(name), sender, "m.room.member", target, {{"membership", membership}}};
}
inline Draft topic(std::string name, const std::string& sender, const std::string& text = "") {
  return {std::move(name), sender, "m.room.topic", "", {{"topic", text.empty() ? "topic " + name : text}}};
}
inline Draft join_rules(std::string name, const std::string& sender, const std::string& rule) {
  return {std::move(name), sender, "m.room.join_rules", "", {{"join_rule", rule}}};
}
inline Draft message(std::string name, const std::string& sender) {
  return {std::move(name), sender, "m.room.message", std::nullopt, {{"body", name}}};
}

class RoomDag {
 public:
  explicit RoomDag(std::string_view version_id) : version_(*events::find_room_version(version_id)) {}

  // The beginning most scenarios share: Alice creates a public room; Bob, Charlie and Zara join; then
  // a message START, which scenarios fork from.
  static RoomDag with_members(std::string_view version_id) {
    RoomDag dag(version_id);
    dag.add(dag.create("CREATE"));
    dag.add(member("IMA", kAlice, kAlice, "join"));
    dag.add(dag.power_levels("IPOWER", kAlice, {}));
    dag.add(join_rules("IJR", kAlice, "public"));
    dag.add(member("IMB", kBob, kBob, "join"));
    dag.add(member("IMC", kCharlie, kCharlie, "join"));
    dag.add(member("IMZ", kZara, kZara, "join"));
    dag.add(message("START", kZara));
    return dag;
  }

  Draft create(std::string name, const std::string& sender = kAlice) const {
    nlohmann::json content = {{"room_version", std::string(version_.id)}};
    if (version_.creator_in_content) content["creator"] = sender;
    return {std::move(name), sender, "m.room.create", "", content};
  }
  // m.room.power_levels with the given user levels; Alice (the creator) gets 100 except in v12, where
  // creators may not be listed and outrank everyone anyway.
  Draft power_levels(std::string name, const std::string& sender, std::map<std::string, int> users,
                     nlohmann::json extra = nlohmann::json::object()) const {
    if (!version_.infinite_creator_power) users.emplace(kAlice, 100);
    nlohmann::json content = extra;
    content["users"] = users;
    return {std::move(name), sender, "m.room.power_levels", "", content};
  }

  // Adds an event after `prev` (default: the event added last); returns its ID.
  std::string add(const Draft& d, std::vector<std::string> prev = {}, std::optional<std::int64_t> ts = std::nullopt) {
    if (prev.empty() && !last_.empty()) prev.push_back(last_);
    const StateMap before = state_before(prev);
    std::vector<std::string> auth;
    if (d.type != "m.room.create") {
      for (const StateKey& key : auth::auth_event_keys(version_, d.type, d.state_key ? &*d.state_key : nullptr,
                                                       d.sender, d.content)) {
        if (auto it = before.find(key); it != before.end()) auth.push_back(it->second);
      }
    }
    return insert(d, prev, auth, ts, before);
  }
  // Adds an event with the auth events given (by name), to build events that cite what they choose.
  // The v1-11 create event is added to them.
  std::string add_with_auth(const Draft& d, const std::vector<std::string>& auth_names, std::vector<std::string> prev = {}) {
    if (prev.empty() && !last_.empty()) prev.push_back(last_);
    std::vector<std::string> auth;
    if (version_.create_in_auth_events && d.type != "m.room.create") auth.push_back(id("CREATE"));
    for (const std::string& name : auth_names) auth.push_back(id(name));
    return insert(d, prev, auth, std::nullopt, state_before(prev));
  }

  static std::string id(const std::string& name) { return "$" + name; }
  const events::RoomVersion& version() const { return version_; }
  const events::EventPtr& event(const std::string& name) const { return events_.at(id(name)); }
  const StateMap& state_after(const std::string& name) const { return state_after_.at(id(name)); }
  EventLookup lookup() const {
    return [this](const std::string& event_id) -> events::EventPtr {
      auto it = events_.find(event_id);
      return it == events_.end() ? nullptr : it->second;
    };
  }

  // A state map made of the named events.
  StateMap state_of(const std::vector<std::string>& names) const {
    StateMap out;
    for (const std::string& name : names) {
      const events::Event& e = *event(name);
      out[StateKey{e.type(), *e.state_key()}] = e.event_id();
    }
    return out;
  }
  // The state after `base` with the named events on top: what a resolution is expected to give.
  StateMap expected(const std::string& base, const std::vector<std::string>& names) const {
    StateMap out = state_after(base);
    for (const auto& [key, event_id] : state_of(names)) out[key] = event_id;
    return out;
  }
  std::vector<StateMap> states_after(const std::vector<std::string>& names) const {
    std::vector<StateMap> out;
    for (const std::string& name : names) out.push_back(state_after(name));
    return out;
  }

 private:
  StateMap state_before(const std::vector<std::string>& prev) const {
    if (prev.empty()) return {};
    if (prev.size() == 1) return state_after_.at(id(prev.front()));
    std::vector<StateMap> sets;
    for (const std::string& p : prev) sets.push_back(state_after_.at(id(p)));
    return resolve(version_, sets, lookup());
  }

  nlohmann::json references(const std::vector<std::string>& ids) const {
    nlohmann::json out = nlohmann::json::array();
    for (const std::string& i : ids) {
      if (version_.event_ids == events::EventIdFormat::server_assigned) {
        out.push_back(nlohmann::json::array({i, {{"sha256", "unchecked"}}}));
      } else {
        out.push_back(i);
      }
    }
    return out;
  }

  std::string insert(const Draft& d, const std::vector<std::string>& prev_names, const std::vector<std::string>& auth,
                     std::optional<std::int64_t> ts, StateMap state) {
    const std::string event_id = id(d.name);
    std::vector<std::string> prev;
    std::int64_t depth = 0;
    for (const std::string& p : prev_names) {
      prev.push_back(id(p));
      depth = std::max(depth, events_.at(id(p))->depth());
    }
    nlohmann::json pdu = {{"type", d.type},
                          {"sender", d.sender},
                          {"content", d.content},
                          {"origin_server_ts", ts.value_or(next_ts_)},
                          {"depth", depth + 1},
                          {"prev_events", references(prev)},
                          {"auth_events", references(auth)}};
    ++next_ts_;
    if (d.state_key) pdu["state_key"] = *d.state_key;
    if (version_.event_ids == events::EventIdFormat::server_assigned) pdu["event_id"] = event_id;
    const bool v12_create = version_.room_id_from_create && d.type == "m.room.create";
    if (v12_create) room_id_ = "!" + d.name;
    else pdu["room_id"] = room_id_;
    events_[event_id] = std::make_shared<const events::Event>(event_id, room_id_, pdu, "");
    if (d.state_key) state[StateKey{d.type, *d.state_key}] = event_id;
    state_after_[event_id] = std::move(state);
    last_ = d.name;
    return event_id;
  }

  const events::RoomVersion& version_;
  std::string room_id_ = "!room:example.com";
  std::map<std::string, events::EventPtr> events_;
  std::map<std::string, StateMap> state_after_;
  std::string last_;
  std::int64_t next_ts_ = 1;
};

// Resolves the sets in the order given and reversed (the answer may not depend on it) and checks both.
inline void expect_resolves_to(const events::RoomVersion& version, std::vector<StateMap> sets, const EventLookup& lookup,
                               const StateMap& expected) {
  EXPECT_EQ(resolve(version, sets, lookup), expected) << "state sets in the order given";
  std::reverse(sets.begin(), sets.end());
  EXPECT_EQ(resolve(version, sets, lookup), expected) << "state sets reversed";
}

inline void expect_resolves_to(const RoomDag& dag, const std::vector<std::string>& heads, const StateMap& expected) {
  expect_resolves_to(dag.version(), dag.states_after(heads), dag.lookup(), expected);
}

}  // namespace herald::rooms::state_resolution::test_support
