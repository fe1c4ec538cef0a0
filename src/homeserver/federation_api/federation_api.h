#pragma once
// The Server-Server API endpoints this server answers for other servers: what their handlers use, and
// the function that registers their routes. Every route runs FederationGate::admit first.
#include <string>

#include "core/task.h"
#include "http/router.h"

namespace herald {
class Clock;
}

namespace herald::homeserver {

class AccountService;
class FederationGate;
class FederationRoomReader;
class RemoteInvites;
class ThirdPartyInvites;
class RoomService;
class TransactionReceiver;

struct FederationApi {
  std::string server_name;
  FederationGate& gate;
  TransactionReceiver& transactions;
  FederationRoomReader& reader;
  RoomService& rooms;
  AccountService& accounts;
  RemoteInvites& invites;
  const Clock& clock;
  // Email invites made here, exchanged for users of other servers.
  ThirdPartyInvites& third_party;
};

// A handler of an admitted request: `origin` is the authenticated server.
using FederationHandler = Task<http::Response> (*)(http::Request, FederationApi&, std::string origin);
http::Handler bind_federation(FederationHandler fn, FederationApi& api);

void add_federation_routes(http::Router& router, FederationApi& api);
void add_transaction_routes(http::Router& router, FederationApi& api);
void add_retrieval_routes(http::Router& router, FederationApi& api);
void add_federation_query_routes(http::Router& router, FederationApi& api);
void add_membership_routes(http::Router& router, FederationApi& api);
void add_invite_routes(http::Router& router, FederationApi& api);
void add_third_party_invite_routes(http::Router& router, FederationApi& api);

}  // namespace herald::homeserver
