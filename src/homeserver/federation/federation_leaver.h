#pragma once
// A local user's leave sent through a resident server (federation.md §8): GET
// /_matrix/federation/v1/make_leave for a template, membership_from_template to check, complete and sign
// it, then PUT /_matrix/federation/v2/send_leave (v1 when the server does not know v2). The servers are
// asked in order until one takes the leave; what each answer means for retrying is `answer_kind`.
#include <chrono>
#include <string>

#include "homeserver/membership/remote_leaver.h"

namespace herald {
class Clock;
namespace crypto {
class SigningKey;
}
}  // namespace herald
namespace herald::federation {
class FederationClient;
}

namespace herald::homeserver {

namespace outbound_leave {
enum class AnswerKind { ok, retry, refused };
// 2xx: ok. 408, 429 and 5xx: the server is there but not able now, retry. Any other status: refused.
AnswerKind answer_kind(int status);
// Whether a send_leave v2 answer says the server only has v1: 404, or 400 M_UNRECOGNIZED.
bool wants_v1(int status, const std::string& errcode);
}  // namespace outbound_leave

class FederationLeaver final : public RemoteLeaver {
 public:
  FederationLeaver(federation::FederationClient& client, std::string server_name, const crypto::SigningKey& key,
                   const Clock& clock, std::chrono::milliseconds timeout = std::chrono::seconds(30))
      : client_(client), server_name_(std::move(server_name)), key_(key), clock_(clock), timeout_(timeout) {}

  Task<LeaveResult> send_leave(RemoteLeave leave) override;

 private:
  // One server: sent, refused (by this server) or unreachable.
  Task<LeaveResult> leave_through(std::string server, RemoteLeave leave);

  federation::FederationClient& client_;
  std::string server_name_;
  const crypto::SigningKey& key_;
  const Clock& clock_;
  std::chrono::milliseconds timeout_;
};

}  // namespace herald::homeserver
