#pragma once
// The persistent queue of signed onbind callbacks (identity.md §7): a job is written in the same transaction
// as the binding that caused it, and deleted only once the homeserver answered 200.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace herald::storage::sql {
class Connection;
}

namespace herald::identity {

struct OnbindJob {
  std::int64_t id = 0;
  std::string mxid;
  std::string body;                        // the signed JSON body, ready to POST
  std::vector<std::string> invite_tokens;  // deleted from `invites` after delivery
  std::int64_t attempts = 0;
  std::int64_t next_attempt_ts = 0;
};

namespace onbind_store {

void enqueue(storage::sql::Connection& c, const OnbindJob& job, std::int64_t now_ms);
// Jobs due at now_ms, oldest first.
std::vector<OnbindJob> due(storage::sql::Connection& c, std::int64_t now_ms, int limit);
// The earliest next_attempt_ts of any job, if there is one.
std::optional<std::int64_t> next_due(storage::sql::Connection& c);
void reschedule(storage::sql::Connection& c, std::int64_t id, std::int64_t attempts, std::int64_t next_attempt_ts,
                const std::string& error);
void complete(storage::sql::Connection& c, const OnbindJob& job);
std::int64_t count(storage::sql::Connection& c);

}  // namespace onbind_store
}  // namespace herald::identity
