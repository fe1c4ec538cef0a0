// Benchmark (not a test): state resolution of a fork in a room of 10,000 members, with 100 conflicted
// state events (50 on each branch: power levels, kicks, bans, leaves, joins, renames, topics, names).
// Events live in memory behind the lookup, as they would in a warm event cache. Figures in README.md.
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "crypto/base64.h"
#include "crypto/sha256.h"
#include "events/room_version.h"
#include "rooms/auth/auth_rules.h"
#include "rooms/state_resolution.h"

namespace {
using herald::events::EventPtr;
using herald::events::RoomVersion;
using herald::rooms::StateKey;
using herald::rooms::state_resolution::StateMap;

constexpr int kMembers = 10'000;
constexpr int kEventsPerBranch = 50;

// prefix + n, built by appending ("literal" + std::string&& trips GCC 12's -Wrestrict at -O3).
std::string numbered(std::string_view prefix, int n) {
  std::string out(prefix);
  out += std::to_string(n);
  return out;
}
std::string user(const std::string& local) {
  std::string out = "@";
  out += local;
  out += ":example.org";
  return out;
}

// Builds a room's events linearly along a branch, choosing each event's auth events from the
// branch's state (§9). IDs are hash-shaped, as in v4+ rooms.
class RoomBuilder {
 public:
  explicit RoomBuilder(const RoomVersion& version) : version_(version) {}

  std::string add(StateMap& state, std::string& head, const std::string& type, const std::string& state_key,
                  const std::string& sender, nlohmann::json content) {
    nlohmann::json auth = nlohmann::json::array();
    if (type != "m.room.create") {
      for (const StateKey& key : herald::rooms::auth::auth_event_keys(version_, type, &state_key, sender, content)) {
        if (auto it = state.find(key); it != state.end()) auth.push_back(it->second);
      }
    }
    ++counter_;
    nlohmann::json pdu = {{"type", type},
                          {"state_key", state_key},
                          {"sender", sender},
                          {"content", std::move(content)},
                          {"origin_server_ts", 1'700'000'000'000 + counter_},
                          {"depth", counter_},
                          {"prev_events", head.empty() ? nlohmann::json::array() : nlohmann::json::array({head})},
                          {"auth_events", std::move(auth)}};
    std::string id = "$";
    id += herald::crypto::base64_encode(herald::crypto::sha256(std::to_string(counter_)));
    for (char& c : id) {
      if (c == '+') c = '-';
      else if (c == '/') c = '_';
    }
    if (type == "m.room.create" && version_.room_id_from_create) {
      room_id_ = id;
      room_id_.front() = '!';
    } else {
      pdu["room_id"] = room_id_;
    }
    events_[id] = std::make_shared<const herald::events::Event>(id, room_id_, pdu, "");
    state[StateKey{type, state_key}] = id;
    head = id;
    return id;
  }
  std::unordered_map<std::string, EventPtr>& events() { return events_; }

