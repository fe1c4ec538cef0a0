#include "homeserver/sync/sync_filter.h"

#include <algorithm>

#include "core/matrix_error.h"

namespace herald::homeserver {
namespace {
constexpr std::int64_t kMaxLimit = 1000;

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool any_glob(const std::vector<std::string>& patterns, std::string_view value) {
  return std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) { return glob_matches(p, value); });
}

[[noreturn]] void bad(const std::string& field, const char* what) {
  throw MatrixError(Errc::bad_json, "Filter field '" + field + "' " + what);
}

const nlohmann::json* object_field(const nlohmann::json& parent, const char* key, const std::string& path) {
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) return nullptr;
  if (!it->is_object()) bad(path + key, "must be an object");
  return &*it;
}

// A list of strings; `sigil` (when not 0) is the first character every entry must have.
std::optional<std::vector<std::string>> string_list(const nlohmann::json& parent, const char* key,
                                                    const std::string& path, char sigil = 0) {
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) return std::nullopt;
  if (!it->is_array()) bad(path + key, "must be a list of strings");
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string()) bad(path + key, "must be a list of strings");
    std::string s = v.get<std::string>();
    if (sigil && (s.empty() || s.front() != sigil)) bad(path + key, sigil == '@' ? "must list user IDs" : "must list room IDs");
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<bool> bool_field(const nlohmann::json& parent, const char* key, const std::string& path) {
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) bad(path + key, "must be a boolean");
  return it->get<bool>();
}

void parse_event_filter(const nlohmann::json& obj, const std::string& path, EventFilter& f) {
  f.types = string_list(obj, "types", path);
  f.not_types = string_list(obj, "not_types", path).value_or(std::vector<std::string>{});
  f.senders = string_list(obj, "senders", path, '@');
  f.not_senders = string_list(obj, "not_senders", path, '@').value_or(std::vector<std::string>{});
  if (auto it = obj.find("limit"); it != obj.end() && !it->is_null()) {
    if (!it->is_number_integer()) bad(path + "limit", "must be an integer");
    const std::int64_t limit = it->get<std::int64_t>();
    if (limit < 1) bad(path + "limit", "must be at least 1");
    f.limit = std::min(limit, kMaxLimit);
  }
}

void parse_room_event_filter(const nlohmann::json* obj, const std::string& path, RoomEventFilter& f) {
  if (!obj) return;
  parse_event_filter(*obj, path, f);
  f.rooms = string_list(*obj, "rooms", path, '!');
  f.not_rooms = string_list(*obj, "not_rooms", path, '!').value_or(std::vector<std::string>{});
  f.contains_url = bool_field(*obj, "contains_url", path);
  f.lazy_load_members = bool_field(*obj, "lazy_load_members", path).value_or(false);
  f.include_redundant_members = bool_field(*obj, "include_redundant_members", path).value_or(false);
}
}  // namespace

bool glob_matches(std::string_view pattern, std::string_view text) {
  // Iterative wildcard match with backtracking to the last '*'.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool EventFilter::matches(std::string_view type, std::string_view sender) const {
  if (any_glob(not_types, type) || contains(not_senders, sender)) return false;
  if (types && !any_glob(*types, type)) return false;
  if (senders && !contains(*senders, sender)) return false;
  return true;
}

bool RoomEventFilter::allows_room(std::string_view room_id) const {
  if (contains(not_rooms, room_id)) return false;
  return !rooms || contains(*rooms, room_id);
}

bool RoomEventFilter::matches(const nlohmann::json& event) const {
  const std::string type = event.value("type", "");
  const std::string sender = event.value("sender", "");
  if (!EventFilter::matches(type, sender)) return false;
  if (contains_url) {
    bool has_url = false;
    if (auto content = event.find("content"); content != event.end() && content->is_object()) {
      auto url = content->find("url");
      has_url = url != content->end() && url->is_string();
    }
    if (has_url != *contains_url) return false;
  }
  return true;
}

bool RoomFilter::allows_room(std::string_view room_id) const {
  if (contains(not_rooms, room_id)) return false;
  return !rooms || contains(*rooms, room_id);
}

SyncFilter SyncFilter::parse(const nlohmann::json& filter) {
  if (!filter.is_object()) throw MatrixError(Errc::bad_json, "A filter must be a JSON object");
  SyncFilter f;
  if (auto* a = object_field(filter, "account_data", "")) parse_event_filter(*a, "account_data.", f.account_data);
  if (auto* p = object_field(filter, "presence", "")) parse_event_filter(*p, "presence.", f.presence);
  if (auto it = filter.find("event_format"); it != filter.end() && !it->is_null()) {
    if (!it->is_string() || (*it != "client" && *it != "federation")) bad("event_format", "must be 'client' or 'federation'");
  }
  string_list(filter, "event_fields", "");
  if (auto* room = object_field(filter, "room", "")) {
    f.room.rooms = string_list(*room, "rooms", "room.", '!');
    f.room.not_rooms = string_list(*room, "not_rooms", "room.", '!').value_or(std::vector<std::string>{});
    f.room.include_leave = bool_field(*room, "include_leave", "room.").value_or(false);
    parse_room_event_filter(object_field(*room, "timeline", "room."), "room.timeline.", f.room.timeline);
    parse_room_event_filter(object_field(*room, "state", "room."), "room.state.", f.room.state);
    parse_room_event_filter(object_field(*room, "ephemeral", "room."), "room.ephemeral.", f.room.ephemeral);
    parse_room_event_filter(object_field(*room, "account_data", "room."), "room.account_data.", f.room.account_data);
  }
  return f;
}

}  // namespace herald::homeserver
