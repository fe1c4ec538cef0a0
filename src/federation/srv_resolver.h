#pragma once
// DNS SRV lookups for server discovery (`_matrix-fed._tcp.<host>`, `_matrix._tcp.<host>`), behind an
// interface so discovery tests can hand in their own records.
#include <cstdint>
#include <string>
#include <vector>

#include "core/task.h"

namespace herald {
class WorkerPool;
}

namespace herald::federation {

struct SrvRecord {
  std::uint16_t priority = 0;
  std::uint16_t weight = 0;
  std::uint16_t port = 0;
  std::string target;  // without the trailing dot; "." (service explicitly absent) becomes empty
};

class SrvResolver {
 public:
  virtual ~SrvResolver() = default;
  // The records of `name`; empty when there are none or the lookup failed (discovery then falls back).
  virtual Task<std::vector<SrvRecord>> lookup(std::string name) = 0;
  // True when `name` is a CNAME (an SRV target must not be one, RFC 2782). A resolver that cannot tell
  // answers false, and discovery then follows the target.
  virtual Task<bool> is_cname(std::string name) {
    (void)name;
    co_return false;
  }
};

// glibc's libresolv (res_nquery with a per-call resolver state), run on a worker thread: the lookup
// blocks, so it never runs on an io thread.
class SystemSrvResolver final : public SrvResolver {
 public:
  explicit SystemSrvResolver(WorkerPool& workers) : workers_(workers) {}
  Task<std::vector<SrvRecord>> lookup(std::string name) override;
  // An A query for `name`: a CNAME record in its answer says so. A failed query answers false.
  Task<bool> is_cname(std::string name) override;

 private:
  WorkerPool& workers_;
};

// Parses a DNS answer message (as res_nquery returns it) into its SRV records. Exposed for tests.
std::vector<SrvRecord> parse_srv_answer(const unsigned char* message, int length);
// True when a DNS answer message has a CNAME record in its answer section. Exposed for tests.
bool answer_has_cname(const unsigned char* message, int length);

}  // namespace herald::federation
