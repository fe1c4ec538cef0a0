#pragma once
// Whose device lists a user must re-fetch (client-server.md "Tracking the device list for a user"):
// users who share a room with them and whose devices or keys changed, or who started sharing one;
// and users who stopped sharing any room. Read inside a Database job.
#include <cstdint>
#include <set>
#include <string>

namespace herald::storage::sql {
class Connection;
}

namespace herald::homeserver {

struct DeviceListDelta {
  std::set<std::string> changed, left;
};

// Changes in (since, to] as seen by `user`.
DeviceListDelta device_list_delta(storage::sql::Connection& c, const std::string& user, std::int64_t since, std::int64_t to);
// Everyone joined to a room `user` is joined to, `user` included.
std::set<std::string> users_sharing_a_room(storage::sql::Connection& c, const std::string& user);

}  // namespace herald::homeserver
