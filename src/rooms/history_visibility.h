#pragma once
// Who may see which event (client-server.md §5, "History visibility"): evaluated with the state at each
// event. Pure: the caller gives the room's history of m.room.history_visibility and of the user's
// membership as (stream position, value) changes in stream order.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace herald::rooms {

using Timeline = std::vector<std::pair<std::int64_t, std::string>>;  // (stream position, value), ascending

class HistoryVisibility {
 public:
  // visibility: values of m.room.history_visibility; membership: the user's memberships;
  // current_membership: the user's membership now.
  HistoryVisibility(Timeline visibility, Timeline membership, std::string current_membership);

  // Whether the user may see the event at `stream`. own_membership_event: the event is the user's own
  // m.room.member event (always visible to them).
  bool visible(std::int64_t stream, bool own_membership_event) const;

 private:
  static std::string value_before(const Timeline& t, std::int64_t stream, const std::string& fallback);
  Timeline visibility_;
  Timeline membership_;
  std::string current_membership_;
};

}  // namespace herald::rooms
