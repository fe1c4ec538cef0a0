#include "homeserver/federation/federation_inviter.h"

#include <optional>
#include <stdexcept>

#include "core/log.h"
#include "core/matrix_error.h"
#include "core/strings.h"
#include "crypto/signed_json.h"
#include "events/redaction.h"
#include "events/room_version.h"
#include "federation/federation_client.h"
#include "federation/remote_key_store.h"
#include "http/client.h"

namespace herald::homeserver {

namespace outbound_invite {

namespace {
nlohmann::json without_signatures(const nlohmann::json& pdu) {
  nlohmann::json out = pdu;
  out.erase("signatures");
  out.erase("unsigned");
  return out;
}
}  // namespace

nlohmann::json countersigned(const events::RoomVersion& version, const nlohmann::json& sent, const nlohmann::json& answer,
                             const std::string& server, const std::map<std::string, std::string>& keys) {
  if (!answer.is_object()) throw std::runtime_error("the answer has no event object");
  if (without_signatures(answer) != without_signatures(sent)) throw std::runtime_error("the answer is not the invite sent");
  const auto sigs = answer.find("signatures");
  if (sigs == answer.end() || !sigs->is_object() || !sigs->contains(server) || !(*sigs)[server].is_object()) {
    throw std::runtime_error("the event carries no signature of " + server);
  }
  const nlohmann::json redacted = events::redact(answer, version);
  for (const auto& [key_id, sig] : (*sigs)[server].items()) {
    if (!sig.is_string()) continue;
    auto key = keys.find(key_id);
    if (key == keys.end() || !crypto::verify_json(redacted, server, key_id, key->second)) continue;
    nlohmann::json out = sent;
    out["signatures"][server] = (*sigs)[server];
    return out;
  }
  throw std::runtime_error("no valid signature of " + server + " with a known key");
}

nlohmann::json v1_body(const nlohmann::json& pdu, const nlohmann::json& invite_room_state) {
  nlohmann::json body = pdu;
  body["unsigned"]["invite_room_state"] = invite_room_state;
  return body;
}

}  // namespace outbound_invite

namespace {
// A refusal from the remote, passed through with its status where the errcode is one clients know.
[[noreturn]] void refused(int status, const std::string& errcode, const std::string& message) {
  static const std::map<std::string, Errc> known = {
      {"M_FORBIDDEN", Errc::forbidden},
      {"M_INCOMPATIBLE_ROOM_VERSION", Errc::incompatible_room_version},
      {"M_UNSUPPORTED_ROOM_VERSION", Errc::unsupported_room_version},
      {"M_INVITE_BLOCKED", Errc::invite_blocked},
      {"M_LIMIT_EXCEEDED", Errc::limit_exceeded},
      {"M_NOT_FOUND", Errc::not_found},
      {"M_INVALID_PARAM", Errc::invalid_param},
      {"M_BAD_JSON", Errc::bad_json},
  };
  auto it = known.find(errcode);
  throw MatrixError(it == known.end() ? Errc::unknown : it->second, message, status);
}

std::string errcode_of(const std::string& body) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("errcode") && j["errcode"].is_string()) return j["errcode"].get<std::string>();
  return {};
}
}  // namespace

Task<nlohmann::json> FederationInviter::send_invite(RemoteInvite invite) {
  const events::RoomVersion* version = events::find_room_version(invite.room_version);
  if (!version) throw MatrixError(Errc::unsupported_room_version, "Unknown room version " + invite.room_version);
  const std::string path_tail = strings::percent_encode(invite.room_id) + "/" + strings::percent_encode(invite.event_id);
  const std::string& server = invite.destination;

  auto put = [&](std::string uri, const nlohmann::json& body) -> Task<http::ClientResponse> {
    federation::FederationRequest request;
    request.method = http::Method::put;
    request.destination = server;
    request.uri = std::move(uri);
    request.body = body.dump();
    request.timeout = timeout_;
    try {
      http::ClientResponse res = co_await client_.send(std::move(request));
      co_return res;
    } catch (const federation::FederationError& e) {
      const bool timed_out = std::string(e.what()).find("timed out") != std::string::npos;
      log::warn("invite not delivered room={} event={} destination={}: {}", invite.room_id, invite.event_id, server, e.what());
      throw MatrixError(Errc::unknown, "Could not reach " + server + " to invite the user: " + e.what(), timed_out ? 504 : 502);
    }
  };

  const nlohmann::json v2_body = {{"room_version", invite.room_version},
                                  {"event", invite.pdu},
                                  {"invite_room_state", invite.invite_room_state}};
  std::string v2_uri = "/_matrix/federation/v2/invite/" + path_tail;
  http::ClientResponse res = co_await put(std::move(v2_uri), v2_body);
  nlohmann::json answer_event;
  const bool old_version = invite.room_version == "1" || invite.room_version == "2";
  if ((res.status == 400 || res.status == 404) && old_version) {
    const nlohmann::json body = outbound_invite::v1_body(invite.pdu, invite.invite_room_state);
    std::string v1_uri = "/_matrix/federation/v1/invite/" + path_tail;
    res = co_await put(std::move(v1_uri), body);
    if (res.status >= 200 && res.status < 300) {
      const nlohmann::json j = nlohmann::json::parse(res.body, nullptr, false);
      if (j.is_array() && j.size() == 2 && j[1].is_object() && j[1].contains("event")) answer_event = j[1]["event"];
    }
  } else if (res.status >= 200 && res.status < 300) {
    const nlohmann::json j = nlohmann::json::parse(res.body, nullptr, false);
    if (j.is_object() && j.contains("event")) answer_event = j["event"];
  }
  if (res.status < 200 || res.status >= 300) {
    const std::string errcode = errcode_of(res.body);
    log::info("invite refused room={} event={} destination={} status={} errcode={}", invite.room_id, invite.event_id,
              server, res.status, errcode);
    if (res.status >= 400 && res.status < 500) {
      refused(res.status, errcode, server + " refused the invite" + (errcode.empty() ? std::string() : " (" + errcode + ")"));
    }
    throw MatrixError(Errc::unknown, server + " failed to take the invite (HTTP " + std::to_string(res.status) + ")", 502);
  }

  // The answer must be signed by the invitee's server: its keys, fetched as needed.
  std::map<std::string, std::string> keys;
  if (answer_event.is_object() && answer_event.contains("signatures") && answer_event["signatures"].is_object()) {
    const auto sigs = answer_event["signatures"].find(server);
    if (sigs != answer_event["signatures"].end() && sigs->is_object()) {
      for (const auto& [key_id, sig] : sigs->items()) {
        std::optional<std::string> key = co_await keys_.request_key(server, key_id);
        if (key) keys.emplace(key_id, *key);
      }
    }
  }
  try {
    co_return outbound_invite::countersigned(*version, invite.pdu, answer_event, server, keys);
  } catch (const std::runtime_error& e) {
    log::warn("invite answer refused room={} event={} destination={}: {}", invite.room_id, invite.event_id, server, e.what());
    throw MatrixError(Errc::unknown, server + " answered the invite with an unusable event: " + e.what(), 502);
  }
}

}  // namespace herald::homeserver
