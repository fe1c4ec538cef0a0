#pragma once
// Who may see which event (client-server.md §5, "History visibility"): evaluated with the state at each
// event. Pure: the caller gives the room's history of m.room.history_visibility and of the user's
// membership as (stream position, value) changes in stream order.
#include <cstdint>
#include <string>
#include <string_view>
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

// Whether another server may see an event (federation.md §6, retrieval endpoints), from the state at the
// event: its history_visibility value and the memberships there of that server's users, plus whether one
// of its users is joined to the room now. world_readable: everyone; shared: a server in the room now (as
// Synapse, which asks a server to be in the room before it answers); invited: a user of the server
// joined or invited at the event; joined (and anything else a server could send): joined at the event.
// An unknown value counts as shared, as for clients.
bool server_may_see(std::string_view visibility, const std::vector<std::string>& memberships_at_event,
                    bool server_in_room_now);

}  // namespace herald::rooms
