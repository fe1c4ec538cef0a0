#include "homeserver/federation/federation_leaver.h"

#include <optional>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/log.h"
#include "core/strings.h"
#include "events/room_version.h"
#include "federation/federation_client.h"
#include "homeserver/membership/membership_from_template.h"
#include "http/client.h"

namespace herald::homeserver {

namespace outbound_leave {

AnswerKind answer_kind(int status) {
  if (status >= 200 && status < 300) return AnswerKind::ok;
  if (status == 408 || status == 429 || status >= 500) return AnswerKind::retry;
  return AnswerKind::refused;
}

bool wants_v1(int status, const std::string& errcode) {
  return status == 404 || (status == 400 && errcode == "M_UNRECOGNIZED");
}

}  // namespace outbound_leave

namespace {
std::string errcode_of(const std::string& body) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("errcode") && j["errcode"].is_string()) return j["errcode"].get<std::string>();
  return {};
}

LeaveResult result_of(outbound_leave::AnswerKind kind) {
  return kind == outbound_leave::AnswerKind::retry ? LeaveResult::unreachable : LeaveResult::refused;
}
}  // namespace

Task<LeaveResult> FederationLeaver::send_leave(RemoteLeave leave) {
  bool unreachable = false;
  for (const std::string& server : leave.servers) {
    if (server == server_name_) continue;
    const LeaveResult result = co_await leave_through(server, leave);
    if (result == LeaveResult::sent) co_return result;
    if (result == LeaveResult::unreachable) unreachable = true;
  }
  // One server that may still take it is reason enough to try again later.
  co_return unreachable ? LeaveResult::unreachable : LeaveResult::refused;
}

Task<LeaveResult> FederationLeaver::leave_through(std::string server, RemoteLeave leave) {
  auto send = [&](http::Method method, std::string uri, std::optional<std::string> body) -> Task<std::optional<http::ClientResponse>> {
    federation::FederationRequest request;
    request.method = method;
    request.destination = server;
    request.uri = std::move(uri);
    request.body = std::move(body);
    request.timeout = timeout_;
    try {
      http::ClientResponse res = co_await client_.send(std::move(request));
      co_return res;
    } catch (const federation::FederationError& e) {
      log::warn("leave not sent room={} user={} destination={}: {}", leave.room_id, leave.user_id, server, e.what());
      co_return std::nullopt;
    }
  };
  const auto refused = [&](const std::string& step, const http::ClientResponse& res) {
    log::info("leave {} room={} user={} destination={} status={} errcode={}", step, leave.room_id, leave.user_id,
              server, res.status, errcode_of(res.body));
  };

  std::string make_uri = "/_matrix/federation/v1/make_leave/" + strings::percent_encode(leave.room_id) + "/" +
                         strings::percent_encode(leave.user_id);
  std::optional<http::ClientResponse> made = co_await send(http::Method::get, std::move(make_uri), std::nullopt);
  if (!made) co_return LeaveResult::unreachable;
  if (const auto kind = outbound_leave::answer_kind(made->status); kind != outbound_leave::AnswerKind::ok) {
    refused("template not given", *made);
    co_return result_of(kind);
  }

  // The template: the room's version, then the event checked, completed and signed here.
  const nlohmann::json answer = nlohmann::json::parse(made->body, nullptr, false);
  const events::RoomVersion* version = nullptr;
  if (answer.is_object() && answer.contains("room_version") && answer["room_version"].is_string()) {
    version = events::find_room_version(answer["room_version"].get<std::string>());
  }
  // make_leave predates room versions: a server that names none speaks of version 1.
  if (answer.is_object() && !answer.contains("room_version")) version = events::find_room_version("1");
  if (!version || !answer.contains("event")) {
    log::warn("leave template unusable room={} user={} destination={}: no known room version or event", leave.room_id,
              leave.user_id, server);
    co_return LeaveResult::refused;
  }
  TemplateEvent event;
  try {
    const events::Signer signer{server_name_, key_};
    nlohmann::json extra = nlohmann::json::object();
    if (leave.reason) extra["reason"] = *leave.reason;
    event = membership_from_template(*version, answer["event"], leave.room_id, leave.user_id, "leave", extra,
                                     clock_.now_ms(), signer);
  } catch (const InvalidTemplate& e) {
    log::warn("leave template refused room={} user={} destination={}: {}", leave.room_id, leave.user_id, server, e.what());
    co_return LeaveResult::refused;
  }

  const std::string tail = strings::percent_encode(leave.room_id) + "/" + strings::percent_encode(event.event_id);
  const std::string body = event.pdu.dump();
  std::string v2_uri = "/_matrix/federation/v2/send_leave/" + tail;
  std::optional<http::ClientResponse> sent = co_await send(http::Method::put, std::move(v2_uri), body);
  if (sent && outbound_leave::wants_v1(sent->status, errcode_of(sent->body))) {
    std::string v1_uri = "/_matrix/federation/v1/send_leave/" + tail;
    sent = co_await send(http::Method::put, std::move(v1_uri), body);
  }
  if (!sent) co_return LeaveResult::unreachable;
  if (const auto kind = outbound_leave::answer_kind(sent->status); kind != outbound_leave::AnswerKind::ok) {
    refused("not taken", *sent);
    co_return result_of(kind);
  }
  log::info("leave sent room={} user={} destination={} event={}", leave.room_id, leave.user_id, server, event.event_id);
  co_return LeaveResult::sent;
}

}  // namespace herald::homeserver
