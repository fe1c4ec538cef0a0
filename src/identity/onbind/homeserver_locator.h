#pragma once
// Where a homeserver named by a server name answers HTTP: the operator's `homeservers` map first (which may
// name private addresses), otherwise federation server discovery over HTTPS (federation.md §2: IP literal or
// explicit port, then /.well-known/matrix/server, then port 8448; SRV records are not consulted yet).
#include <map>
#include <string>

#include "core/task.h"

namespace herald::http {
class Client;
}

namespace herald::identity {

struct HomeserverTarget {
  std::string base_url;  // without a trailing slash
  bool allow_private_addresses = false;
};

class HomeserverLocator {
 public:
  HomeserverLocator(std::map<std::string, std::string> configured, http::Client& client);
  // Throws MatrixError(M_INVALID_PARAM) for a malformed server name.
  Task<HomeserverTarget> locate(std::string server_name);

 private:
  std::map<std::string, std::string> configured_;
  http::Client& client_;
};

}  // namespace herald::identity
