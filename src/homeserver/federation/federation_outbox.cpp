#include "homeserver/federation/federation_outbox.h"

#include <set>

#include "core/clock.h"
#include "federation/transaction_sender.h"
#include "homeserver/rooms/room_registry.h"
#include "storage/federation_outbound_store.h"

namespace herald::homeserver {

namespace {
// The server part of a user ID ("@a:b.example:8448" -> "b.example:8448"); empty when there is none.
std::string_view server_of(std::string_view user_id) {
  const auto colon = user_id.find(':');
  return colon == std::string_view::npos ? std::string_view() : user_id.substr(colon + 1);
}
}  // namespace

std::vector<std::string> FederationOutbox::destinations(const Room& room, const events::Event& event,
                                                        const std::string& self) {
  std::set<std::string_view> servers;
  for (const auto& [server, count] : room.joined_servers) servers.insert(server);
  if (event.type() == "m.room.member" && event.state_key()) servers.insert(server_of(*event.state_key()));
  std::vector<std::string> out;
  for (const auto& s : servers)
    if (!s.empty() && s != self) out.emplace_back(s);
  return out;
}

std::vector<std::string> FederationOutbox::enqueue(storage::sql::Connection& c, const Room& room,
                                                   const events::Event& event) {
  std::vector<std::string> to = destinations(room, event, server_name_);
  if (!to.empty()) storage::federation_outbound_store::enqueue(c, event.event_id(), to, clock_.now_ms());
  return to;
}

void FederationOutbox::committed(std::vector<std::string> destinations) { sender_.wake(std::move(destinations)); }

}  // namespace herald::homeserver
