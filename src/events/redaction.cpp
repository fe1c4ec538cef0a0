#include "events/redaction.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <string_view>

#include "events/room_version.h"

namespace herald::events {
namespace {
constexpr std::array<std::string_view, 15> kTopLevelV1 = {
    "event_id", "type",        "room_id",      "sender", "state_key", "content", "hashes",    "signatures",
    "depth",    "prev_events", "prev_state",   "auth_events", "origin", "origin_server_ts", "membership"};
constexpr std::array<std::string_view, 12> kTopLevelV11 = {
    "event_id", "type", "room_id", "sender", "state_key", "content", "hashes", "signatures",
    "depth",    "prev_events", "auth_events", "origin_server_ts"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& keys, std::string_view k) {
  return std::find(keys.begin(), keys.end(), k) != keys.end();
}

nlohmann::json keep(const nlohmann::json& content, std::initializer_list<std::string_view> keys) {
  nlohmann::json out = nlohmann::json::object();
  if (!content.is_object()) return out;
  for (std::string_view k : keys) {
    auto it = content.find(k);
    if (it != content.end()) out[std::string(k)] = *it;
  }
  return out;
}

nlohmann::json redact_content(const std::string& type, const nlohmann::json& content, RedactionRules r) {
  const bool v11 = r == RedactionRules::v11;
  if (type == "m.room.member") {
    if (r == RedactionRules::v9) return keep(content, {"membership", "join_authorised_via_users_server"});
    if (v11) {
      nlohmann::json out = keep(content, {"membership", "join_authorised_via_users_server"});
      auto tpi = content.is_object() ? content.find("third_party_invite") : content.end();
      if (content.is_object() && tpi != content.end() && tpi->is_object()) {
        nlohmann::json reduced = nlohmann::json::object();
        if (auto s = tpi->find("signed"); s != tpi->end()) reduced["signed"] = *s;
        out["third_party_invite"] = reduced;
      }
      return out;
    }
    return keep(content, {"membership"});
  }
  if (type == "m.room.create") return v11 ? (content.is_object() ? content : nlohmann::json::object()) : keep(content, {"creator"});
  if (type == "m.room.join_rules") {
    if (r == RedactionRules::v1 || r == RedactionRules::v6) return keep(content, {"join_rule"});
    return keep(content, {"join_rule", "allow"});
  }
  if (type == "m.room.power_levels") {
    if (v11) {
      return keep(content, {"ban", "events", "events_default", "invite", "kick", "redact", "state_default", "users",
                            "users_default"});
    }
    return keep(content, {"ban", "events", "events_default", "kick", "redact", "state_default", "users", "users_default"});
  }
  if (type == "m.room.history_visibility") return keep(content, {"history_visibility"});
  if (type == "m.room.aliases" && r == RedactionRules::v1) return keep(content, {"aliases"});
  if (type == "m.room.redaction" && v11) return keep(content, {"redacts"});
  return nlohmann::json::object();
}
}  // namespace

nlohmann::json redact(const nlohmann::json& pdu, const RoomVersion& version) {
  nlohmann::json out = nlohmann::json::object();
  if (!pdu.is_object()) return out;
  const bool v11 = version.redaction == RedactionRules::v11;
  for (const auto& [key, value] : pdu.items()) {
    if (v11 ? contains(kTopLevelV11, key) : contains(kTopLevelV1, key)) out[key] = value;
  }
  const std::string type = pdu.contains("type") && pdu["type"].is_string() ? pdu["type"].get<std::string>() : "";
  const auto content = pdu.find("content");
  out["content"] = redact_content(type, content != pdu.end() ? *content : nlohmann::json::object(), version.redaction);
  return out;
}

}  // namespace herald::events
