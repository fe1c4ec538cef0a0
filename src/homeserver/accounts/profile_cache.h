#pragma once
// displayname/avatar_url of local users as member events carry them, so a membership change can be
// built on an io thread without a database read. Filled and invalidated only on the database writer
// thread (where profiles change), so it never holds a profile older than a committed change; cleared
// when a write fails.
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace herald::homeserver {

struct Profile {  // empty for an unknown user: member events then carry no profile
  std::optional<std::string> displayname;
  std::optional<std::string> avatar_url;
};

class ProfileCache {
 public:
  explicit ProfileCache(std::size_t capacity = 100'000) : capacity_(capacity) {}

  std::optional<Profile> find(const std::string& user_id) const;
  void put(const std::string& user_id, Profile profile);
  void erase(const std::string& user_id);
  void clear();

 private:
  mutable std::mutex mutex_;
  std::size_t capacity_;
  std::unordered_map<std::string, Profile> profiles_;
};

}  // namespace herald::homeserver
