#include "homeserver/rooms/room_service.h"

#include <algorithm>
#include <mutex>
#include <set>
#include <utility>

#include "core/canonical_json.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/matrix_error.h"
#include "crypto/random.h"
#include "crypto/signing_key.h"
#include "crypto/signed_json.h"
#include "events/redaction.h"
#include "events/room_version.h"
#include "homeserver/membership/invite_permission.h"
#include "homeserver/membership/remote_membership.h"
#include "homeserver/rooms/stripped_state.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/stream_counter.h"
#include "rooms/auth/auth_rules.h"
#include "storage/account_store.h"
#include "storage/database.h"
#include "storage/room_store.h"
#include "storage/sql_room_write_transaction.h"
#include "storage/sql/connection.h"

namespace herald::homeserver {
namespace rs = storage::room_store;
using events::EventDraft;
using events::EventPtr;

namespace {
constexpr std::size_t kMaxEventBytes = 65536;

[[noreturn]] void not_found_room() { throw MatrixError(Errc::not_found, "Unknown room"); }

// The limits every way into a room checks alike (send, PUT state, createRoom's initial_state).
void check_type_and_state_key(const EventDraft& d) {
  if (d.type.empty() || d.type.size() > 255) throw MatrixError(Errc::invalid_param, "Event type must be 1 to 255 bytes");
  if (d.state_key && d.state_key->size() > 255) throw MatrixError(Errc::invalid_param, "State key is longer than 255 bytes");
}


}  // namespace

RoomService::RoomService(storage::Database& db, RoomRegistry& registry, Notifier& notifier, StreamCounter& stream,
                         ProfileCache& profiles, const crypto::SigningKey& key, const Clock& clock,
                         RoomServiceOptions options)
    : db_(db),
      registry_(registry),
      notifier_(notifier),
      stream_(stream),
      key_(key),
      clock_(clock),
      options_(std::move(options)),
      profiles_(profiles) {
  server_keys_.add(options_.server_name, key_.key_id(), key_.public_key());
}

std::int64_t RoomService::stream_position() const { return notifier_.position(); }

RoomService::Built RoomService::build(const Room& room, const EventDraft& draft, std::int64_t now) const {
  const events::RoomVersion& version = *room.version;
  if (version.strict_canonical_json && !is_canonical_compatible(draft.content)) {
    throw MatrixError(Errc::bad_json, "Event content must be canonical JSON: integers within ±(2^53-1), no floats");
  }
  std::vector<EventPtr> auth_events;
  for (const auto& [type, key] : rooms::auth::auth_event_keys(version, draft.type, draft.state_key ? &*draft.state_key : nullptr,
                                                              draft.sender, draft.content)) {
    if (const EventPtr* e = room.state.find(type, key)) {
      if (std::find(auth_events.begin(), auth_events.end(), *e) == auth_events.end()) auth_events.push_back(*e);
    }
  }
  const std::vector<EventPtr> prev = EventPipeline::local_prev_events(room);
  const std::int64_t depth = EventPipeline::next_depth(prev);
  const events::Signer signer{options_.server_name, key_};
  EventPtr event = events::build_event(version, room.room_id, draft, prev, auth_events, depth, now, signer);
  if (auto denial = rooms::auth::check_event(*event, room.state)) throw MatrixError(Errc::forbidden, denial->reason);
  if (event->pdu_text().size() > kMaxEventBytes) throw MatrixError(Errc::too_large, "Event is larger than 65536 bytes");

  storage::NewEventRow row = EventPipeline::timeline_row(*event, room.state);
  return Built{LocalEvent{std::move(event), std::move(row)},
               draft.type == "m.room.redaction" ? draft.redacts : std::nullopt};
}

void RoomService::begin_write_job(storage::sql::Connection& c) {
  const std::optional<std::int64_t> version = c.data_version();
  others_wrote_ = !version || !seen_data_version_ || *version != *seen_data_version_;
  seen_data_version_ = version;
  if (others_wrote_) next_state_group_ = 0;
}

storage::SqlRoomWriteTransaction RoomService::room_transaction(storage::sql::Connection& c) {
  return storage::SqlRoomWriteTransaction(
      c, [this](std::int64_t stored_max) { return stream_.next_after(stored_max); }, others_wrote_, &next_state_group_);
}

RoomService::Appended RoomService::commit_built(storage::sql::Connection& c, Room& room, Built built) {
  auto tx = room_transaction(c);
  EventPtr event = built.local.event;
  const std::int64_t stream = pipeline_.append_local(tx, room, std::move(built.local));
  if (built.redacts) rs::mark_redacted(c, *built.redacts, event->event_id());
  // The outbound rows commit with the event (the create event, appended directly, has nobody to go to).
  std::vector<std::string> destinations;
  if (outbox_) destinations = outbox_->enqueue(c, room, *event);
  return Appended{std::move(event), stream, std::move(destinations)};
}

RoomService::Appended RoomService::append(storage::sql::Connection& c, Room& room, const EventDraft& draft,
                                          std::int64_t now) {
  return commit_built(c, room, build(room, draft, now));
}

void RoomService::notify(const std::vector<Appended>& appended, const Room& room) {
  if (appended.empty()) return;
  // Joined members listen on the room; a membership target (invited, kicked...) is woken directly.
  std::vector<std::string> users;
  for (const auto& a : appended) {
    if (a.event->type() == "m.room.member" && a.event->state_key()) users.push_back(*a.event->state_key());
  }
  notifier_.notify(appended.back().stream, room.room_id, users);
  if (outbox_) {
    std::vector<std::string> destinations;
    for (const auto& a : appended) destinations.insert(destinations.end(), a.destinations.begin(), a.destinations.end());
    if (!destinations.empty()) outbox_->committed(std::move(destinations));
  }
}

namespace {
bool carries_profile(const std::string& membership) {
  return membership == "join" || membership == "invite" || membership == "knock";
}
nlohmann::json content_with(const std::string& membership, const Profile& profile) {
  nlohmann::json content = {{"membership", membership}};
  if (profile.displayname) content["displayname"] = *profile.displayname;
  if (profile.avatar_url) content["avatar_url"] = *profile.avatar_url;
  return content;
}
}  // namespace

nlohmann::json RoomService::member_content(storage::sql::Connection& c, const std::string& target,
                                           const std::string& membership) {
  if (!carries_profile(membership)) return {{"membership", membership}};
  if (auto cached = profiles_.find(target)) return content_with(membership, *cached);
  Profile profile;
  if (auto user = storage::account_store::find_user(c, target)) profile = {user->displayname, user->avatar_url};
  profiles_.put(target, profile);
  return content_with(membership, profile);
}

std::optional<nlohmann::json> RoomService::cached_member_content(const std::string& target, const std::string& membership) const {
  if (!carries_profile(membership)) return nlohmann::json{{"membership", membership}};
  auto profile = profiles_.find(target);
  if (!profile) return std::nullopt;
  return content_with(membership, *profile);
}

Task<std::shared_ptr<Room>> RoomService::find_room(RoomId in_room) {
  const std::string& room_id = in_room.str();
  if (auto r = registry_.cached(room_id)) co_return r;
  co_return co_await db_.read([&](storage::sql::Connection& c) { return registry_.get(c, room_id); });
}

Task<std::shared_ptr<Room>> RoomService::require_room(RoomId in_room) {
  auto room = co_await find_room(in_room);
  if (!room) not_found_room();
  co_return room;
}

// createRoom -------------------------------------------------------------------------------------------

namespace {
nlohmann::json default_power_levels(const events::RoomVersion& v, const std::string& creator, const std::string& preset,
                                    const std::vector<UserId>& invitees) {
  nlohmann::json users = nlohmann::json::object();
  if (!v.infinite_creator_power) users[creator] = 100;
  if (preset == "trusted_private_chat" && !v.infinite_creator_power) {
    for (const auto& u : invitees) users[u.str()] = 100;
  }
  nlohmann::json pl = {{"users", users},
                       {"users_default", 0},
                       {"events",
                        {{"m.room.name", 50},
                         {"m.room.power_levels", 100},
                         {"m.room.history_visibility", 100},
                         {"m.room.canonical_alias", 50},
                         {"m.room.avatar", 50},
                         {"m.room.tombstone", v.infinite_creator_power ? 150 : 100},
                         {"m.room.server_acl", 100},
                         {"m.room.encryption", 100}}},
                       {"events_default", 0},
                       {"state_default", 50},
                       {"ban", 50},
                       {"kick", 50},
                       {"redact", 50},
                       {"invite", 50},
                       {"historical", 100}};
  if (preset == "private_chat" || preset == "trusted_private_chat") pl["invite"] = 0;
  if (preset == "public_chat") pl["events"]["m.call.invite"] = 50;
  return pl;
}
}  // namespace

Task<std::string> RoomService::create_room(UserId creator, CreateRoomRequest req) {
  const std::string version_id = req.room_version.value_or(options_.default_room_version);
  const events::RoomVersion* version = events::find_room_version(version_id);
  if (!version) {
    throw MatrixError(Errc::unsupported_room_version, "Your homeserver does not support the room version '" + version_id + "'");
  }
  const std::string visibility = req.visibility.value_or("private");
  if (visibility != "public" && visibility != "private") throw MatrixError(Errc::invalid_param, "visibility must be 'public' or 'private'");
  const std::string preset = req.preset.value_or(visibility == "public" ? "public_chat" : "private_chat");
  if (preset != "public_chat" && preset != "private_chat" && preset != "trusted_private_chat") {
    throw MatrixError(Errc::invalid_param, "Unknown preset '" + preset + "'");
  }
  std::optional<std::string> alias;
  if (req.room_alias_name) {
    const std::string& local = *req.room_alias_name;
    if (local.empty() || local.find_first_of(": \t\n#") != std::string::npos) {
      throw MatrixError(Errc::invalid_param, "room_alias_name must be a localpart without ':' or whitespace");
    }
    alias = "#" + local + ":" + options_.server_name;
    if (alias->size() > 255) throw MatrixError(Errc::invalid_param, "The room alias is too long");
  }
  // initial_state entries: {type, state_key (default ""), content}.
  std::vector<EventDraft> initial;
  std::optional<nlohmann::json> initial_power_levels;
  std::set<std::pair<std::string, std::string>> initial_keys;
  for (const auto& entry : req.initial_state) {
    if (!entry.is_object() || !entry.contains("type") || !entry["type"].is_string() || !entry.contains("content") ||
        !entry["content"].is_object() || (entry.contains("state_key") && !entry["state_key"].is_string())) {
      throw MatrixError(Errc::bad_json, "initial_state entries need a string 'type', an object 'content' and a string 'state_key'");
    }
    EventDraft d{entry["type"].get<std::string>(), entry.value("state_key", std::string()), creator.str(), entry["content"],
                 std::nullopt};
    check_type_and_state_key(d);
    if (d.type == "m.room.create") throw MatrixError(Errc::invalid_room_state, "initial_state may not contain m.room.create");
    if (d.type == "m.room.power_levels" && d.state_key->empty()) {
      initial_power_levels = d.content;
      continue;
    }
    initial_keys.emplace(d.type, *d.state_key);
    initial.push_back(std::move(d));
  }
  if (!req.power_level_content_override.is_null() && !req.power_level_content_override.is_object()) {
    throw MatrixError(Errc::bad_json, "power_level_content_override must be an object");
  }
  if (!version->infinite_creator_power && req.power_level_content_override.is_object() &&
      req.power_level_content_override.contains("users")) {
    const auto& users = req.power_level_content_override["users"];
    if (!users.is_object() || !users.contains(creator.str())) {
      throw MatrixError(Errc::invalid_param, "power_level_content_override.users must give the creator a power level");
    }
  }

  std::vector<std::string> local_invitees;
  for (const auto& u : req.invite)
    if (u.server_name() == options_.server_name) local_invitees.push_back(u.str());
  const std::set<std::string> blocked = co_await blocking_invites(std::move(local_invitees));

  std::int64_t now = clock_.now_ms();
  std::shared_ptr<Room> created;
  std::vector<Appended> appended;
  try {
    co_await db_.write([&](storage::sql::Connection& c) {
      begin_write_job(c);
      appended.clear();
      nlohmann::json create_content = req.creation_content.is_object() ? req.creation_content : nlohmann::json::object();
      create_content["room_version"] = std::string(version->id);
      if (version->creator_in_content) create_content["creator"] = creator.str();
      else create_content.erase("creator");
      if (version->infinite_creator_power && preset == "trusted_private_chat" && !req.invite.empty()) {
        nlohmann::json extra = create_content.value("additional_creators", nlohmann::json::array());
        if (!extra.is_array()) throw MatrixError(Errc::bad_json, "creation_content.additional_creators must be an array");
        for (const auto& u : req.invite)
          if (std::find(extra.begin(), extra.end(), u.str()) == extra.end()) extra.push_back(u.str());
        create_content["additional_creators"] = extra;
      }
      // The create event is built first: in v12 the room ID derives from it, so two identical requests
      // in the same millisecond would name the same room; a taken ID is retried a millisecond later.
      const events::Signer signer{options_.server_name, key_};
      const EventDraft create_draft{"m.room.create", "", creator.str(), create_content, std::nullopt};
      EventPtr create_event;
      for (;; ++now) {
        const std::string provisional_id =
            version->room_id_from_create ? std::string() : "!" + crypto::random_alnum(18) + ":" + options_.server_name;
        create_event = events::build_event(*version, provisional_id, create_draft, {}, {}, 1, now, signer);
        if (!registry_.cached(create_event->room_id()) && !rs::find_room(c, create_event->room_id())) break;
      }
      auto room = std::make_shared<Room>(create_event->room_id(), *version);
      if (auto denial = rooms::auth::check_event(*create_event, room->state)) throw MatrixError(Errc::bad_json, denial->reason);
      rs::insert_room(c, storage::StoredRoom{room->room_id, std::string(version->id), creator.str(), visibility == "public"}, now);
      if (alias && !rs::insert_alias(c, *alias, room->room_id, creator.str())) {
        throw MatrixError(Errc::room_in_use, "Room alias already taken");
      }
      auto tx = room_transaction(c);
      LocalEvent create_local{create_event, EventPipeline::timeline_row(*create_event, room->state)};
      const std::int64_t stream = pipeline_.append_local(tx, *room, std::move(create_local));
      room->is_public = visibility == "public";
      appended.push_back({create_event, stream});

      auto add = [&](const EventDraft& d) { appended.push_back(append(c, *room, d, now)); };
      add({"m.room.member", creator.str(), creator.str(), member_content(c, creator.str(), "join"), std::nullopt});
      nlohmann::json pl = initial_power_levels ? *initial_power_levels
                                               : default_power_levels(*version, creator.str(), preset, req.invite);
      if (!initial_power_levels && req.power_level_content_override.is_object()) {
        for (const auto& [k, v] : req.power_level_content_override.items()) pl[k] = v;
      }
      add({"m.room.power_levels", "", creator.str(), pl, std::nullopt});
      if (alias) add({"m.room.canonical_alias", "", creator.str(), {{"alias", *alias}}, std::nullopt});
      const std::string join_rule = preset == "public_chat" ? "public" : "invite";
      if (!initial_keys.contains({"m.room.join_rules", ""}))
        add({"m.room.join_rules", "", creator.str(), {{"join_rule", join_rule}}, std::nullopt});
      if (!initial_keys.contains({"m.room.history_visibility", ""}))
        add({"m.room.history_visibility", "", creator.str(), {{"history_visibility", "shared"}}, std::nullopt});
      if (preset != "public_chat" && !initial_keys.contains({"m.room.guest_access", ""}))
        add({"m.room.guest_access", "", creator.str(), {{"guest_access", "can_join"}}, std::nullopt});
      for (const auto& d : initial) add(d);
      if (req.name) add({"m.room.name", "", creator.str(), {{"name", *req.name}}, std::nullopt});
      if (req.topic) add({"m.room.topic", "", creator.str(), {{"topic", *req.topic}}, std::nullopt});
      for (const auto& invitee : req.invite) {
        if (inviter_ && remote_membership::server_of(invitee.str()) != options_.server_name) continue;  // below
        if (blocked.contains(invitee.str())) continue;
        nlohmann::json content = member_content(c, invitee.str(), "invite");
        if (req.is_direct) content["is_direct"] = true;
        add({"m.room.member", invitee.str(), creator.str(), content, std::nullopt});
      }
      registry_.add(room);
      created = room;
    });
  } catch (...) {
    // The room was registered inside the job; if its transaction did not commit, forget it.
    if (created) registry_.evict(created->room_id);
    throw;
  }
  notify(appended, *created);
  log::info("room created room={} version={} creator={} events={}", created->room_id, version->id, creator.str(),
            appended.size());
  for (const auto& user : blocked) log::info("createRoom invite blocked room={} invitee={}", created->room_id, user);
  // Users of other servers are invited once the room exists: each through its server (a refusal there
  // leaves the room without that invite, and the room is still created).
  for (const auto& invitee : req.invite) {
    if (!inviter_ || remote_membership::server_of(invitee.str()) == options_.server_name) continue;
    nlohmann::json extra = nlohmann::json::object();
    if (req.is_direct) extra["is_direct"] = true;
    auto parsed = RoomId::parse(created->room_id);
    if (!parsed) break;
    RoomId room_id = *parsed;
    std::optional<std::string> no_reason;
    try {
      co_await set_membership(creator, room_id, invitee, rooms::Membership::invite, no_reason, extra);
    } catch (const MatrixError& e) {
      log::warn("createRoom invite failed room={} invitee={}: {}", created->room_id, invitee.str(), e.what());
    }
  }
  co_return created->room_id;
}

Task<void> RoomService::write_room(std::string room_id, std::function<void(storage::sql::Connection&)>& job) {
  try {
    co_await db_.write_erased(job);
  } catch (const MatrixError&) {
    throw;  // a refusal: thrown before the room's memory was touched
  } catch (...) {
    // Infrastructure failure: the in-memory room (and profiles read in the same transaction) may hold
    // changes that did not commit.
    registry_.evict(room_id);
    profiles_.clear();
    throw;
  }
}

bool RoomService::may_need_authoriser(const Room& room, const std::string& membership) {
  if (membership != "join") return false;
  const std::string rule = room.state.join_rule();
  return (room.version->restricted && rule == "restricted") || (room.version->knock_restricted && rule == "knock_restricted");
}

namespace {

// Counts a room's writes in flight for as long as it lives.
class InFlight {
 public:
  explicit InFlight(std::shared_ptr<Room> room) : room_(std::move(room)) {
    if (room_) ++room_->writes_in_flight;
  }
  ~InFlight() {
    if (room_) --room_->writes_in_flight;
  }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  std::shared_ptr<Room> room_;
};
}  // namespace

std::optional<RoomService::Plan> RoomService::EarlyPlan::take_if_current(const std::shared_ptr<Room>& current) {
  if (!plan || !current || current != room || current->applied != applied) return std::nullopt;
  return std::exchange(plan, std::nullopt);
}

RoomService::EarlyPlan RoomService::plan_early(const std::string& room_id,
                                               const std::function<std::optional<Plan>(const Room&)>& make) const {
  EarlyPlan early{registry_.cached(room_id), 0, std::nullopt};
  if (!early.room || early.room->writes_in_flight.load() != 0) return early;
  std::shared_lock lock(early.room->mutex);
  early.plan = make(*early.room);
  early.applied = early.room->applied;
  return early;
}

// Sending ------------------------------------------------------------------------------------------------

RoomService::Plan RoomService::plan_send(const Room& room, EventDraft draft, std::int64_t now) const {
  if (draft.type == "m.room.redaction" && room.version->redacts_in_content && draft.redacts) {
    draft.content["redacts"] = *draft.redacts;
  }
  // A state event identical to the current one from the same sender is a no-op (as Synapse).
  if (draft.state_key) {
    if (const EventPtr* current = room.state.find(draft.type, *draft.state_key)) {
      if ((*current)->sender() == draft.sender && (*current)->content() == draft.content) return {(*current)->event_id(), std::nullopt};
    }
  }
  Built built = build(room, draft, now);
  std::string event_id = built.local.event->event_id();
  return {std::move(event_id), std::move(built)};
}

Task<std::string> RoomService::send(UserId sender, std::string device_id, RoomId in_room, EventDraft draft,
                                    std::optional<std::string> txn_key) {
  const std::string& room_id = in_room.str();
  draft.sender = sender.str();
  check_type_and_state_key(draft);
  if (draft.type == "m.room.member") {
    throw MatrixError(Errc::forbidden, "Use the membership endpoints (or PUT /state/m.room.member) for membership changes");
  }
  const std::int64_t now = clock_.now_ms();
  EarlyPlan early = plan_early(room_id, [&](const Room& r) -> std::optional<Plan> {
    try {
      return plan_send(r, draft, now);
    } catch (const MatrixError&) {
      if (!txn_key) throw;
      return std::nullopt;  // a retried transaction answers its first event, even if it would be refused now
    }
  });
  if (early.plan && !early.plan->built && !txn_key) co_return early.plan->event_id;

  std::shared_ptr<Room> room;
  std::optional<Appended> appended;
  std::string event_id;
  std::function<void(storage::sql::Connection&)> job = [&](storage::sql::Connection& c) {
    begin_write_job(c);
    if (txn_key) {
      if (auto existing = rs::transaction_event(c, sender.str(), device_id, *txn_key)) {
        event_id = *existing;
        return;
      }
    }
    room = registry_.get_for_write(c, room_id, others_wrote_);
    if (!room) not_found_room();
    std::optional<Plan> plan = early.take_if_current(room);
    if (!plan) plan = plan_send(*room, draft, now);
    event_id = plan->event_id;
    if (!plan->built) return;
    appended = commit_built(c, *room, std::move(*plan->built));
    if (txn_key) rs::insert_transaction(c, sender.str(), device_id, *txn_key, event_id);
  };
  {
    const InFlight in_flight(early.room);
    co_await write_room(room_id, job);
  }
  if (appended) notify({*appended}, *room);
  co_return event_id;
}

// Membership -----------------------------------------------------------------------------------------------

RoomService::Plan RoomService::plan_membership(const Room& room, const MembershipRequest& req,
                                                        nlohmann::json content, const std::optional<std::string>& authoriser,
                                                        std::int64_t now) const {
  const std::string current = room.state.membership(req.target);
  const bool self = req.sender == req.target;
  // Acting on someone else needs the sender in the room; refusing first says nothing about the target.
  if (!self && room.state.membership(req.sender) != "join") {
    throw MatrixError(Errc::forbidden, "You are not in this room");
  }
  if (req.membership == "invite" && current == "invite") {
    return {(*room.state.find("m.room.member", req.target))->event_id(), std::nullopt};  // already invited: 200 {}
  }
  if (req.unban && current != "ban") throw MatrixError(Errc::bad_state, "The user is not banned");
  if (req.membership == "leave" && !self && !req.unban && current != "join" && current != "invite" && current != "knock") {
    throw MatrixError(Errc::forbidden, "The target user is not in the room");
  }
  if (req.membership == "leave" && self && current == "leave") {
    throw MatrixError(Errc::forbidden, "You are not in this room, invited to it or knocking on it");
  }
  if (req.reason) content["reason"] = *req.reason;
  for (const auto& [k, v] : req.extra_content.items()) content[k] = v;
  if (req.membership == "join" && current != "join" && current != "invite" && authoriser) {
    content["join_authorised_via_users_server"] = *authoriser;
  }
  if (req.membership == "join" && current == "join") {
    const EventPtr existing = *room.state.find("m.room.member", req.target);
    if (existing->content() == content) return {existing->event_id(), std::nullopt};
  }
  Built built = build(room, EventDraft{"m.room.member", req.target, req.sender, std::move(content), std::nullopt}, now);
  std::string event_id = built.local.event->event_id();
  return {std::move(event_id), std::move(built)};
}


Task<std::string> RoomService::set_membership(UserId sender, RoomId in_room, UserId target, rooms::Membership kind,
                                              std::optional<std::string> reason, nlohmann::json extra_content,
                                              MembershipIntent intent) {
  const std::string& room_id = in_room.str();
  const std::string membership(rooms::to_string(kind));
  const std::int64_t now = clock_.now_ms();
  MembershipRequest request{sender.str(), target.str(), membership, reason, extra_content, intent == MembershipIntent::unban};
  const std::string target_server(remote_membership::server_of(request.target));
  if (kind == rooms::Membership::invite && target_server == options_.server_name) {
    std::vector<std::string> invitee{request.target};
    const std::set<std::string> blocked = co_await blocking_invites(std::move(invitee));
    if (!blocked.empty()) invite_permission::refuse();
  }

  // An invite of another server's user carries that user's profile, as one of ours would (as Synapse).
  if (queries_ && kind == rooms::Membership::invite && target_server != options_.server_name) {
    nlohmann::json profile = co_await remote_profile_content(target);
    for (auto& [key, value] : profile.items())
      if (!request.extra_content.contains(key)) request.extra_content[key] = std::move(value);
  }

  // Early only when the target's profile is cached and no other room's state is needed.
  EarlyPlan early = plan_early(room_id, [&](const Room& r) -> std::optional<Plan> {
    auto content = cached_member_content(request.target, membership);
    if (!content || may_need_authoriser(r, membership)) return std::nullopt;
    return plan_membership(r, request, std::move(*content), std::nullopt, now);
  });
  if (early.plan && !early.plan->built) co_return early.plan->event_id;  // nothing to write (already invited, same join)

  // An invite of another server's user is committed only once that server has countersigned it.
  const bool remote_invite = inviter_ && kind == rooms::Membership::invite && target_server != options_.server_name;

  std::shared_ptr<Room> room;
  std::optional<Appended> appended;
  std::string event_id;
  std::optional<Built> pending;    // a remote invite, built and checked, not stored yet
  nlohmann::json invite_state;     // its invite_room_state
  std::uint64_t planned_applied = 0;
  std::function<void(storage::sql::Connection&)> job = [&](storage::sql::Connection& c) {
    begin_write_job(c);
    room = registry_.get_for_write(c, room_id, others_wrote_);
    if (!room) not_found_room();
    std::optional<Plan> plan = early.take_if_current(room);
    if (!plan) {
      std::optional<std::string> authoriser;
      if (may_need_authoriser(*room, membership)) {
        const std::string current = room->state.membership(request.target);
        if (current != "join" && current != "invite") authoriser = restricted_join_authoriser(c, *room, request.target);
      }
      plan = plan_membership(*room, request, member_content(c, request.target, membership), authoriser, now);
    }
    event_id = plan->event_id;
    if (!plan->built) return;
    if (remote_invite) {
      pending = std::move(plan->built);
      invite_state = invite_room_state(*room, request.sender);
      planned_applied = room->applied;
      return;
    }
    appended = commit_built(c, *room, std::move(*plan->built));
  };
  {
    const InFlight in_flight(early.room);
    co_await write_room(room_id, job);
  }
  if (pending) {
    // No job open while the invitee's server is asked.
    const events::EventPtr sent = pending->local.event;
    RemoteInvite invite{target_server, std::string(room->version->id), room_id, event_id, sent->pdu(), std::move(invite_state)};
    nlohmann::json signed_pdu = co_await inviter_->send_invite(std::move(invite));
    auto text = canonical_json(signed_pdu);
    if (!text) throw MatrixError(Errc::unknown, "The countersigned invite cannot be canonicalised");
    const events::EventPtr countersigned =
        events::Event::from_text(event_id, room_id, std::move(*text), sent->reference_hash());
    const std::shared_ptr<Room> planned_room = room;
    std::function<void(storage::sql::Connection&)> commit = [&](storage::sql::Connection& c) {
      begin_write_job(c);
      room = registry_.get_for_write(c, room_id, others_wrote_);
      if (!room) not_found_room();
      if (room != planned_room || room->applied != planned_applied) {
        // The room changed while the invitee's server was asked: the invite must still pass on the
        // current state (the target may have joined, been banned or invited by someone else meanwhile).
        if (room->state.membership(request.target) == "invite") {
          throw MatrixError(Errc::forbidden, "The user was invited by someone else meanwhile");
        }
        if (auto denial = rooms::auth::check_event(*countersigned, room->state)) {
          throw MatrixError(Errc::forbidden, "The room changed while inviting: " + denial->reason);
        }
      }
      const LocalEvent local{countersigned, EventPipeline::timeline_row(*countersigned, room->state)};
      appended = commit_built(c, *room, Built{local, std::nullopt});
    };
    const InFlight in_flight(room);
    co_await write_room(room_id, commit);
  }
  if (appended) {
    notify({*appended}, *room);
    log::info("membership room={} sender={} target={} membership={}", room_id, sender.str(), target.str(), membership);
  }
  co_return event_id;
}

Task<std::set<std::string>> RoomService::blocking_invites(std::vector<std::string> invitees) {
  std::set<std::string> blocked;
  if (invitees.empty()) co_return blocked;
  auto read = [&](storage::sql::Connection& c) {
    for (const auto& user : invitees)
      if (invite_permission::blocks_invites(c, user)) blocked.insert(user);
  };
  co_await db_.read(read);
  co_return blocked;
}

Task<nlohmann::json> RoomService::remote_profile_content(UserId user) {
  // Longer values would only make the invite event large; our own users' are capped alike.
  constexpr std::size_t kMaxProfileValue = 1024;
  nlohmann::json out = nlohmann::json::object();
  std::optional<nlohmann::json> profile;
  try {
    std::optional<std::string> whole_profile;
    profile = co_await queries_->profile(user, whole_profile);
  } catch (const MatrixError& e) {
    log::info("no profile for the invite of {}: {}", user.str(), e.what());
  }
  if (!profile) co_return out;
  for (const char* key : {"displayname", "avatar_url"}) {
    const auto it = profile->find(key);
    if (it != profile->end() && it->is_string() && it->get_ref<const std::string&>().size() <= kMaxProfileValue) {
      out[key] = *it;
    }
  }
  co_return out;
}

std::optional<std::string> RoomService::restricted_join_authoriser(storage::sql::Connection& c, const Room& room,
                                                                   const std::string& user) {
  return check_restricted_join(c, room, user).authoriser;
}

RoomService::RestrictedJoin RoomService::check_restricted_join(storage::sql::Connection& c, const Room& room,
                                                               const std::string& user) {
  RestrictedJoin out;
  const events::RoomVersion& v = *room.version;
  const std::string rule = room.state.join_rule();
  if (!((v.restricted && rule == "restricted") || (v.knock_restricted && rule == "knock_restricted"))) return out;
  const EventPtr* join_rules = room.state.find("m.room.join_rules");
  if (!join_rules) return out;
  const auto allow = (*join_rules)->content().find("allow");
  if (allow == (*join_rules)->content().end() || !allow->is_array()) return out;
  // The user qualifies by being joined to one of the listed rooms (m.room_membership); only a room this
  // server is in can say so.
  bool names_a_room = false;
  for (const auto& condition : *allow) {
    if (!condition.is_object() || condition.value("type", "") != "m.room_membership") continue;
    const std::string other = condition.value("room_id", "");
    if (other.empty() || other == room.room_id) continue;
    names_a_room = true;
    auto other_room = registry_.get(c, other);
    if (!other_room) continue;
    std::shared_lock lock(other_room->mutex);
    if (!other_room->joined_servers.contains(options_.server_name)) continue;
    out.judged = true;
    if (other_room->state.membership(user) == "join") {
      out.qualifies = true;
      break;
    }
  }
  // With no room to be in, there is nothing to judge: the auth rules alone decide.
  if (!names_a_room) out.judged = true;
  if (!out.qualifies) return out;
  // A joined local user who may invite vouches for the join (rooms-and-auth.md §10, rule 6.3.5).
  const std::int64_t invite_level = room.state.power_levels().invite;
  const std::string suffix = ":" + options_.server_name;
  for (const auto& member : room.joined) {
    if (member.size() > suffix.size() && member.compare(member.size() - suffix.size(), suffix.size(), suffix) == 0 &&
        room.state.user_power(member) >= invite_level) {
      out.authoriser = member;
      return out;
    }
  }
  return out;
}

Task<void> RoomService::forget(UserId user, RoomId in_room) {
  const std::string& room_id = in_room.str();
  co_await db_.write([&](storage::sql::Connection& c) {
    auto m = rs::membership(c, room_id, user.str());
    if (!m) {
      if (!rs::find_room(c, room_id)) not_found_room();
      return;
    }
    if (m->membership == "join" || m->membership == "invite" || m->membership == "knock") {
      throw MatrixError(Errc::unknown, "You must leave the room before forgetting it", 400);
    }
    rs::set_forgotten(c, room_id, user.str());
  });
}

Task<void> RoomService::set_profile(UserId user, std::optional<std::string> displayname,
                                    std::optional<std::string> avatar_url, bool set_displayname, bool set_avatar) {
  const std::int64_t now = clock_.now_ms();
  std::vector<std::pair<std::shared_ptr<Room>, Appended>> sent;
  std::function<void(storage::sql::Connection&)> job = [&](storage::sql::Connection& c) {
    begin_write_job(c);
    sent.clear();
    // The cached profile is refilled below from this transaction; if it rolls back, drop it again.
    profiles_.erase(user.str());
    try {
      if (set_displayname) storage::account_store::set_displayname(c, user.str(), displayname);
      if (set_avatar) storage::account_store::set_avatar_url(c, user.str(), avatar_url);
      for (const auto& m : rs::memberships_of(c, user.str())) {
        if (m.membership != "join") continue;
        auto room = registry_.get_for_write(c, m.room_id, others_wrote_);
        if (!room) continue;
        nlohmann::json content = member_content(c, user.str(), "join");
        sent.emplace_back(room, append(c, *room, EventDraft{"m.room.member", user.str(), user.str(), content, std::nullopt}, now));
      }
    } catch (...) {
      profiles_.erase(user.str());
      throw;
    }
  };
  try {
    co_await db_.write_erased(job);
  } catch (...) {
    profiles_.clear();
    for (const auto& [room, a] : sent) registry_.evict(room->room_id);
    throw;
  }
  for (const auto& [room, a] : sent) notify({a}, *room);
}

}  // namespace herald::homeserver
