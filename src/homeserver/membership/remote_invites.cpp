#include "homeserver/membership/remote_invites.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <stdexcept>
#include <utility>

#include "core/clock.h"
#include "core/matrix_error.h"
#include "crypto/signed_json.h"
#include "crypto/signing_key.h"
#include "events/event_builder.h"
#include "events/redaction.h"
#include "events/room_version.h"
#include "federation/server_key_ring.h"
#include "homeserver/membership/rejection_sender.h"
#include "homeserver/membership/invite_permission.h"
#include "homeserver/membership/remote_membership.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/stream_counter.h"
#include "storage/database.h"
#include "storage/event_graph_store.h"
#include "storage/pending_rejection_store.h"
#include "storage/room_store.h"

namespace herald::homeserver {
namespace remote_invites {
namespace {
[[noreturn]] void invalid(const std::string& why) { throw MatrixError(Errc::invalid_param, why, 400); }

std::string string_field(const nlohmann::json& pdu, const char* key) {
  const auto it = pdu.find(key);
  if (it == pdu.end() || !it->is_string()) invalid(std::string("The event has no string ") + key);
  return it->get<std::string>();
}
}  // namespace

std::string check_invite_event(const nlohmann::json& pdu, const events::RoomVersion& version, const std::string& room_id,
                               const std::string& event_id, const std::string& origin, const std::string& server_name) {
  if (!pdu.is_object()) throw MatrixError(Errc::bad_json, "The event must be a JSON object", 400);
  if (string_field(pdu, "type") != "m.room.member") invalid("The event is not an m.room.member event");
  if (string_field(pdu, "room_id") != room_id) invalid("The event is for another room");
  const std::string sender = string_field(pdu, "sender");
  const std::string invitee = string_field(pdu, "state_key");
  const auto content = pdu.find("content");
  if (content == pdu.end() || !content->is_object()) invalid("The event has no content");
  const auto m = content->find("membership");
  if (m == content->end() || !m->is_string() || m->get<std::string>() != "invite") {
    invalid("The event's membership is not invite");
  }
  if (remote_membership::server_of(sender) != origin) {
    throw MatrixError(Errc::forbidden, "The invite's sender is not a user of " + origin);
  }
  if (remote_membership::server_of(invitee) != server_name) {
    throw MatrixError(Errc::forbidden, "The invited user " + invitee + " is not a user of this server");
  }
  std::string actual;
  if (version.event_ids == events::EventIdFormat::server_assigned) {
    actual = string_field(pdu, "event_id");
  } else {
    try {
      nlohmann::json bare = pdu;
      bare.erase("event_id");
      actual = events::event_id_from_reference_hash(events::reference_hash(bare, version), version);
    } catch (const std::exception&) {
      throw MatrixError(Errc::bad_json, "The event is not canonical JSON", 400);
    }
  }
  if (actual != event_id) invalid("The event ID in the path is not the event's (" + actual + ")");
  return invitee;
}

void require_sender_signature(const nlohmann::json& pdu, const events::RoomVersion& version,
                              const federation::ServerKeyRing& keys) {
  const std::string server(remote_membership::server_of(pdu.value("sender", "")));
  nlohmann::json bare = pdu;
  bare.erase("unsigned");
  if (version.event_ids != events::EventIdFormat::server_assigned) bare.erase("event_id");
  nlohmann::json redacted;
  try {
    redacted = events::redact(bare, version);
  } catch (const std::exception&) {
    throw MatrixError(Errc::bad_json, "The event cannot be redacted", 400);
  }
  const std::int64_t at = version.enforce_key_validity ? pdu.value("origin_server_ts", std::int64_t{0}) : 0;
  const auto sigs = bare.find("signatures");
  if (sigs != bare.end() && sigs->is_object()) {
    const auto mine = sigs->find(server);
    if (mine != sigs->end() && mine->is_object()) {
      for (const auto& [key_id, sig] : mine->items()) {
        if (key_id.rfind("ed25519:", 0) != 0 || !sig.is_string()) continue;
        const auto key = keys.verify_key(server, key_id, at);
        try {
          if (key && crypto::verify_json(redacted, server, key_id, *key)) return;
        } catch (const std::exception&) {
        }
      }
    }
  }
  // Not the request's signature (that is X-Matrix, 401) but the event's: an invalid parameter.
  throw MatrixError(Errc::invalid_param, "The invite has no valid signature of " + server, 400);
}

nlohmann::json countersign(const nlohmann::json& pdu, const events::RoomVersion& version, const std::string& server_name,
                           const crypto::SigningKey& key) {
  nlohmann::json out = pdu;
  out.erase("unsigned");
  nlohmann::json bare = out;
  if (version.event_ids != events::EventIdFormat::server_assigned) bare.erase("event_id");
  nlohmann::json redacted = events::redact(bare, version);
  crypto::sign_json(redacted, server_name, key);
  out["signatures"][server_name] = redacted["signatures"][server_name];
  return out;
}

nlohmann::json stripped(const nlohmann::json& invite_room_state) {
  nlohmann::json out = nlohmann::json::array();
  if (!invite_room_state.is_array()) return out;
  for (const auto& e : invite_room_state) {
    if (!e.is_object() || !e.contains("type") || !e["type"].is_string() || !e.contains("state_key") ||
        !e["state_key"].is_string()) {
      continue;
    }
    const auto content = e.find("content");
    out.push_back({{"type", e["type"]},
                   {"state_key", e["state_key"]},
                   {"sender", e.value("sender", "")},
                   {"content", content != e.end() && content->is_object() ? *content : nlohmann::json::object()}});
  }
  return out;
}

std::vector<std::string> rejection_servers(const nlohmann::json& invite, const std::string& room_id,
                                           const std::string& own_server) {
  std::vector<std::string> out;
  const auto add = [&](std::string_view user_or_room_id) {
    const std::string server(remote_membership::server_of(user_or_room_id));
    if (server.empty() || server == own_server || std::find(out.begin(), out.end(), server) != out.end()) return;
    out.push_back(server);
  };
  const auto sender_of = [](const nlohmann::json& e) {
    const auto it = e.find("sender");
    return it != e.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (!invite.is_object()) {
    add(room_id);
    return out;
  }
  add(sender_of(invite));
  const auto extra = invite.find("unsigned");
  if (extra != invite.end() && extra->is_object()) {
    for (const char* key : {"invite_room_state", "knock_room_state"}) {
      const auto state = extra->find(key);
      if (state == extra->end() || !state->is_array()) continue;
      for (const auto& e : *state) {
        if (e.is_object()) add(sender_of(e));
      }
    }
  }
  add(room_id);  // v12 room IDs name no server
  return out;
}

events::EventPtr out_of_band_leave(const nlohmann::json& kept, const std::string& kept_id, const std::string& room_id,
                                   const std::string& user, const std::optional<std::string>& reason, std::int64_t now_ms,
                                   const std::string& server_name, const crypto::SigningKey& key) {
  if (!kept.is_object()) return nullptr;
  const auto extra = kept.find("unsigned");
  if (extra == kept.end() || !extra->is_object()) return nullptr;
  const events::RoomVersion* version = events::find_room_version(extra->value("room_version", std::string()));
  if (!version) return nullptr;
  try {
    nlohmann::json bare = kept;
    bare.erase("unsigned");
    const events::EventPtr before = events::event_from_pdu(*version, kept_id, room_id, bare.dump());
    events::EventDraft draft{"m.room.member", user, user, {{"membership", "leave"}}, std::nullopt};
    if (reason) draft.content["reason"] = *reason;
    const events::Signer signer{server_name, key};
    return events::build_event(*version, room_id, draft, {before}, {before}, before->depth() + 1, now_ms, signer);
  } catch (const std::exception&) {
    return nullptr;
  }
}

std::optional<std::pair<std::string, std::string>> withdrawal_of(const nlohmann::json& pdu, const std::string& origin,
                                                                  const std::string& server_name) {
  if (!pdu.is_object() || pdu.value("type", nlohmann::json()) != "m.room.member") return std::nullopt;
  const auto target = pdu.find("state_key");
  const auto sender = pdu.find("sender");
  const auto content = pdu.find("content");
  if (target == pdu.end() || !target->is_string() || sender == pdu.end() || !sender->is_string() ||
      content == pdu.end() || !content->is_object()) {
    return std::nullopt;
  }
  const auto m = content->find("membership");
  if (m == content->end() || !m->is_string()) return std::nullopt;
  const std::string membership = m->get<std::string>();
  if (membership != "leave" && membership != "ban") return std::nullopt;
  if (remote_membership::server_of(target->get<std::string>()) != server_name) return std::nullopt;
  if (remote_membership::server_of(sender->get<std::string>()) != origin) return std::nullopt;
  return std::make_pair(target->get<std::string>(), membership);
}

}  // namespace remote_invites

RemoteInvites::RemoteInvites(storage::Database& db, StreamCounter& stream, Notifier& notifier,
                             const crypto::SigningKey& key, std::string server_name, const Clock& clock)
    : db_(db), stream_(stream), notifier_(notifier), key_(key), server_name_(std::move(server_name)), clock_(clock) {}

Task<nlohmann::json> RemoteInvites::accept(std::string invitee, std::string room_id, std::string event_id,
                                           const events::RoomVersion& version, nlohmann::json pdu,
                                           nlohmann::json invite_room_state) {
  nlohmann::json signed_event = remote_invites::countersign(pdu, version, server_name_, key_);
  nlohmann::json kept = signed_event;
  kept["unsigned"] = {{"invite_room_state", std::move(invite_room_state)}, {"room_version", std::string(version.id)}};
  const std::string text = kept.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::int64_t now = clock_.now_ms();
  std::int64_t position = 0;
  auto job = [&](storage::sql::Connection& c) {
    if (invite_permission::blocks_invites(c, invitee)) invite_permission::refuse();
    if (!storage::event_graph_store::find_outside(c, event_id)) {
      storage::event_graph_store::insert_outside(
          c, {event_id, room_id, storage::OutsideStatus::outlier, std::string("invite over federation"), text, std::nullopt},
          now);
    }
    // A room this server is in takes the invite through /send into its timeline and state; one it left
    // (its users kicked, say) is like one it never was in.
    if (storage::room_store::has_joined_local_user(c, room_id)) return;
    const auto current = storage::room_store::membership(c, room_id, invitee);
    if (current && (current->membership == "join" || current->membership == "ban")) return;
    if (current && current->event_id == event_id) return;  // the same invite again
    // ... or one the invitee turned down already (the leave made here follows it).
    if (current && current->membership == "leave" &&
        storage::event_graph_store::prev_events(c, current->event_id) == std::vector{event_id})
      return;
    position = stream_.next_after(storage::room_store::max_stream(c));
    storage::room_store::set_membership_outside_timeline(c, room_id, invitee, "invite", event_id, position);
  };
  co_await db_.write(job);
  if (position) notifier_.notify_users(position, {invitee});
  co_return signed_event;
}

Task<bool> RemoteInvites::reject_locally(UserId user, RoomId room, std::optional<std::string> reason) {
  std::int64_t position = 0;
  const std::string user_id = user.str();
  const std::string room_id = room.str();
  const std::int64_t now = clock_.now_ms();
  auto job = [&](storage::sql::Connection& c) {
    if (storage::room_store::has_joined_local_user(c, room_id)) return;
    const auto current = storage::room_store::membership(c, room_id, user_id);
    // A knock through another server (RemoteKnocks) is withdrawn the same way.
    if (!current || (current->membership != "invite" && current->membership != "knock")) return;
    const auto invite = storage::event_graph_store::find_outside(c, current->event_id);
    const nlohmann::json kept = invite ? nlohmann::json::parse(invite->pdu, nullptr, false) : nlohmann::json();
    // The user's /sync shows the leave at once: one made here, out of band, until the room has its own.
    std::string leave_id = current->event_id;
    if (const auto leave = remote_invites::out_of_band_leave(kept, current->event_id, room_id, user_id, reason, now,
                                                             server_name_, key_)) {
      storage::event_graph_store::insert_outside(
          c, {leave->event_id(), room_id, storage::OutsideStatus::outlier, std::string("out-of-band leave, made here"),
              leave->pdu_text(), std::nullopt},
          now);
      leave_id = leave->event_id();
    }
    position = stream_.next_after(storage::room_store::max_stream(c));
    storage::room_store::set_membership_outside_timeline(c, room_id, user_id, "leave", leave_id, position);
    storage::pending_rejection_store::put(
        c, {room_id, user_id, current->event_id, remote_invites::rejection_servers(kept, room_id, server_name_), now, reason});
  };
  co_await db_.write(job);
  if (!position) co_return false;
  notifier_.notify_users(position, {user_id});
  if (rejections_) rejections_->wake(room_id, user_id);
  co_return true;
}

Task<bool> RemoteInvites::withdraw(std::string origin, std::string room_id, nlohmann::json pdu,
                                   const federation::ServerKeyRing& keys) {
  const auto withdrawal = remote_invites::withdrawal_of(pdu, origin, server_name_);
  if (!withdrawal) co_return false;
  const std::string invitee = withdrawal->first;
  const std::string membership = withdrawal->second;

  // The invite it would end, and the room version that invite came with.
  std::optional<std::string> invite_id;
  nlohmann::json invite;
  std::function<void(storage::sql::Connection&)> read = [&](storage::sql::Connection& c) {
    if (storage::room_store::has_joined_local_user(c, room_id)) return;
    const auto current = storage::room_store::membership(c, room_id, invitee);
    if (!current || current->membership != "invite") return;
    const auto kept = storage::event_graph_store::find_outside(c, current->event_id);
    if (!kept) return;
    invite_id = current->event_id;
    invite = nlohmann::json::parse(kept->pdu, nullptr, false);
  };
  co_await db_.read_erased(read);
  if (!invite_id || !invite.is_object()) co_return false;
  const std::vector<std::string> servers = remote_invites::rejection_servers(invite, room_id, server_name_);
  if (std::find(servers.begin(), servers.end(), origin) == servers.end()) co_return false;
  const auto extra = invite.find("unsigned");
  const std::string version_id =
      extra != invite.end() && extra->is_object() ? extra->value("room_version", std::string("1")) : std::string("1");
  const events::RoomVersion* version = events::find_room_version(version_id);
  if (!version) co_return false;
  std::string event_id;
  try {
    remote_invites::require_sender_signature(pdu, *version, keys);
    if (version->event_ids == events::EventIdFormat::server_assigned) {
      event_id = pdu.value("event_id", std::string());
    } else {
      nlohmann::json bare = pdu;
      bare.erase("event_id");
      bare.erase("unsigned");
      event_id = events::event_id_from_reference_hash(events::reference_hash(bare, *version), *version);
    }
  } catch (const std::exception&) {
    co_return false;
  }
  if (event_id.empty()) co_return false;

  pdu.erase("unsigned");
  const std::string text = pdu.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::int64_t now = clock_.now_ms();
  std::int64_t position = 0;
  auto job = [&](storage::sql::Connection& c) {
    if (storage::room_store::has_joined_local_user(c, room_id)) return;
    const auto current = storage::room_store::membership(c, room_id, invitee);
    if (!current || current->membership != "invite" || current->event_id != *invite_id) return;
    if (!storage::event_graph_store::find_outside(c, event_id)) {
      storage::event_graph_store::insert_outside(
          c, {event_id, room_id, storage::OutsideStatus::outlier, std::string("invite withdrawn over federation"), text,
              std::nullopt},
          now);
    }
    position = stream_.next_after(storage::room_store::max_stream(c));
    storage::room_store::set_membership_outside_timeline(c, room_id, invitee, membership, event_id, position);
  };
  co_await db_.write(job);
  if (!position) co_return false;
  notifier_.notify_users(position, {invitee});
  co_return true;
}

Task<std::optional<std::string>> RemoteInvites::inviting_server(UserId user, RoomId room) {
  std::optional<std::string> server;
  const std::string user_id = user.str();
  const std::string room_id = room.str();
  std::function<void(storage::sql::Connection&)> job = [&](storage::sql::Connection& c) {
    const auto current = storage::room_store::membership(c, room_id, user_id);
    if (!current || current->membership != "invite") return;
    const auto invite = storage::event_graph_store::find_outside(c, current->event_id);
    if (!invite) return;
    const nlohmann::json pdu = nlohmann::json::parse(invite->pdu, nullptr, false);
    if (!pdu.is_object() || !pdu.contains("sender") || !pdu["sender"].is_string()) return;
    if (auto sender = UserId::parse(pdu["sender"].get<std::string>())) server = std::string(sender->server_name());
  };
  co_await db_.read_erased(job);
  co_return server;
}

}  // namespace herald::homeserver
