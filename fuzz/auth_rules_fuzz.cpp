// Event JSON -> the auth rules. The first byte picks a room version; the rest is a PDU, parsed as the
// server parses untrusted JSON (json_body, depth-limited) and checked against a small fixed room: alice
// created it and is joined with PL 100, bob is joined, carol is invited, dave is banned, join rule public.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/json_body.h"
#include "events/event.h"
#include "events/room_version.h"
#include "rooms/auth/auth_rules.h"
#include "rooms/room_state.h"

namespace {
using herald::events::Event;
using herald::events::EventPtr;
using herald::rooms::RoomState;

constexpr std::array<std::string_view, 6> kVersions = {"1", "3", "6", "10", "11", "12"};
constexpr const char* kRoomId = "!room:hs";

EventPtr state_event(int n, const char* type, const char* state_key, const char* sender, nlohmann::json content) {
  nlohmann::json pdu = {{"type", type},       {"state_key", state_key},  {"sender", sender},
                        {"content", content}, {"room_id", kRoomId},      {"origin_server_ts", 1000 + n},
                        {"depth", n},         {"prev_events", nlohmann::json::array()}};
  return std::make_shared<const Event>("$setup" + std::to_string(n), kRoomId, pdu, "hash" + std::to_string(n));
}

RoomState make_state(const herald::events::RoomVersion& v) {
  RoomState state(v);
  nlohmann::json create = {{"room_version", std::string(v.id)}};
  if (v.creator_in_content) create["creator"] = "@alice:hs";
  state.apply(state_event(1, "m.room.create", "", "@alice:hs", create));
  state.apply(state_event(2, "m.room.member", "@alice:hs", "@alice:hs", {{"membership", "join"}}));
  nlohmann::json pl = {{"users", {{"@bob:hs", 50}}}, {"ban", 50}, {"kick", 50}, {"invite", 0},
                       {"state_default", 50}, {"events_default", 0}, {"redact", 50},
                       {"events", {{"m.room.name", 50}}}};
  if (!v.infinite_creator_power) pl["users"]["@alice:hs"] = 100;
  state.apply(state_event(3, "m.room.power_levels", "", "@alice:hs", pl));
  state.apply(state_event(4, "m.room.join_rules", "", "@alice:hs", {{"join_rule", "public"}}));
  state.apply(state_event(5, "m.room.member", "@bob:hs", "@bob:hs", {{"membership", "join"}}));
  state.apply(state_event(6, "m.room.member", "@carol:hs", "@alice:hs", {{"membership", "invite"}}));
  state.apply(state_event(7, "m.room.member", "@dave:hs", "@alice:hs", {{"membership", "ban"}}));
  return state;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const auto* v = herald::events::find_room_version(kVersions[data[0] % kVersions.size()]);
  if (v == nullptr) return 0;
  static std::array<std::unique_ptr<RoomState>, kVersions.size()> states;
  auto& state = states[data[0] % kVersions.size()];
  if (!state) state = std::make_unique<RoomState>(make_state(*v));

  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto pdu = herald::json_body::try_parse(text);
  if (!pdu || !pdu->is_object()) return 0;
  const Event event("$fuzz:hs", kRoomId, *pdu, "fuzzhash");
  (void)herald::rooms::auth::check_event(event, *state);
  (void)herald::rooms::auth::auth_event_keys(*v, event.type(), event.state_key(), event.sender(), event.content());
  (void)event.client_format();
  (void)event.stripped();
  return 0;
}
