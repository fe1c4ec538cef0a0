#pragma once
// Fan-out of local events to the other servers in their rooms (issue 14 item 5): every server with a
// joined member, and for a membership event also the target's server (an invited, kicked or banned user's
// server learns of it even when none of its users is joined). The rows go into the outbound queue
// (migration 0013) inside the event's write job; after the commit the transaction sender is woken.
#include <string>
#include <vector>

#include "homeserver/rooms/local_event_outbox.h"

namespace herald::federation {
class TransactionSender;
}
namespace herald {
class Clock;
}

namespace herald::homeserver {

class FederationOutbox final : public LocalEventOutbox {
 public:
  FederationOutbox(std::string server_name, federation::TransactionSender& sender, const Clock& clock)
      : server_name_(std::move(server_name)), sender_(sender), clock_(clock) {}

  // The servers `event` goes to, this server excluded, in name order.
  static std::vector<std::string> destinations(const Room& room, const events::Event& event, const std::string& self);

  std::vector<std::string> enqueue(storage::sql::Connection& c, const Room& room, const events::Event& event) override;
  void committed(std::vector<std::string> destinations) override;

 private:
  std::string server_name_;
  federation::TransactionSender& sender_;
  const Clock& clock_;
};

}  // namespace herald::homeserver
