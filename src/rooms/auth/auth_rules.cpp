#include "rooms/auth/auth_rules.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "crypto/base64.h"
#include "crypto/signed_json.h"
#include "events/event.h"
#include "events/room_version.h"

namespace herald::rooms::auth {
namespace {
using events::Event;
using events::RoomVersion;

std::optional<Denial> deny(std::string reason) { return Denial{std::move(reason)}; }

std::string_view domain_of(std::string_view id) {
  const auto colon = id.find(':');
  return colon == std::string_view::npos ? std::string_view{} : id.substr(colon + 1);
}

std::string level_text(std::int64_t level) { return level >= kInfinitePower ? "creator" : std::to_string(level); }

// Rule 1: m.room.create.
std::optional<Denial> check_create(const Event& e, const RoomVersion& v) {
  if (!e.prev_event_ids().empty()) return deny("m.room.create must have no prev_events");
  if (v.room_id_from_create) {
    if (e.has_room_id_field()) return deny("m.room.create must not have a room_id in this room version");
  } else if (domain_of(e.room_id()) != domain_of(e.sender())) {
    return deny("The room ID's server does not match the creator's server");
  }
  if (auto rv = e.content().find("room_version"); rv != e.content().end()) {
    if (!rv->is_string() || !events::find_room_version(rv->get<std::string>())) return deny("Unknown room version");
  }
  if (v.creator_in_content && !e.content_string("creator")) return deny("m.room.create has no creator");
  if (v.infinite_creator_power) {
    if (auto ac = e.content().find("additional_creators"); ac != e.content().end()) {
      if (!ac->is_array()) return deny("additional_creators must be an array of user IDs");
      for (const auto& u : *ac)
        if (!u.is_string() || !UserId::parse(u.get<std::string>())) return deny("additional_creators must be an array of user IDs");
    }
  }
  return std::nullopt;
}

bool signature_matches_any_key(const nlohmann::json& signed_block, const Event& tpi) {
  std::vector<std::string> keys;
  if (auto k = tpi.content_string("public_key")) keys.push_back(*k);
  if (auto pk = tpi.content().find("public_keys"); pk != tpi.content().end() && pk->is_array()) {
    for (const auto& entry : *pk) {
      if (entry.is_object() && entry.contains("public_key") && entry["public_key"].is_string())
        keys.push_back(entry["public_key"].get<std::string>());
    }
  }
  auto sigs = signed_block.find("signatures");
  if (sigs == signed_block.end() || !sigs->is_object()) return false;
  for (const auto& [server, by_key] : sigs->items()) {
    if (!by_key.is_object()) continue;
    for (const auto& [key_id, _] : by_key.items()) {
      for (const auto& key_b64 : keys) {
        auto raw = crypto::base64_decode(key_b64);
        if (raw && crypto::verify_json(signed_block, server, key_id, *raw)) return true;
      }
    }
  }
  return false;
}

// Rule 6: m.room.member.
std::optional<Denial> check_member(const Event& e, const RoomState& state) {
  const RoomVersion& v = state.version();
  if (!e.state_key() || !e.content().contains("membership") || !e.content()["membership"].is_string()) {
    return deny("A member event needs a state_key and content.membership");
  }
  const std::string& target = *e.state_key();
  const std::string& sender = e.sender();
  const std::string membership = e.membership();
  const std::string sender_membership = state.membership(sender);
  const std::string target_membership = state.membership(target);
  const std::string join_rule = state.join_rule();
  const PowerLevels pl = state.power_levels();
  const std::int64_t sender_level = state.user_power(sender);
  const std::int64_t target_level = state.user_power(target);

  if (membership == "join") {
    // 6.3.1: the creator's own first join, right after the create event.
    const Event* create = state.create();
    if (create && e.prev_event_ids().size() == 1) {
      const std::string_view prev_id = e.prev_event_ids().front();
      const std::string creator = v.creator_in_content ? create->content_string("creator").value_or("") : create->sender();
      if (prev_id == create->event_id() && target == creator) return std::nullopt;
    }
    if (sender != target) return deny("You can only join a room as yourself");
    if (sender_membership == "ban") return deny("You are banned from this room");
    const bool invite_like = join_rule == "invite" || (v.knock && join_rule == "knock");
    if (invite_like) {
      if (sender_membership == "invite" || sender_membership == "join") return std::nullopt;
      return deny("You are not invited to this room");
    }
    const bool restricted_like = (v.restricted && join_rule == "restricted") ||
                                 (v.knock_restricted && join_rule == "knock_restricted");
    if (restricted_like) {
      if (sender_membership == "join" || sender_membership == "invite") return std::nullopt;
      const auto via = e.content_string("join_authorised_via_users_server");
      if (!via || state.membership(*via) != "join" || state.user_power(*via) < pl.invite) {
        return deny("You do not meet the conditions of this restricted room");
      }
      return std::nullopt;
    }
    if (join_rule == "public") return std::nullopt;
    return deny("The room's join rule ('" + join_rule + "') does not allow you to join");
  }

  if (membership == "invite") {
    if (auto tpi = e.content().find("third_party_invite"); tpi != e.content().end()) {
      if (target_membership == "ban") return deny("The invited user is banned from this room");
      if (!tpi->is_object() || !tpi->contains("signed") || !(*tpi)["signed"].is_object()) {
        return deny("third_party_invite has no signed block");
      }
      const nlohmann::json& signed_block = (*tpi)["signed"];
      if (!signed_block.contains("mxid") || !signed_block.contains("token") || !signed_block["mxid"].is_string() ||
          !signed_block["token"].is_string()) {
        return deny("third_party_invite.signed needs mxid and token");
      }
      if (signed_block["mxid"].get<std::string>() != target) return deny("third_party_invite.signed.mxid does not match the invitee");
      const auto* invite_event = state.find("m.room.third_party_invite", signed_block["token"].get<std::string>());
      if (!invite_event || (*invite_event)->content().empty()) return deny("No pending third-party invite matches this token");
      if ((*invite_event)->sender() != sender) return deny("Only the sender of the third-party invite can complete it");
      if (!signature_matches_any_key(signed_block, **invite_event)) {
        return deny("The identity server's signature does not verify against the third-party invite's keys");
      }
      return std::nullopt;
    }
    if (sender_membership != "join") return deny("You are not in this room, so you cannot invite to it");
    if (target_membership == "join") return deny(target + " is already in the room");
    if (target_membership == "ban") return deny(target + " is banned from the room");
    if (sender_level < pl.invite) {
      return deny("You don't have permission to invite users (power level " + level_text(sender_level) + " < " +
                  std::to_string(pl.invite) + ")");
    }
    return std::nullopt;
  }

  if (membership == "leave") {
    if (sender == target) {
      if (sender_membership == "invite" || sender_membership == "join" || (v.knock && sender_membership == "knock")) {
        return std::nullopt;
      }
      return deny("You are not in this room, invited to it or knocking on it");
    }
    if (sender_membership != "join") return deny("You are not in this room");
    if (target_membership == "ban" && sender_level < pl.ban) {
      return deny("You don't have permission to unban users (power level " + level_text(sender_level) + " < " +
                  std::to_string(pl.ban) + ")");
    }
    if (sender_level >= pl.kick && target_level < sender_level) return std::nullopt;
    if (sender_level < pl.kick) {
      return deny("You don't have permission to kick users (power level " + level_text(sender_level) + " < " +
                  std::to_string(pl.kick) + ")");
    }
    return deny("You cannot remove " + target + ": their power level is not below yours");
  }

  if (membership == "ban") {
    if (sender_membership != "join") return deny("You are not in this room");
    if (sender_level >= pl.ban && target_level < sender_level) return std::nullopt;
    if (sender_level < pl.ban) {
      return deny("You don't have permission to ban users (power level " + level_text(sender_level) + " < " +
                  std::to_string(pl.ban) + ")");
    }
    return deny("You cannot ban " + target + ": their power level is not below yours");
  }

  if (membership == "knock" && v.knock) {
    if (join_rule != "knock" && !(v.knock_restricted && join_rule == "knock_restricted")) {
      return deny("This room does not accept knocks");
    }
    if (sender != target) return deny("You can only knock as yourself");
    if (sender_membership == "ban") return deny("You are banned from this room");
    if (sender_membership == "invite") return deny("You are already invited to this room");
    if (sender_membership == "join") return deny("You are already in this room");
    return std::nullopt;
  }
  return deny("Unknown membership '" + membership + "'");
}

// Rule 11: m.room.power_levels.
std::optional<Denial> check_power_levels(const Event& e, const RoomState& state, std::int64_t sender_level) {
  const RoomVersion& v = state.version();
  const nlohmann::json& c = e.content();
  static constexpr const char* kLevels[] = {"users_default", "events_default", "state_default", "ban", "redact", "kick",
                                            "invite"};
  for (const char* key : kLevels) {
    if (auto it = c.find(key); it != c.end() && !parse_power_level(*it, v)) {
      return deny(std::string("Power level '") + key + "' is not a valid integer");
    }
  }
  for (const char* key : {"events", "notifications"}) {
    if (auto it = c.find(key); it != c.end()) {
      if (!it->is_object()) return deny(std::string("'") + key + "' must be an object");
      for (const auto& [k, val] : it->items())
        if (!parse_power_level(val, v)) return deny(std::string("'") + key + "." + k + "' is not a valid integer");
    }
  }
  if (auto users = c.find("users"); users != c.end()) {
    if (!users->is_object()) return deny("'users' must be an object");
    const std::vector<std::string> creators = state.creators();
    for (const auto& [uid, val] : users->items()) {
      if (!UserId::parse(uid)) return deny("'users' has an invalid user ID " + uid);
      if (!parse_power_level(val, v)) return deny("'users." + uid + "' is not a valid integer");
      if (v.infinite_creator_power && std::find(creators.begin(), creators.end(), uid) != creators.end()) {
        return deny("Room creators cannot be listed in 'users'");
      }
    }
  }
  const auto* previous = state.find("m.room.power_levels");
  if (!previous) return std::nullopt;
  const nlohmann::json& old = (*previous)->content();
  auto value_of = [&](const nlohmann::json& obj, const std::string& key) -> std::optional<std::int64_t> {
    auto it = obj.find(key);
    if (it == obj.end()) return std::nullopt;
    return parse_power_level(*it, v);
  };
  for (const char* key : kLevels) {
    const auto before = value_of(old, key);
    const auto after = value_of(c, key);
    if (before == after) continue;
    if (before && *before > sender_level) return deny(std::string("You cannot change '") + key + "' from a level above yours");
    if (after && *after > sender_level) return deny(std::string("You cannot set '") + key + "' above your own level");
  }
  std::vector<const char*> maps = {"events"};
  if (v.notifications_in_power_levels) maps.push_back("notifications");
  for (const char* map : maps) {
    const nlohmann::json old_map = old.contains(map) && old[map].is_object() ? old[map] : nlohmann::json::object();
    const nlohmann::json new_map = c.contains(map) && c[map].is_object() ? c[map] : nlohmann::json::object();
    for (const auto& [k, val] : old_map.items()) {
      const auto before = parse_power_level(val, v);
      const auto after = value_of(new_map, k);
      if (before != after && before && *before > sender_level) {
        return deny(std::string("You cannot change '") + map + "." + k + "' from a level above yours");
      }
    }
    for (const auto& [k, val] : new_map.items()) {
      const auto after = parse_power_level(val, v);
      const auto before = value_of(old_map, k);
      if (before != after && after && *after > sender_level) {
        return deny(std::string("You cannot set '") + map + "." + k + "' above your own level");
      }
    }
  }
  const nlohmann::json old_users = old.contains("users") && old["users"].is_object() ? old["users"] : nlohmann::json::object();
  const nlohmann::json new_users = c.contains("users") && c["users"].is_object() ? c["users"] : nlohmann::json::object();
  for (const auto& [uid, val] : old_users.items()) {
    const auto before = parse_power_level(val, v);
    const auto after = value_of(new_users, uid);
    if (before == after || uid == e.sender()) continue;
    if (before && *before >= sender_level) return deny("You cannot change the level of " + uid + ", who is not below you");
  }
  for (const auto& [uid, val] : new_users.items()) {
    const auto after = parse_power_level(val, v);
    const auto before = value_of(old_users, uid);
    if (before != after && after && *after > sender_level) return deny("You cannot raise " + uid + " above your own level");
  }
  return std::nullopt;
}

}  // namespace

std::optional<Denial> check_event(const Event& e, const RoomState& state) {
  const RoomVersion& v = state.version();
  if (e.type() == "m.room.create" && e.state_key() && e.state_key()->empty()) return check_create(e, v);

  const Event* create = state.create();
  if (!create) return deny("The room has no create event");
  if (v.room_id_from_create && e.room_id() != "!" + create->event_id().substr(1)) {
    return deny("The room ID does not match the room's create event");
  }
  // Rule 4: m.federate.
  if (auto fed = create->content().find("m.federate"); fed != create->content().end() && *fed == false) {
    if (domain_of(e.sender()) != domain_of(create->sender())) return deny("This room is not federated");
  }
  // Rule 5: v1-5 aliases.
  if (v.special_aliases_rule && e.type() == "m.room.aliases") {
    if (!e.state_key()) return deny("m.room.aliases needs a state_key");
    if (domain_of(e.sender()) != *e.state_key()) return deny("m.room.aliases state_key must be the sender's server");
    return std::nullopt;
  }
  if (e.type() == "m.room.member") return check_member(e, state);

  // Rule 7: everything else needs a joined sender.
  if (state.membership(e.sender()) != "join") return deny("You are not in this room");
  const PowerLevels pl = state.power_levels();
  const std::int64_t sender_level = state.user_power(e.sender());
  // Rule 8.
  if (e.type() == "m.room.third_party_invite") {
    if (sender_level < pl.invite) {
      return deny("You don't have permission to invite users (power level " + level_text(sender_level) + " < " +
                  std::to_string(pl.invite) + ")");
    }
    return std::nullopt;
  }
  // Rule 9.
  const std::int64_t required = pl.event_level(e.type(), e.is_state());
  if (required > sender_level) {
    return deny("You don't have permission to send " + e.type() + " (power level " + level_text(sender_level) +
                " < " + std::to_string(required) + ")");
  }
  // Rule 10.
  if (e.state_key() && !e.state_key()->empty() && e.state_key()->front() == '@' && *e.state_key() != e.sender()) {
    return deny("You cannot set state keyed by another user's ID");
  }
  if (e.type() == "m.room.power_levels") return check_power_levels(e, state, sender_level);
  // Rule 12: v1-2 redactions.
  if (v.redaction_auth_rule && e.type() == "m.room.redaction") {
    if (sender_level >= pl.redact) return std::nullopt;
    const auto& redacts = e.top_level_redacts();
    if (redacts && domain_of(*redacts) == domain_of(e.event_id())) {
      return std::nullopt;
    }
    return deny("You don't have permission to redact this event");
  }
  return std::nullopt;
}

std::optional<Denial> check_auth_events(const Event& e, const std::vector<events::EventPtr>& auth_events,
                                        const RoomVersion& version) {
  const std::vector<StateKey> allowed =
      auth_event_keys(version, e.type(), e.state_key(), e.sender(), e.content());
  std::vector<StateKey> seen;
  bool has_create = false;
  for (const auto& a : auth_events) {
    if (!a->state_key()) return deny("auth event " + a->event_id() + " is not a state event");
    const StateKey key{a->type(), *a->state_key()};
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      return deny("auth_events lists " + key.first + " '" + key.second + "' twice");
    }
    seen.push_back(key);
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return deny("auth_events may not include " + key.first + " '" + key.second + "' for this event");
    }
    if (a->room_id() != e.room_id()) return deny("auth event " + a->event_id() + " belongs to another room");
    if (a->type() == "m.room.create") has_create = true;
  }
  if (version.create_in_auth_events && e.type() != "m.room.create" && !has_create) {
    return deny("auth_events must include the room's m.room.create event");
  }
  return std::nullopt;
}

