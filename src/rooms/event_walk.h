#pragma once
// Walks backwards over prev_events for the federation retrieval endpoints (federation.md §6):
// get_missing_events and backfill. Pure: the caller looks events up (storage, or a test's map).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace herald::rooms {

struct WalkNode {
  std::int64_t depth = 0;
  std::vector<std::string> prev_events;
};
// nullopt: the event is not known here (the walk does not pass through it).
using WalkLookup = std::function<std::optional<WalkNode>(const std::string& event_id)>;

// POST /get_missing_events: breadth-first from `latest` over prev_events, never entering `earliest` (nor
// going past it), skipping events below `min_depth`; at most `limit` events, the `latest` ones themselves
// excluded. Returned oldest first (ascending depth; the walk's order among equal depths).
std::vector<std::string> missing_events_walk(const std::vector<std::string>& earliest, const std::vector<std::string>& latest,
                                             std::size_t limit, std::int64_t min_depth, const WalkLookup& lookup);

// GET /backfill: the `from` events themselves and their predecessors, breadth-first over prev_events,
// at most `limit`, newest first (descending depth).
std::vector<std::string> backfill_walk(const std::vector<std::string>& from, std::size_t limit, const WalkLookup& lookup);

}  // namespace herald::rooms
