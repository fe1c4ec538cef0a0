#include "rooms/event_walk.h"

#include <algorithm>
#include <limits>
#include <set>

namespace herald::rooms {
namespace {

struct Found {
  std::string id;
  std::int64_t depth;
  std::size_t order;  // when the walk reached it
};

// Breadth-first over prev_events from `front`, adding each event not yet `seen` whose depth is at least
// `min_depth` to `found`, until `limit` events are found or the walk runs out.
void walk_prev_events(std::vector<std::string> front, std::set<std::string>& seen, std::vector<Found>& found,
                      std::size_t limit, std::int64_t min_depth, const WalkLookup& lookup) {
  while (!front.empty() && found.size() < limit) {
    std::vector<std::string> next;
    for (const auto& id : front) {
      const auto node = lookup(id);
      if (!node) continue;
      for (const auto& prev : node->prev_events) {
        if (found.size() >= limit) break;
        if (!seen.insert(prev).second) continue;
        const auto prev_node = lookup(prev);
        if (!prev_node || prev_node->depth < min_depth) continue;
        found.push_back({prev, prev_node->depth, found.size()});
        next.push_back(prev);
      }
    }
    front = std::move(next);
  }
}

// The IDs of `found` by depth (oldest first, or newest first), in walk order among equal depths.
std::vector<std::string> ids_by_depth(std::vector<Found> found, bool oldest_first) {
  std::stable_sort(found.begin(), found.end(), [oldest_first](const Found& a, const Found& b) {
    return oldest_first ? a.depth < b.depth : a.depth > b.depth;
  });
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(std::move(f.id));
  return out;
}

}  // namespace

std::vector<std::string> missing_events_walk(const std::vector<std::string>& earliest, const std::vector<std::string>& latest,
                                             std::size_t limit, std::int64_t min_depth, const WalkLookup& lookup) {
  std::set<std::string> seen(earliest.begin(), earliest.end());
  seen.insert(latest.begin(), latest.end());
  std::vector<std::string> front;
  for (const auto& id : latest)
    if (std::find(earliest.begin(), earliest.end(), id) == earliest.end()) front.push_back(id);
  std::vector<Found> found;
  walk_prev_events(std::move(front), seen, found, limit, min_depth, lookup);
  return ids_by_depth(std::move(found), true);
}

std::vector<std::string> backfill_walk(const std::vector<std::string>& from, std::size_t limit, const WalkLookup& lookup) {
  std::set<std::string> seen;
  std::vector<Found> found;
  std::vector<std::string> front;
  for (const auto& id : from) {
    if (found.size() >= limit || !seen.insert(id).second) continue;
    const auto node = lookup(id);
    if (!node) continue;
    found.push_back({id, node->depth, found.size()});
    front.push_back(id);
  }
  walk_prev_events(std::move(front), seen, found, limit, std::numeric_limits<std::int64_t>::min(), lookup);
  return ids_by_depth(std::move(found), false);
}

}  // namespace herald::rooms