 private:
  const RoomVersion& version_;
  std::string room_id_ = "!bench:example.org";
  std::unordered_map<std::string, EventPtr> events_;
  std::int64_t counter_ = 0;
};

struct Fork {
  const RoomVersion* version;
  std::unordered_map<std::string, EventPtr> events;
  std::vector<StateMap> state_sets;
};

nlohmann::json power_levels(const RoomVersion& version, int extra_users) {
  nlohmann::json users = nlohmann::json::object();
  if (!version.infinite_creator_power) users[user("admin")] = 100;
  for (int m = 0; m < 10; ++m) users[user(numbered("mod", m))] = 50;
  for (int u = 0; u < extra_users; ++u) users[user(numbered("u", u))] = 10;
  return {{"users", users}, {"ban", 50}, {"kick", 50}, {"state_default", 50}, {"events_default", 0}};
}

Fork build_fork(std::string_view version_id) {
  const RoomVersion& v = *herald::events::find_room_version(version_id);
  RoomBuilder room(v);
  StateMap state;
  std::string head;
  const std::string admin = user("admin");
  room.add(state, head, "m.room.create", "", admin, {{"room_version", std::string(v.id)}, {"creator", admin}});
  room.add(state, head, "m.room.member", admin, admin, {{"membership", "join"}});
  room.add(state, head, "m.room.power_levels", "", admin, power_levels(v, 0));
  room.add(state, head, "m.room.join_rules", "", admin, {{"join_rule", "public"}});
  for (int m = 0; m < 10; ++m) {
    const std::string mod = user(numbered("mod", m));
    room.add(state, head, "m.room.member", mod, mod, {{"membership", "join"}});
  }
  for (int u = 0; u < kMembers; ++u) {
    const std::string member = user(numbered("u", u));
    room.add(state, head, "m.room.member", member, member, {{"membership", "join"}});
  }

  // Branch A: power levels, kicks by moderators, leaves, renames, topics.
  StateMap a = state;
  std::string head_a = head;
  for (int i = 0; i < kEventsPerBranch; ++i) {
    const std::string mod = user(numbered("mod", i % 10));
    switch (i % 5) {
      case 0: room.add(a, head_a, "m.room.power_levels", "", admin, power_levels(v, i + 1)); break;
      case 1: room.add(a, head_a, "m.room.member", user(numbered("u", 1000 + i)), mod, {{"membership", "leave"}}); break;
      case 2: {
        const std::string leaver = user(numbered("u", 2000 + i));
        room.add(a, head_a, "m.room.member", leaver, leaver, {{"membership", "leave"}});
        break;
      }
      case 3: {
        const std::string renamer = user(numbered("u", 3000 + i));
        room.add(a, head_a, "m.room.member", renamer, renamer, {{"membership", "join"}, {"displayname", numbered("R", i)}});
        break;
      }
      default: room.add(a, head_a, "m.room.topic", "", admin, {{"topic", numbered("A", i)}}); break;
    }
  }
  // Branch B: bans by the admin, joins, topics by moderators, names, custom state.
  StateMap b = state;
  std::string head_b = head;
  for (int i = 0; i < kEventsPerBranch; ++i) {
    const std::string mod = user(numbered("mod", i % 10));
    switch (i % 5) {
      case 0: room.add(b, head_b, "m.room.member", user(numbered("u", 4000 + i)), admin, {{"membership", "ban"}}); break;
      case 1: {
        const std::string joiner = user(numbered("new", i));
        room.add(b, head_b, "m.room.member", joiner, joiner, {{"membership", "join"}});
        break;
      }
      case 2: room.add(b, head_b, "m.room.topic", "", mod, {{"topic", numbered("B", i)}}); break;
      case 3: room.add(b, head_b, "m.room.name", "", admin, {{"name", numbered("B", i)}}); break;
      default: room.add(b, head_b, "org.example.note", std::to_string(i), admin, {{"n", i}}); break;
    }
  }
  return Fork{&v, std::move(room.events()), {std::move(a), std::move(b)}};
}

const Fork& fork_for(std::string_view version_id) {
  static std::map<std::string, Fork, std::less<>> built;
  auto it = built.find(version_id);
  if (it == built.end()) it = built.emplace(std::string(version_id), build_fork(version_id)).first;
  return it->second;
}

void resolve_fork(benchmark::State& bench, const char* version_id) {
  const Fork& fork = fork_for(version_id);
  const herald::rooms::state_resolution::EventLookup lookup = [&](const std::string& id) -> EventPtr {
    auto it = fork.events.find(id);
    return it == fork.events.end() ? nullptr : it->second;
  };
  std::size_t resolved_size = 0;
  for (auto _ : bench) {
    StateMap resolved = herald::rooms::state_resolution::resolve(*fork.version, fork.state_sets, lookup);
    resolved_size = resolved.size();
    benchmark::DoNotOptimize(resolved);
  }
  bench.counters["state_entries"] = static_cast<double>(resolved_size);
  bench.counters["events"] = static_cast<double>(fork.events.size());
}

// The floor any resolve() has under its interface: building one 10,000-entry StateMap.
void copy_one_state_set(benchmark::State& bench) {
  const Fork& fork = fork_for("11");
  for (auto _ : bench) {
    StateMap copy = fork.state_sets.front();
    benchmark::DoNotOptimize(copy);
  }
}

BENCHMARK(copy_one_state_set)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(resolve_fork, v2_room_version_11, "11")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(resolve_fork, v2_1_room_version_12, "12")->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
