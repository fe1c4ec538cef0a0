#include "homeserver/federation_api/federation_api.h"

#include "homeserver/federation_api/inbound_authenticator.h"

namespace herald::homeserver {
namespace {

Task<http::Response> run_admitted(FederationHandler fn, http::Request req, FederationApi& api) {
  std::string origin = co_await api.gate.admit(req);
  co_return co_await fn(std::move(req), api, std::move(origin));
}

}  // namespace

http::Handler bind_federation(FederationHandler fn, FederationApi& api) {
  return [fn, &api](http::Request req) { return run_admitted(fn, std::move(req), api); };
}

void add_federation_routes(http::Router& router, FederationApi& api) {
  add_transaction_routes(router, api);
  add_retrieval_routes(router, api);
  add_federation_query_routes(router, api);
  add_membership_routes(router, api);
  add_invite_routes(router, api);
  add_third_party_invite_routes(router, api);
}

}  // namespace herald::homeserver
