// The retrieval endpoints other servers use to fill gaps (federation.md §6): /event, /state, /state_ids,
// /event_auth, /get_missing_events and /backfill. Each answers only what the requesting server may see
// (FederationRoomReader: server ACL, history visibility for servers).
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/json_body.h"
#include "core/matrix_error.h"
#include "homeserver/client_api/path_params.h"
#include "homeserver/federation_api/federation_api.h"
#include "homeserver/rooms/federation_room_reader.h"

namespace herald::homeserver {
namespace {

std::string required_query(const http::Request& req, const char* name) {
  auto value = req.query_param(name);
  if (!value || value->empty()) throw MatrixError(Errc::missing_param, std::string("Missing query parameter: ") + name);
  return *value;
}

std::vector<std::string> string_list(const nlohmann::json& body, const char* key) {
  const nlohmann::json* list = json_body::optional_array(body, key);
  if (!list) throw MatrixError(Errc::missing_param, std::string("Missing ") + key);
  std::vector<std::string> out;
  for (const auto& v : *list) {
    if (!v.is_string()) throw MatrixError(Errc::bad_json, std::string(key) + " must list event IDs");
    out.push_back(v.get<std::string>());
  }
  return out;
}

nlohmann::json transaction_shaped(const FederationApi& api, std::vector<nlohmann::json> pdus) {
  return {{"origin", api.server_name}, {"origin_server_ts", api.clock.now_ms()}, {"pdus", std::move(pdus)}};
}

Task<http::Response> get_event(http::Request req, FederationApi& api, std::string origin) {
  std::string event_id = req.path_param("eventId");
  const auto event = co_await api.reader.event(event_id, origin);
  if (!event) throw MatrixError(Errc::not_found, "Unknown event " + event_id);
  if (!event->visible) throw MatrixError(Errc::forbidden, "Host may not see this event");
  std::vector<nlohmann::json> pdus{event->pdu};
  nlohmann::json body = transaction_shaped(api, std::move(pdus));
  co_return http::Response::json(200, body);
}

Task<http::Response> get_state(http::Request req, FederationApi& api, std::string origin) {
  const RoomId room = room_id_param(req);
  std::string event_id = required_query(req, "event_id");
  const StateAtEvent state = co_await api.reader.state_before(room, std::move(event_id), std::move(origin), true);
  nlohmann::json body = {{"pdus", state.state}, {"auth_chain", state.auth_chain}};
  co_return http::Response::json(200, body);
}

Task<http::Response> get_state_ids(http::Request req, FederationApi& api, std::string origin) {
  const RoomId room = room_id_param(req);
  std::string event_id = required_query(req, "event_id");
  const StateAtEvent state = co_await api.reader.state_before(room, std::move(event_id), std::move(origin), false);
  nlohmann::json body = {{"pdu_ids", state.state_ids}, {"auth_chain_ids", state.auth_chain_ids}};
  co_return http::Response::json(200, body);
}

Task<http::Response> get_event_auth(http::Request req, FederationApi& api, std::string origin) {
  const RoomId room = room_id_param(req);
  std::string event_id = req.path_param("eventId");
  std::vector<nlohmann::json> chain = co_await api.reader.auth_chain(room, std::move(event_id), std::move(origin));
  nlohmann::json body = {{"auth_chain", std::move(chain)}};
  co_return http::Response::json(200, body);
}

Task<http::Response> post_get_missing_events(http::Request req, FederationApi& api, std::string origin) {
  const RoomId room = room_id_param(req);
  const nlohmann::json body = json_body::parse_object(req.body);
  std::vector<std::string> earliest = string_list(body, "earliest_events");
  std::vector<std::string> latest = string_list(body, "latest_events");
  // Synapse caps the limit at 20; so do we.
  const std::int64_t limit = std::clamp<std::int64_t>(json_body::optional_int(body, "limit").value_or(10), 0, 20);
  const std::int64_t min_depth = json_body::optional_int(body, "min_depth").value_or(0);
  std::vector<nlohmann::json> events = co_await api.reader.missing_events(room, std::move(origin), std::move(earliest), std::move(latest),
                                                                          static_cast<std::size_t>(limit), min_depth);
  nlohmann::json answer = {{"events", std::move(events)}};
  co_return http::Response::json(200, answer);
}

Task<http::Response> get_backfill(http::Request req, FederationApi& api, std::string origin) {
  const RoomId room = room_id_param(req);
  std::vector<std::string> from = req.query_params("v");
  if (from.empty()) throw MatrixError(Errc::missing_param, "Missing query parameter: v");
  required_query(req, "limit");
  const std::int64_t limit = int_query_param(req, "limit", 10, 0, 100);
  std::vector<nlohmann::json> pdus = co_await api.reader.backfill(room, std::move(origin), std::move(from), static_cast<std::size_t>(limit));
  nlohmann::json body = transaction_shaped(api, std::move(pdus));
  co_return http::Response::json(200, body);
}

}  // namespace

void add_retrieval_routes(http::Router& router, FederationApi& api) {
  using http::Method;
  const std::string v1 = "/_matrix/federation/v1";
  router.add(Method::get, v1 + "/event/{eventId}", bind_federation(get_event, api));
  router.add(Method::get, v1 + "/state/{roomId}", bind_federation(get_state, api));
  router.add(Method::get, v1 + "/state_ids/{roomId}", bind_federation(get_state_ids, api));
  router.add(Method::get, v1 + "/event_auth/{roomId}/{eventId}", bind_federation(get_event_auth, api));
  router.add(Method::post, v1 + "/get_missing_events/{roomId}", bind_federation(post_get_missing_events, api));
  router.add(Method::get, v1 + "/backfill/{roomId}", bind_federation(get_backfill, api));
}

}  // namespace herald::homeserver
