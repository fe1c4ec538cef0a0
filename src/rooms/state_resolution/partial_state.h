#pragma once
// The state a resolution builds up: its changes over a base map that is never copied (the unconflicted
// state of a 10,000-member room is large; the changes are as small as the fork).
#include <string>

#include "rooms/state_resolution.h"

namespace herald::rooms::state_resolution {

class PartialState {
 public:
  explicit PartialState(const StateMap* base = nullptr) : base_(base) {}

  const std::string* find(const StateKey& key) const {
    if (auto it = changes_.find(key); it != changes_.end()) return &it->second;
    if (base_) {
      if (auto it = base_->find(key); it != base_->end()) return &it->second;
    }
    return nullptr;
  }
  void set(const StateKey& key, const std::string& event_id) { changes_[key] = event_id; }
  const StateMap& changes() const { return changes_; }

 private:
  const StateMap* base_;
  StateMap changes_;
};

}  // namespace herald::rooms::state_resolution
