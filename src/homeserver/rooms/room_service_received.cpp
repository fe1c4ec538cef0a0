// RoomService: events from other servers (through the one event pipeline), the membership templates
// make_join/make_leave/make_knock serve, and relaying accepted remote joins and leaves.
#include "homeserver/rooms/room_service.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/matrix_error.h"
#include "crypto/signed_json.h"
#include "crypto/signing_key.h"
#include "events/redaction.h"
#include "events/room_version.h"
#include "homeserver/membership/remote_membership.h"
#include "rooms/auth/auth_rules.h"
#include "storage/database.h"
#include "storage/room_store.h"
#include "storage/sql/connection.h"
#include "storage/sql_room_write_transaction.h"

namespace herald::homeserver {
using events::EventDraft;
using events::EventPtr;
namespace {
[[noreturn]] void not_found_room() { throw MatrixError(Errc::not_found, "Unknown room"); }
}  // namespace

// Events from elsewhere ---------------------------------------------------------------------------------

Task<std::vector<Received>> RoomService::receive(RoomId in_room, std::vector<nlohmann::json> pdus) {
  const std::string& room_id = in_room.str();
  std::shared_ptr<Room> room;
  std::vector<Received> results;
  const std::int64_t now = clock_.now_ms();
  std::function<void(storage::sql::Connection&)> job = [&](storage::sql::Connection& c) {
    begin_write_job(c);
    results.clear();
    room = registry_.get_for_write(c, room_id, others_wrote_);
    if (!room) not_found_room();
    auto tx = room_transaction(c);
    for (const auto& pdu : pdus) results.push_back(pipeline_.receive(tx, *room, pdu, now));
  };
  co_await write_room(room_id, job);
  std::vector<Appended> appended;
  for (const auto& r : results)
    if (r.outcome == Outcome::accepted) appended.push_back({r.event, r.stream});
  notify(appended, *room);
  co_return results;
}

// Membership through this server (make_join/send_join, make_leave/send_leave) ----------------------------

Task<MembershipTemplate> RoomService::membership_template(RoomId in_room, UserId user, std::string membership,
                                                          std::vector<std::string> supported) {
  const std::string& room_id = in_room.str();
  const std::int64_t now = clock_.now_ms();
  auto make = [&](storage::sql::Connection& c) {
    auto room = registry_.get(c, room_id);
    if (!room) not_found_room();
    std::shared_lock lock(room->mutex);
    // Only a server in the room can build on its current state (as Synapse: 404 otherwise).
    if (!room->joined_servers.contains(options_.server_name)) not_found_room();
    const std::string version(room->version->id);
    remote_membership::require_supported_version(version, supported);
    if (membership == "knock") remote_membership::require_knock_support(*room->version);
    nlohmann::json content = {{"membership", membership}};
    if (may_need_authoriser(*room, membership)) {
      const std::string current = room->state.membership(user.str());
      if (current != "join" && current != "invite" && membership == "join") {
        const RestrictedJoin check = check_restricted_join(c, *room, user.str());
        if (check.authoriser) {
          content["join_authorised_via_users_server"] = *check.authoriser;
        } else {
          // federation.md §7: the joining server tries another resident on these. A user this server can
          // judge and who does not qualify gets the auth rules' 403 below.
          if (!check.judged) {
            throw MatrixError(Errc::unable_to_authorise_join,
                              "This server is in none of the rooms the join rules allow; it cannot tell whether the user may join");
          }
          if (check.qualifies) {
            throw MatrixError(Errc::unable_to_grant_join, "No user of this server may invite; try another server");
          }
        }
      }
    }
    // The same builder and auth check as a local event (signed with this server's key, which the
    // template then drops).
    const Built built = build(*room, EventDraft{"m.room.member", user.str(), user.str(), std::move(content), std::nullopt}, now);
    return MembershipTemplate{version, remote_membership::template_of(built.local.event->pdu())};
  };
  MembershipTemplate made = co_await db_.read(make);
  co_return made;
}

Task<Received> RoomService::receive_relayed(RoomId in_room, nlohmann::json pdu) {
  const std::string& room_id = in_room.str();
  std::shared_ptr<Room> room;
  Received result;
  std::vector<std::string> destinations;
  const std::int64_t now = clock_.now_ms();
  std::function<void(storage::sql::Connection&)> job = [&](storage::sql::Connection& c) {
    begin_write_job(c);
    destinations.clear();
    room = registry_.get_for_write(c, room_id, others_wrote_);
    if (!room) not_found_room();
    nlohmann::json event = pdu;
    co_sign_restricted_join(*room, event);
    auto tx = room_transaction(c);
    result = pipeline_.receive(tx, *room, event, now);
    if (result.outcome == Outcome::accepted && outbox_) destinations = outbox_->enqueue(c, *room, *result.event);
  };
  co_await write_room(room_id, job);
  if (result.outcome == Outcome::accepted) notify({Appended{result.event, result.stream, destinations}}, *room);
  co_return result;
}

void RoomService::co_sign_restricted_join(const Room& room, nlohmann::json& pdu) const {
  const auto content = pdu.find("content");
  if (content == pdu.end() || !content->is_object()) return;
  const auto via = content->find("join_authorised_via_users_server");
  if (via == content->end() || !via->is_string()) return;
  if (remote_membership::server_of(via->get<std::string>()) != options_.server_name) return;
  if (!pdu.contains("signatures") || !pdu["signatures"].is_object()) return;  // the pipeline refuses it anyway
  try {
    nlohmann::json redacted = events::redact(pdu, *room.version);
    crypto::sign_json(redacted, options_.server_name, key_);
    pdu["signatures"][options_.server_name] = redacted["signatures"][options_.server_name];
  } catch (const std::invalid_argument&) {
    // Not canonical JSON: the pipeline drops it.
  }
}

}  // namespace herald::homeserver
