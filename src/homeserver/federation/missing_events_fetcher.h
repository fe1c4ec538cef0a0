#pragma once
// The seam between receiving a transaction and fetching what it lacks (federation.md §6): when a received
// PDU waits as an outlier because its prev events are unknown here (Received::missing_prev_events), the
// transaction receiver asks the origin for them through this interface, outside any database job, and
// hands what comes back to the event pipeline before the waiting events. The federation client implements
// it with POST /get_missing_events, falling back to GET /state_ids + /event when the gap is too large.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/ids.h"
#include "core/task.h"

namespace herald::homeserver {

class MissingEventsFetcher {
 public:
  virtual ~MissingEventsFetcher() = default;
  // The events of `room` between `earliest` (what this server has: its forward extremities) and `latest`
  // (the events that wait), at most `limit`, oldest first, as PDUs. Empty when the origin has none or
  // cannot be reached; unverified: every PDU still goes through the event pipeline.
  virtual Task<std::vector<nlohmann::json>> get_missing_events(std::string origin, RoomId room,
                                                               std::vector<std::string> earliest,
                                                               std::vector<std::string> latest, int limit) = 0;
};

// Until the federation client exists: fetches nothing, so the waiting events stay outliers (stored, not in
// the timeline) until their prev events arrive some other way, e.g. in a later transaction.
class NullMissingEventsFetcher final : public MissingEventsFetcher {
 public:
  Task<std::vector<nlohmann::json>> get_missing_events(std::string, RoomId, std::vector<std::string>,
                                                       std::vector<std::string>, int) override {
    co_return std::vector<nlohmann::json>{};
  }
};

}  // namespace herald::homeserver
