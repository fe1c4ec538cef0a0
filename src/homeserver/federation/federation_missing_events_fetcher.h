#pragma once
// The MissingEventsFetcher over federation (federation.md §6): POST /_matrix/federation/v1/get_missing_events
// to the origin; when that fails (no answer, an error, a malformed reply), a walk back from the waiting
// events' prev_events with GET /state_ids (the origin names the prev events' auth chain, so we learn it
// has them) and GET /event, one event at a time, until the known events (`earliest`) or `limit`.
// Everything fetched is unverified: the event pipeline checks each PDU.
#include "homeserver/federation/missing_events_fetcher.h"

namespace herald::federation {
class FederationClient;
}

namespace herald::homeserver {

class FederationMissingEventsFetcher final : public MissingEventsFetcher {
 public:
  explicit FederationMissingEventsFetcher(federation::FederationClient& client) : client_(client) {}

  Task<std::vector<nlohmann::json>> get_missing_events(std::string origin, RoomId room, std::vector<std::string> earliest,
                                                       std::vector<std::string> latest, int limit) override;

 private:
  Task<std::vector<nlohmann::json>> by_event(std::string origin, RoomId room, std::vector<std::string> earliest,
                                             std::vector<std::string> latest, int limit);
  federation::FederationClient& client_;
};

}  // namespace herald::homeserver
