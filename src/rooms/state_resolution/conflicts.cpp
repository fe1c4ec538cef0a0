#include "rooms/state_resolution/conflicts.h"

#include <algorithm>

namespace herald::rooms::state_resolution {
namespace {

enum class MissingKey { conflicts, ignored };

// One merge walk over the sorted maps: linear in the total size, however large the room.
Conflicts separate(const std::vector<StateMap>& state_sets, MissingKey missing) {
  Conflicts out;
  out.conflicted_by_set.resize(state_sets.size());
  std::vector<StateMap::const_iterator> at;
  at.reserve(state_sets.size());
  for (const StateMap& set : state_sets) at.push_back(set.begin());
  std::vector<std::size_t> holders;
  std::vector<std::string> ids;
  for (;;) {
    const StateKey* smallest = nullptr;
    for (std::size_t i = 0; i < at.size(); ++i) {
      if (at[i] != state_sets[i].end() && (!smallest || at[i]->first < *smallest)) smallest = &at[i]->first;
    }
    if (!smallest) break;
    const StateKey& key = *smallest;
    holders.clear();
    for (std::size_t i = 0; i < at.size(); ++i) {
      if (at[i] != state_sets[i].end() && at[i]->first == key) holders.push_back(i);
    }
    const std::string& first_id = at[holders.front()]->second;
    const bool agree = std::all_of(holders.begin(), holders.end(),
                                   [&](std::size_t h) { return at[h]->second == first_id; });
    const bool everywhere = holders.size() == state_sets.size();
    if (agree && (everywhere || missing == MissingKey::ignored)) {
      out.unconflicted.emplace_hint(out.unconflicted.end(), key, first_id);
    } else {
      ids.clear();
      for (std::size_t h : holders) {
        out.conflicted_by_set[h].push_back(at[h]->second);
        ids.push_back(at[h]->second);
      }
      std::sort(ids.begin(), ids.end());
      ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
      out.conflicted.emplace_hint(out.conflicted.end(), key, ids);
    }
    for (std::size_t h : holders) ++at[h];
  }
  return out;
}

}  // namespace

Conflicts separate_v2(const std::vector<StateMap>& state_sets) { return separate(state_sets, MissingKey::conflicts); }

Conflicts separate_v1(const std::vector<StateMap>& state_sets) { return separate(state_sets, MissingKey::ignored); }

}  // namespace herald::rooms::state_resolution
