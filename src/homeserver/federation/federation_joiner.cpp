#include "homeserver/federation/federation_joiner.h"

#include <set>
#include <stdexcept>

#include "core/clock.h"
#include "core/log.h"
#include "core/matrix_error.h"
#include "core/strings.h"
#include "core/worker_pool.h"
#include "events/event_builder.h"
#include "events/room_version.h"
#include "federation/federation_client.h"
#include "federation/remote_key_store.h"
#include "homeserver/federation/resident_servers.h"
#include "homeserver/membership/membership_from_template.h"
#include "homeserver/rooms/room_service.h"
#include "homeserver/rooms/room_snapshot.h"
#include "http/client.h"

namespace herald::homeserver {

namespace outbound_join {

Template check_template(const nlohmann::json& answer, const std::string& room_id, const std::string& user) {
  if (!answer.is_object()) throw std::runtime_error("the make_join answer is not an object");
  std::string version = "1";
  if (auto v = answer.find("room_version"); v != answer.end()) {
    if (!v->is_string()) throw std::runtime_error("room_version is not a string");
    version = v->get<std::string>();
  }
  if (!events::find_room_version(version)) throw std::runtime_error("the room's version " + version + " is not supported here");
  const auto event = answer.find("event");
  if (event == answer.end()) throw std::runtime_error("the make_join answer has no event");
  check_membership_template(*event, room_id, user, "join");
  return Template{version, *event};
}

JoinAnswer parse_join_answer(const nlohmann::json& answer, bool v1) {
  const nlohmann::json* body = &answer;
  if (v1) {
    if (!answer.is_array() || answer.size() != 2 || !answer[1].is_object()) throw std::runtime_error("the v1 send_join answer is not [200, {...}]");
    body = &answer[1];
  }
  if (!body->is_object()) throw std::runtime_error("the send_join answer is not an object");
  auto state = body->find("state");
  auto chain = body->find("auth_chain");
  if (state == body->end() || !state->is_array()) throw std::runtime_error("the send_join answer has no state list");
  if (chain == body->end() || !chain->is_array()) throw std::runtime_error("the send_join answer has no auth_chain list");
  JoinAnswer out{*state, *chain, nullptr};
  if (auto e = body->find("event"); e != body->end() && e->is_object()) out.event = *e;
  return out;
}

nlohmann::json with_resident_signatures(const nlohmann::json& sent, const nlohmann::json& answered) {
  if (!answered.is_object() || !answered.contains("signatures") || !answered["signatures"].is_object()) return sent;
  nlohmann::json a = answered, s = sent;
  for (auto* j : {&a, &s}) {
    j->erase("signatures");
    j->erase("unsigned");
  }
  if (a != s) return sent;
  nlohmann::json out = sent;
  for (const auto& [server, sigs] : answered["signatures"].items()) {
    if (!out["signatures"].contains(server) && sigs.is_object()) out["signatures"][server] = sigs;
  }
  return out;
}

}  // namespace outbound_join

namespace {

// The query naming every room version this server can join.
std::string version_query() {
  std::string q;
  for (const auto& v : events::all_room_versions()) q += (q.empty() ? "?ver=" : "&ver=") + std::string(v.id);
  return q;
}

constexpr std::size_t kMaxJoinAnswerBytes = 256u << 20;  // the state of a very large room

}  // namespace

FederationJoiner::FederationJoiner(federation::FederationClient& client, federation::RemoteKeyStore& keys, RoomService& rooms,
                                   WorkerPool& workers, const crypto::SigningKey& key, std::string server_name,
                                   const Clock& clock)
    : client_(client), keys_(keys), rooms_(rooms), workers_(workers), key_(key), server_name_(std::move(server_name)),
      clock_(clock) {}

Task<std::string> FederationJoiner::join(RemoteJoin join) {
  const std::vector<std::string> servers = resident_servers::to_try(join.servers, server_name_);
  const resident_servers::Attempt attempt{"join", join.room.str(), join.user.str()};
  std::function<Task<std::string>(const std::string&)> through = [this, &join](const std::string& server) {
    return join_through(server, join);
  };
  std::string event_id = co_await resident_servers::first_to_accept(attempt, servers, through);
  co_return event_id;
}

Task<std::string> FederationJoiner::join_through(const std::string& server, const RemoteJoin& join) {
  const std::string room_id = join.room.str();
  const std::string user = join.user.str();
  const std::string path_room = strings::percent_encode(room_id);
  std::string make_uri = "/_matrix/federation/v1/make_join/" + path_room + "/" + strings::percent_encode(user) + version_query();
  const nlohmann::json answer = co_await client_.get_json(server, std::move(make_uri));
  const outbound_join::Template tmpl = outbound_join::check_template(answer, room_id, user);
  const events::RoomVersion& version = *events::find_room_version(tmpl.room_version);
  const events::Signer signer{server_name_, key_};
  const TemplateEvent filled =
      membership_from_template(version, tmpl.event, room_id, user, "join", join.content, clock_.now_ms(), signer);
  events::EventPtr event = filled.event;
  const nlohmann::json& sent = filled.pdu;

  // send_join v2, or v1 when the resident does not have it.
  std::string tail = path_room + "/" + strings::percent_encode(event->event_id());
  federation::FederationRequest put;
  put.method = http::Method::put;
  put.destination = server;
  put.uri = "/_matrix/federation/v2/send_join/" + tail;
  put.body = sent.dump();
  put.response_limit = kMaxJoinAnswerBytes;
  put.timeout = std::chrono::minutes(5);
  federation::FederationRequest v1_put = put;
  v1_put.uri = "/_matrix/federation/v1/send_join/" + tail;
  http::ClientResponse res = co_await client_.send(std::move(put));
  bool v1 = false;
  if (res.status == 404 || (res.status == 400 && res.body.find("M_UNRECOGNIZED") != std::string::npos)) {
    res = co_await client_.send(std::move(v1_put));
    v1 = true;
  }
  if (res.status < 200 || res.status >= 300) {
    const nlohmann::json j = nlohmann::json::parse(res.body, nullptr, false);
    const std::string errcode = j.is_object() && j.contains("errcode") && j["errcode"].is_string() ? j["errcode"].get<std::string>() : "";
    throw federation::FederationError("send_join answered HTTP " + std::to_string(res.status), res.status, errcode);
  }

  // The answer can hold a large room's whole state: parsed and checked on a worker thread.
  std::string body = std::move(res.body);
  std::function<outbound_join::JoinAnswer()> parse = [&body, v1] {
    const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded()) throw std::runtime_error("the send_join answer is not JSON");
    return outbound_join::parse_join_answer(j, v1);
  };
  outbound_join::JoinAnswer joined = co_await workers_.run(parse);
  body.clear();
  const nlohmann::json final_pdu = outbound_join::with_resident_signatures(sent, joined.event);
  if (final_pdu != sent) event = events::event_from_pdu(version, event->event_id(), room_id, final_pdu.dump());
  co_await fetch_keys(version, joined);
  std::function<RoomSnapshot()> check = [&] {
    return check_room_snapshot(version, room_id, joined.state, joined.auth_chain, rooms_.server_keys());
  };
  RoomSnapshot snapshot = co_await workers_.run(check);
  for (const auto& r : snapshot.refused) log::info("remote join state event refused room={} server={} {}", room_id, server, r);
  const std::optional<std::int64_t> stored = co_await rooms_.join_from_snapshot(join.room, version, std::move(snapshot), event);
  if (!stored) {
    // Another local user's join got this server into the room first: join on its state here (the
    // resident already has this user joined; the new event changes nothing there).
    std::optional<std::string> reason;
    if (join.content.contains("reason") && join.content["reason"].is_string()) reason = join.content["reason"].get<std::string>();
    nlohmann::json extra = join.content;
    for (const char* k : {"reason", "displayname", "avatar_url", "membership"}) extra.erase(k);
    std::string local = co_await rooms_.set_membership(join.user, join.room, join.user, rooms::Membership::join, reason,
                                                       std::move(extra));
    co_return local;
  }
  co_return event->event_id();
}

Task<void> FederationJoiner::fetch_keys(const events::RoomVersion& version, const outbound_join::JoinAnswer& answer) {
  std::function<std::vector<SnapshotKey>()> list = [&] { return snapshot_keys(version, answer.state, answer.auth_chain); };
  const std::vector<SnapshotKey> needed = co_await workers_.run(list);
  std::set<std::string> servers;
  for (const auto& k : needed) {
    if (!rooms_.server_keys().verify_key(k.server, k.key_id, k.at_ms)) servers.insert(k.server);
  }
  for (const auto& server : servers) {
    if (server == server_name_) continue;
    try {
      co_await keys_.refetch(server);
    } catch (const std::exception& e) {
      // Its events then fail their signature check and are left out of the state, said in the log.
      log::info("remote join keys not fetched server={} error={}", server, e.what());
    }
  }
}

}  // namespace herald::homeserver
