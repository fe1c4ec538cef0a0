#include "federation/srv_resolver.h"

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>

#include <array>
#include <cstring>

#include "core/log.h"
#include "core/worker_pool.h"

namespace herald::federation {
namespace {

using Answer = std::array<unsigned char, 8192>;

// One query with a resolver state of its own (so worker threads share nothing): the answer's length,
// or -1 when there is none. Blocks.
int query_dns(const std::string& name, ns_type type, Answer& answer) {
  struct __res_state state;
  std::memset(&state, 0, sizeof state);
  if (res_ninit(&state) != 0) return -1;
  state.retrans = 2;  // seconds per try
  state.retry = 2;
  const int length = res_nquery(&state, name.c_str(), ns_c_in, type, answer.data(), static_cast<int>(answer.size()));
  res_nclose(&state);
  return length;
}

}  // namespace

std::vector<SrvRecord> parse_srv_answer(const unsigned char* message, int length) {
  std::vector<SrvRecord> out;
  ns_msg handle;
  if (ns_initparse(message, length, &handle) != 0) return out;
  const int count = ns_msg_count(handle, ns_s_an);
  for (int i = 0; i < count; ++i) {
    ns_rr rr;
    if (ns_parserr(&handle, ns_s_an, i, &rr) != 0) continue;
    if (ns_rr_type(rr) != ns_t_srv || ns_rr_rdlen(rr) < 7) continue;
    const unsigned char* data = ns_rr_rdata(rr);
    SrvRecord record;
    record.priority = static_cast<std::uint16_t>(ns_get16(data));
    record.weight = static_cast<std::uint16_t>(ns_get16(data + 2));
    record.port = static_cast<std::uint16_t>(ns_get16(data + 4));
    std::array<char, NS_MAXDNAME> name{};
    if (ns_name_uncompress(ns_msg_base(handle), ns_msg_end(handle), data + 6, name.data(), name.size()) < 0) continue;
    record.target = name.data();
    while (!record.target.empty() && record.target.back() == '.') record.target.pop_back();
    out.push_back(std::move(record));
  }
  return out;
}

bool answer_has_cname(const unsigned char* message, int length) {
  ns_msg handle;
  if (ns_initparse(message, length, &handle) != 0) return false;
  const int count = ns_msg_count(handle, ns_s_an);
  for (int i = 0; i < count; ++i) {
    ns_rr rr;
    if (ns_parserr(&handle, ns_s_an, i, &rr) == 0 && ns_rr_type(rr) == ns_t_cname) return true;
  }
  return false;
}

Task<bool> SystemSrvResolver::is_cname(std::string name) {
  auto query = [name]() -> bool {
    Answer answer{};
    const int length = query_dns(name, ns_t_a, answer);
    return length > 0 && answer_has_cname(answer.data(), length);
  };
  const bool cname = co_await workers_.run(std::move(query));
  co_return cname;
}

Task<std::vector<SrvRecord>> SystemSrvResolver::lookup(std::string name) {
  auto query = [name]() -> std::vector<SrvRecord> {
    Answer answer{};
    const int length = query_dns(name, ns_t_srv, answer);
    if (length <= 0) return {};
    return parse_srv_answer(answer.data(), length);
  };
  auto records = co_await workers_.run(std::move(query));
  log::debug("srv lookup name={} records={}", name, records.size());
  co_return records;
}

}  // namespace herald::federation
