#pragma once
// Email validation sessions (identity.md §5), one per (medium, address, client_secret).
#include <cstdint>
#include <optional>
#include <string>

namespace herald::storage::sql {
class Connection;
}

namespace herald::identity {

struct ValidationSession {
  std::string sid;
  std::string medium;
  std::string address;
  std::string client_secret;
  std::string token;
  std::int64_t send_attempt = 0;
  std::optional<std::string> next_link;
  std::int64_t modified_ts = 0;
  std::optional<std::int64_t> validated_ts;
};

namespace session_store {

std::optional<ValidationSession> find(storage::sql::Connection& c, const std::string& medium, const std::string& address,
                                      const std::string& client_secret);
std::optional<ValidationSession> find_by_sid(storage::sql::Connection& c, const std::string& sid);
void insert(storage::sql::Connection& c, const ValidationSession& s);
void update_send_attempt(storage::sql::Connection& c, const std::string& sid, std::int64_t send_attempt,
                         const std::optional<std::string>& next_link, std::int64_t now_ms);
void mark_validated(storage::sql::Connection& c, const std::string& sid, std::int64_t now_ms);

}  // namespace session_store
}  // namespace herald::identity
