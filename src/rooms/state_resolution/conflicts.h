#pragma once
// Splitting the state sets into what they agree on and what they do not.
#include <string>
#include <vector>

#include "rooms/state_resolution.h"

namespace herald::rooms::state_resolution {

struct Conflicts {
  StateMap unconflicted;
  // Per conflicted key, the distinct event IDs the sets hold for it (sorted).
  std::map<StateKey, std::vector<std::string>> conflicted;
  // Per input state set, its event IDs at conflicted keys.
  std::vector<std::vector<std::string>> conflicted_by_set;
};

// v2 (§12): a key is unconflicted when every set holds it with the same event; a key that some set
// lacks is conflicted.
Conflicts separate_v2(const std::vector<StateMap>& state_sets);
// v1: a conflict is two sets holding different events for a key; a key some sets lack is not one.
Conflicts separate_v1(const std::vector<StateMap>& state_sets);

}  // namespace herald::rooms::state_resolution
