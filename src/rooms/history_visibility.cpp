#include "rooms/history_visibility.h"

#include <algorithm>

namespace herald::rooms {

HistoryVisibility::HistoryVisibility(Timeline visibility, Timeline membership, std::string current_membership)
    : visibility_(std::move(visibility)), membership_(std::move(membership)), current_membership_(std::move(current_membership)) {}

std::string HistoryVisibility::value_before(const Timeline& t, std::int64_t stream, const std::string& fallback) {
  // The state at an event is the state before it: the last change strictly earlier.
  auto it = std::lower_bound(t.begin(), t.end(), stream, [](const auto& entry, std::int64_t s) { return entry.first < s; });
  if (it == t.begin()) return fallback;
  return std::prev(it)->second;
}

bool HistoryVisibility::visible(std::int64_t stream, bool own_membership_event) const {
  if (own_membership_event) return true;
  std::string visibility = value_before(visibility_, stream, "shared");
  if (visibility != "world_readable" && visibility != "shared" && visibility != "invited" && visibility != "joined") {
    visibility = "shared";  // unknown values count as shared
  }
  if (visibility == "world_readable") return true;
  const std::string membership = value_before(membership_, stream, "leave");
  if (membership == "join") return true;
  if (visibility == "shared") {
    // Visible to users who joined at some point after the event (or are joined now).
    if (current_membership_ == "join") return true;
    return std::any_of(membership_.begin(), membership_.end(),
                       [stream](const auto& m) { return m.first >= stream && m.second == "join"; });
  }
  if (visibility == "invited") return membership == "invite";
  return false;
}

bool server_may_see(std::string_view visibility, const std::vector<std::string>& memberships_at_event,
                    bool server_in_room_now) {
  const auto has = [&](std::string_view m) {
    return std::find(memberships_at_event.begin(), memberships_at_event.end(), m) != memberships_at_event.end();
  };
  if (visibility == "world_readable") return true;
  if (has("join")) return true;
  if (visibility == "invited") return has("invite");
  if (visibility == "joined") return false;
  return server_in_room_now;  // shared, or an unknown value
}

}  // namespace herald::rooms