RoomState auth_state(const RoomVersion& version, const std::vector<events::EventPtr>& auth_events,
                     const events::EventPtr& create_event) {
  RoomState state(version);
  if (create_event) state.apply(create_event);
  for (const auto& a : auth_events) state.apply(a);
  return state;
}

std::vector<StateKey> auth_event_keys(const RoomVersion& version, const std::string& type, const std::string* state_key,
                                      const std::string& sender, const nlohmann::json& content) {
  std::vector<StateKey> keys;
  if (type == "m.room.create") return keys;
  if (version.create_in_auth_events) keys.emplace_back("m.room.create", "");
  keys.emplace_back("m.room.power_levels", "");
  keys.emplace_back("m.room.member", sender);
  if (type == "m.room.member" && state_key) {
    if (*state_key != sender) keys.emplace_back("m.room.member", *state_key);
    const auto m = content.find("membership");
    const std::string membership = m != content.end() && m->is_string() ? m->get<std::string>() : "";
    if (membership == "join" || membership == "invite" || membership == "knock") keys.emplace_back("m.room.join_rules", "");
    if (membership == "invite") {
      auto tpi = content.find("third_party_invite");
      if (tpi != content.end() && tpi->is_object() && tpi->contains("signed") && (*tpi)["signed"].is_object() &&
          (*tpi)["signed"].contains("token") && (*tpi)["signed"]["token"].is_string()) {
        keys.emplace_back("m.room.third_party_invite", (*tpi)["signed"]["token"].get<std::string>());
      }
    }
    if (membership == "join" && version.restricted) {
      auto via = content.find("join_authorised_via_users_server");
      if (via != content.end() && via->is_string()) keys.emplace_back("m.room.member", via->get<std::string>());
    }
  }
  return keys;
}

}  // namespace herald::rooms::auth
