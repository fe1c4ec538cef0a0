#include "homeserver/sync/sync_service.h"

#include "homeserver/rooms/stripped_state.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>

#include "core/clock.h"
#include "events/event.h"
#include "events/redaction.h"
#include "events/room_version.h"
#include "homeserver/rooms/room_registry.h"
#include "homeserver/accounts/account_data_service.h"
#include "homeserver/e2e/device_lists.h"
#include "homeserver/membership/invite_permission.h"
#include "homeserver/membership/remote_invites.h"
#include "homeserver/presence/presence_service.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/sent_members.h"
#include "storage/account_data_store.h"
#include "storage/database.h"
#include "storage/event_graph_store.h"
#include "storage/e2e_key_store.h"
#include "storage/presence_store.h"
#include "storage/to_device_store.h"
#include "storage/room_store.h"
#include "storage/sql/connection.h"

namespace herald::homeserver {
namespace rs = storage::room_store;

std::optional<std::int64_t> parse_stream_token(std::string_view token) {
  if (token.size() < 2 || (token[0] != 's' && token[0] != 't')) return std::nullopt;
  std::int64_t v = 0;
  for (char c : token.substr(1)) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
    if (v > (std::int64_t{1} << 53)) return std::nullopt;
  }
  return v;
}

std::optional<SyncToken> parse_sync_token(std::string_view token) {
  if (token.empty() || token[0] != 's') return std::nullopt;
  const auto underscore = token.find('_');
  auto events = parse_stream_token(token.substr(0, underscore));
  if (!events) return std::nullopt;
  if (underscore == std::string_view::npos) return SyncToken{*events, *events};
  auto to_device = parse_stream_token("s" + std::string(token.substr(underscore + 1)));
  if (!to_device || *to_device > *events) return std::nullopt;
  return SyncToken{*events, *to_device};
}

nlohmann::json client_event(const storage::StoredEvent& e, const events::RoomVersion& version, std::int64_t now_ms,
                            bool with_room_id) {
  // Parsed once from the stored text; only a redacted event is re-serialised (in its redacted form).
  const events::EventPtr event =
      e.redacted_by ? std::make_shared<const events::Event>(
                          e.event_id, e.room_id, events::redact(nlohmann::json::parse(e.pdu), version), "")
                    : events::Event::from_text(e.event_id, e.room_id, e.pdu, "");
  nlohmann::json out = event->client_format(with_room_id);
  nlohmann::json unsigned_data = e.unsigned_json ? nlohmann::json::parse(*e.unsigned_json) : nlohmann::json::object();
  unsigned_data["age"] = std::max<std::int64_t>(0, now_ms - event->origin_server_ts());
  if (e.redacted_by) unsigned_data["redacted_because"] = {{"event_id", *e.redacted_by}};
  out["unsigned"] = unsigned_data;
  return out;
}

namespace {
constexpr std::int64_t kDefaultTimelineLimit = 10;
constexpr std::int64_t kMaxToDevicePerSync = 100;
// How far behind a sync may be and still count as an interactive read.
constexpr std::int64_t kCatchUpPositions = 200;
// How many events a filtered timeline scans before it gives up and marks the timeline limited.
constexpr std::int64_t kMaxScannedEvents = 2000;

struct TimelineEvent {
  std::int64_t stream;
  nlohmann::json event;  // client format
};

bool is_state(const nlohmann::json& e) { return e.contains("state_key"); }

// Stripped state for an invite or knock (client-server.md §6): the room's public face, the inviter's
// member event and the user's own member event, each exactly {type, state_key, sender, content}.
nlohmann::json stripped_state(storage::sql::Connection& c, const Room& room, const storage::StoredMembership& m) {
  nlohmann::json out = nlohmann::json::array();
  auto own = rs::find_event(c, m.event_id);
  const events::EventPtr event = own ? events::Event::from_text(own->event_id, own->room_id, own->pdu, "") : nullptr;
  // The public face and the inviter's member event, read under one lock.
  std::vector<rooms::StateKey> keys;
  const std::vector<std::string>& types = stripped_state_types();
  for (const std::string& type : types) keys.emplace_back(type, "");
  if (event) keys.emplace_back("m.room.member", event->sender());
  const std::vector<events::EventPtr> found = room.state_events(keys);
  for (std::size_t i = 0; i < types.size(); ++i)
    if (found[i]) out.push_back(found[i]->stripped());
  if (!event) return out;
  const events::EventPtr& inviter = found.back();
  if (inviter && inviter->event_id() != own->event_id) out.push_back(inviter->stripped());
  out.push_back(event->stripped());
  return out;
}

// An invite from another server to a room this server is not in (RemoteInvites), or a local user's knock
// on such a room (RemoteKnocks): kept as an outlier whose unsigned.invite_room_state (knock_room_state)
// is the stripped state the room's server sent; the invite (knock) itself ends it.
std::optional<nlohmann::json> remote_stripped_state(storage::sql::Connection& c, const storage::StoredMembership& m,
                                                    const char* kept_key) {
  const auto outlier = storage::event_graph_store::find_outside(c, m.event_id);
  if (!outlier) return std::nullopt;
  const nlohmann::json pdu = nlohmann::json::parse(outlier->pdu, nullptr, false);
  if (!pdu.is_object()) return std::nullopt;
  nlohmann::json out = nlohmann::json::array();
  if (const auto u = pdu.find("unsigned"); u != pdu.end() && u->is_object()) {
    for (auto& e : remote_invites::stripped(u->value(kept_key, nlohmann::json::array()))) {
      if (e["type"] == "m.room.member" && e["state_key"] == pdu.value("state_key", "")) continue;
      out.push_back(std::move(e));
    }
  }
  out.push_back({{"type", pdu.value("type", "")},
                 {"state_key", pdu.value("state_key", "")},
                 {"sender", pdu.value("sender", "")},
                 {"content", pdu.value("content", nlohmann::json::object())}});
  return out;
}

// The user's leave or ban kept outside a room this server does not have (an invite turned down here out
// of band, or taken back by the room), in the client format; nothing when there is none.
std::optional<nlohmann::json> remote_membership_event(storage::sql::Connection& c, const storage::StoredMembership& m,
                                                      const std::string& user) {
  const auto outlier = storage::event_graph_store::find_outside(c, m.event_id);
  if (!outlier) return std::nullopt;
  const nlohmann::json pdu = nlohmann::json::parse(outlier->pdu, nullptr, false);
  if (!pdu.is_object() || pdu.value("type", "") != "m.room.member" || pdu.value("state_key", "") != user) return std::nullopt;
  const auto content = pdu.find("content");
  if (content == pdu.end() || !content->is_object() || content->value("membership", "") != m.membership) return std::nullopt;
  const auto ts = pdu.find("origin_server_ts");
  return nlohmann::json{{"event_id", m.event_id},
                        {"type", "m.room.member"},
                        {"state_key", user},
                        {"sender", pdu.value("sender", "")},
                        {"origin_server_ts", ts != pdu.end() && ts->is_number_integer() ? ts->get<std::int64_t>() : 0},
                        {"content", *content}};
}

// The sender of the user's own membership event (who invited them, say).
std::string membership_sender(storage::sql::Connection& c, const storage::StoredMembership& m) {
  auto own = rs::find_event(c, m.event_id);
  if (!own) {
    const auto outlier = storage::event_graph_store::find_outside(c, m.event_id);
    return outlier ? nlohmann::json::parse(outlier->pdu, nullptr, false).value("sender", "") : "";
  }
  return own ? nlohmann::json::parse(own->pdu).value("sender", "") : "";
}
}  // namespace

// What one build of a sync answer reads once and shares between rooms.
struct SyncService::Pass {
  storage::sql::Connection& c;
  const SyncRequest& req;
  const std::string user;
  const bool initial;
  const std::int64_t since, to, now;
  const std::set<std::string> ignored;
  SentMembers& sent;
  const std::string client;  // user and device, for SentMembers
  // Room account data changed in range, by room, in client format.
  std::map<std::string, nlohmann::json> room_account_data;
  // Users the syncing user newly shares a room with: their presence is sent even if unchanged.
  std::set<std::string> newly_shared;

  // Oldest first: the last `limit` events of (from, upto] the user may see and the filter keeps, and
  // whether there were more ("limited").
  struct Timeline {
    std::vector<TimelineEvent> events;
    bool limited = false;
  };
  Timeline timeline(const Room& room, std::int64_t from, std::int64_t upto, std::int64_t limit,
                    const std::optional<rooms::HistoryVisibility>& history) const {
    Timeline out;
    const RoomEventFilter& f = req.filter.room.timeline;
    if (!f.allows_room(room.room_id)) return out;
    std::int64_t scanned = 0;
    const std::int64_t chunk = std::max<std::int64_t>(limit + 1, 50);
    auto full = [&] { return static_cast<std::int64_t>(out.events.size()) > limit; };
    while (upto > from && !full()) {
      auto rows = rs::events_between(c, room.room_id, from, upto, chunk, true);
      for (const auto& r : rows) {
        nlohmann::json e = client_event(r, *room.version, now, false);
        const bool own = e.value("type", "") == "m.room.member" && e.value("state_key", "") == user;
        const bool hidden = (history && !history->visible(r.stream, own)) ||
                            (!is_state(e) && ignored.contains(e.value("sender", ""))) || !f.matches(e);
        if (!hidden) out.events.push_back({r.stream, std::move(e)});
        if (full()) break;
      }
      scanned += static_cast<std::int64_t>(rows.size());
      if (static_cast<std::int64_t>(rows.size()) < chunk) break;
      upto = rows.back().stream - 1;
      // A sparse filter over a long history: say "limited" rather than scan on.
      if (scanned >= kMaxScannedEvents && !full()) {
        out.limited = true;
        break;
      }
    }
    if (full()) {
      out.limited = true;
      out.events.pop_back();
    }
    std::reverse(out.events.begin(), out.events.end());
    return out;
  }

  // The state events the state filter keeps, from `rows`; with lazy loading, members only for `senders`.
  // The state events the state filter keeps, from `rows`. With `lazy`, members only of `senders`; with
  // `skip_sent`, none the client has already been sent (include_redundant_members: false).
  nlohmann::json state(const Room& room, const std::vector<storage::StoredEvent>& rows, const std::set<std::string>& senders,
                       bool lazy, bool skip_sent) const {
    nlohmann::json out = nlohmann::json::array();
    const RoomEventFilter& f = req.filter.room.state;
    if (!f.allows_room(room.room_id)) return out;
    for (const auto& r : rows) {
      nlohmann::json e = client_event(r, *room.version, now, false);
      if (!f.matches(e)) continue;
      if (e.value("type", "") == "m.room.member") {
        if (lazy && !senders.contains(e.value("state_key", ""))) continue;
        if (skip_sent && sent.was_sent(client, r.event_id)) continue;
      }
      out.push_back(std::move(e));
    }
    return out;
  }

  // With lazy loading: remembers the member events this answer carries, in its state and timeline.
  void record_sent_members(const nlohmann::json& state, const nlohmann::json& timeline) {
    if (!req.filter.room.state.lazy_load_members) return;
    std::vector<std::string> ids;
    for (const auto* list : {&state, &timeline})
      for (const auto& e : *list)
        if (e.value("type", "") == "m.room.member") ids.push_back(e.value("event_id", ""));
    sent.record(client, ids);
  }

  nlohmann::json account_data_of(const std::string& room_id) const {
    auto it = room_account_data.find(room_id);
    return it == room_account_data.end() ? nlohmann::json::array() : it->second;
  }
};

std::optional<nlohmann::json> SyncService::joined_room(Pass& p, const storage::StoredMembership& m, const Room& room) {
  // A fresh view (initial sync or a new join) reaches back before the join: filter it by visibility.
  // (A join -> join profile change is not a new join.)
  const bool fresh = p.initial || (m.stream > p.since && rs::membership_at(p.c, m.room_id, p.user, p.since) != "join");
  const std::int64_t limit = p.req.filter.room.timeline.limit.value_or(kDefaultTimelineLimit);
  std::optional<rooms::HistoryVisibility> history;
  // Whenever the membership changed in range (the user may have been out for part of it).
  if (fresh || m.stream > p.since) history = rs::history_visibility_for(p.c, m.room_id, p.user, "join");
  auto [rows, limited] = p.timeline(room, fresh ? 0 : p.since, p.to, limit, history);
  const nlohmann::json account_data = p.account_data_of(m.room_id);
  if (!fresh && rows.empty() && account_data.empty()) return std::nullopt;

  const std::int64_t first = rows.empty() ? p.to + 1 : rows.front().stream;
  nlohmann::json timeline = nlohmann::json::array();
  std::set<std::string> senders{p.user};
  for (auto& r : rows) {
    senders.insert(r.event.value("sender", ""));
    timeline.push_back(std::move(r.event));
  }
  if (fresh) {
    for (auto& member : room.joined_members()) p.newly_shared.insert(std::move(member));
  } else {
    for (const auto& e : timeline)
      if (e.value("type", "") == "m.room.member" && e["content"].value("membership", "") == "join")
        p.newly_shared.insert(e.value("state_key", ""));
  }
  // State at the start of the timeline: all of it for a fresh view; after a gap, every state change in
  // it; and with lazy loading, the members of the timeline's senders the client has not been sent yet.
  const RoomEventFilter& state_filter = p.req.filter.room.state;
  const bool lazy = state_filter.lazy_load_members;
  std::vector<storage::StoredEvent> state_rows;
  if (fresh || lazy) state_rows = rs::state_before(p.c, m.room_id, first);
  else if (limited) state_rows = rs::state_before_changed_since(p.c, m.room_id, first, p.since);
  if (!fresh) {
    std::erase_if(state_rows, [&](const storage::StoredEvent& e) {
      if (limited && e.stream > p.since) return false;
      if (!lazy) return true;
      const nlohmann::json pdu = nlohmann::json::parse(e.pdu);
      const std::string key = pdu.value("state_key", "");
      return pdu.value("type", "") != "m.room.member" || !senders.contains(key) || key == p.user;
    });
  }
  // A gap's member changes stay even for members who did not speak (they are news).
  const bool lazy_filter = lazy && (fresh || !limited);
  const bool skip_sent = lazy && !fresh && !state_filter.include_redundant_members;
  const nlohmann::json state = p.state(room, state_rows, senders, lazy_filter, skip_sent);
  p.record_sent_members(state, timeline);

  RoomMembers room_members = room.members();
  std::vector<std::string>& members = room_members.joined_or_invited;  // and below, but the user
  std::erase(members, p.user);
  const RoomSummary face = room.summary();
  const bool named = face.name || (face.canonical_alias && face.canonical_alias->content_string("alias"));
  nlohmann::json summary = {{"m.joined_member_count", static_cast<std::int64_t>(room_members.joined)},
                            {"m.invited_member_count", static_cast<std::int64_t>(room_members.invited)}};
  if (!named) {
    // A room without a name is named by clients after up to five of its members (the heroes).
    std::sort(members.begin(), members.end());
    if (members.size() > 5) members.resize(5);
    summary["m.heroes"] = members;
  }
  return nlohmann::json{
      {"timeline", {{"events", timeline}, {"limited", limited}, {"prev_batch", "t" + std::to_string(first)}}},
      {"state", {{"events", state}}},
      {"summary", summary},
      {"ephemeral", {{"events", nlohmann::json::array()}}},
      {"account_data", {{"events", account_data}}},
      {"unread_notifications", {{"highlight_count", 0}, {"notification_count", 0}}}};
}

std::optional<nlohmann::json> SyncService::left_room(Pass& p, const storage::StoredMembership& m, const Room& room) {
  const bool changed = m.stream > p.since;
  const nlohmann::json account_data = p.account_data_of(m.room_id);
  if (!changed && !p.initial && account_data.empty()) return std::nullopt;
  if (!p.req.since && !p.req.filter.room.include_leave) {
    // Initial sync: rooms the user was kicked or banned from appear; voluntary leaves only on request.
    if (m.membership != "ban" && membership_sender(p.c, m) == p.user) return std::nullopt;
  }
  const std::int64_t limit = p.req.filter.room.timeline.limit.value_or(kDefaultTimelineLimit);
  const auto history = rs::history_visibility_for(p.c, m.room_id, p.user, m.membership);
  const std::int64_t from = p.initial || !changed ? 0 : p.since;
  auto [rows, limited] = p.timeline(room, from, m.stream, limit, history);
  const std::int64_t first = rows.empty() ? m.stream : rows.front().stream;
  nlohmann::json timeline = nlohmann::json::array();
  std::set<std::string> senders{p.user};
  for (auto& r : rows) {
    senders.insert(r.event.value("sender", ""));
    timeline.push_back(std::move(r.event));
  }
  // State at the start of the timeline: in an incremental sync, only what changed since `since` if the
  // user was joined then (else they never saw the room's state: all of it).
  auto state_rows = rs::state_before(p.c, m.room_id, first);
  if (!p.initial && rs::membership_at(p.c, m.room_id, p.user, p.since) == "join") {
    std::erase_if(state_rows, [&](const storage::StoredEvent& e) { return e.stream <= p.since; });
  }
  return nlohmann::json{
      {"timeline", {{"events", timeline}, {"limited", limited}, {"prev_batch", "t" + std::to_string(first)}}},
      {"state", {{"events", p.state(room, state_rows, senders, p.req.filter.room.state.lazy_load_members, false)}}},
      {"account_data", {{"events", account_data}}}};
}

nlohmann::json SyncService::presence(Pass& p) {
  namespace ps = storage::presence_store;
  std::vector<storage::StoredPresence> rows = ps::changed_for(p.c, p.user, p.initial ? 0 : p.since, p.to);
  if (!p.initial) {
    std::vector<std::string> extra;
    for (const auto& u : p.newly_shared) {
      const bool listed = std::any_of(rows.begin(), rows.end(), [&](const auto& r) { return r.user_id == u; });
      if (!listed && u != p.user) extra.push_back(u);
    }
    for (auto& r : ps::of_users(p.c, extra))
      if (r.stream <= p.to) rows.push_back(std::move(r));
  }
  const EventFilter& f = p.req.filter.presence;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : rows) {
    if (!f.matches("m.presence", r.user_id)) continue;
    if (f.limit && static_cast<std::int64_t>(out.size()) >= *f.limit) break;
    out.push_back(presence_event(r, p.now));
  }
  return out;
}

nlohmann::json SyncService::build(storage::sql::Connection& c, const SyncRequest& req, std::int64_t since, std::int64_t to,
                                  std::vector<std::string>& joined_rooms, bool& has_news) {
  joined_rooms.clear();
  Pass p{c,  req, req.user.str(), !req.since || req.full_state, since, to, clock_.now_ms(), ignored_users(c, req.user.str()),
         sent_members_, req.user.str() + "|" + req.device_id, {}, {}};
  if (!req.since) sent_members_.reset(p.client);
  const RoomFilter& rf = req.filter.room;

  // Account data changed in range (everything on an initial sync): global, and per room for the rooms below.
  nlohmann::json global_account_data = nlohmann::json::array();
  for (const auto& a : storage::account_data_store::changed(c, p.user, p.initial ? 0 : since, to)) {
    nlohmann::json event = {{"type", a.type}, {"content", nlohmann::json::parse(a.content)}};
    if (a.room_id.empty()) {
      const EventFilter& f = req.filter.account_data;
      if (f.matches(a.type, p.user) && (!f.limit || static_cast<std::int64_t>(global_account_data.size()) < *f.limit)) {
        global_account_data.push_back(std::move(event));
      }
    } else if (rf.account_data.allows_room(a.room_id) && rf.account_data.EventFilter::matches(a.type, p.user)) {
      p.room_account_data[a.room_id].push_back(std::move(event));
    }
  }

  nlohmann::json join = nlohmann::json::object(), invite = nlohmann::json::object(), leave = nlohmann::json::object(),
                 knock = nlohmann::json::object();
  // A user who blocks invites sees none, also those that came anyway (read once, when there is one).
  std::optional<bool> blocking;
  auto invites_blocked = [&] {
    if (!blocking) blocking = invite_permission::blocks_invites(c, p.user);
    return *blocking;
  };
  for (const auto& m : rs::memberships_of(c, p.user)) {
    if (m.forgotten || m.stream > to) continue;
    if (m.membership == "join") joined_rooms.push_back(m.room_id);
    if (!rf.allows_room(m.room_id)) continue;
    auto room = registry_.get(c, m.room_id);
    if (!room) {
      // Only an invite from another server or a knock through one names a room this server does not have;
      // once rejected, withdrawn, or taken back with a kick or ban, an incremental sync says the room was
      // left, with the leave (or ban) when this server has it.
      if ((m.membership == "leave" || m.membership == "ban") && !p.initial && m.stream > since) {
        nlohmann::json timeline = nlohmann::json::array();
        if (auto event = remote_membership_event(c, m, p.user)) timeline.push_back(std::move(*event));
        leave[m.room_id] = {{"state", {{"events", nlohmann::json::array()}}},
                            {"timeline", {{"events", std::move(timeline)}, {"limited", false}}},
                            {"account_data", {{"events", nlohmann::json::array()}}}};
      }
      if (!p.initial && m.stream <= since) continue;
      if (m.membership == "knock") {
        if (auto state = remote_stripped_state(c, m, "knock_room_state")) knock[m.room_id] = {{"knock_state", {{"events", std::move(*state)}}}};
        continue;
      }
      if (m.membership != "invite") continue;
      if (p.ignored.contains(membership_sender(c, m)) || invites_blocked()) continue;
      if (auto state = remote_stripped_state(c, m, "invite_room_state")) invite[m.room_id] = {{"invite_state", {{"events", std::move(*state)}}}};
      continue;
    }
    const bool changed = m.stream > since;
    if (m.membership == "join") {
      if (auto r = joined_room(p, m, *room)) join[m.room_id] = std::move(*r);
    } else if (m.membership == "invite") {
      if (!p.initial && !changed) continue;
      if (p.ignored.contains(membership_sender(c, m))) continue;  // invites from ignored users are not shown
      if (invites_blocked()) continue;
      // A room this server left, invited to again from another server: the invite is kept outside it.
      std::optional<nlohmann::json> kept_outside;
      if (!rs::find_event(c, m.event_id)) kept_outside = remote_stripped_state(c, m, "invite_room_state");
      nlohmann::json state = kept_outside ? std::move(*kept_outside) : stripped_state(c, *room, m);
      invite[m.room_id] = {{"invite_state", {{"events", std::move(state)}}}};
    } else if (m.membership == "knock") {
      if (!p.initial && !changed) continue;
      // A room this server left, knocked on again through another server: the knock is kept outside it.
      std::optional<nlohmann::json> kept_outside;
      if (!rs::find_event(c, m.event_id)) kept_outside = remote_stripped_state(c, m, "knock_room_state");
      nlohmann::json state = kept_outside ? std::move(*kept_outside) : stripped_state(c, *room, m);
      knock[m.room_id] = {{"knock_state", {{"events", std::move(state)}}}};
    } else if (auto r = left_room(p, m, *room)) {  // leave or ban
      leave[m.room_id] = std::move(*r);
    }
  }
  const nlohmann::json presence_events = presence(p);

  nlohmann::json rooms = nlohmann::json::object();
  if (!join.empty()) rooms["join"] = join;
  if (!invite.empty()) rooms["invite"] = invite;
  if (!leave.empty()) rooms["leave"] = leave;
  if (!knock.empty()) rooms["knock"] = knock;
  has_news = !rooms.empty() || !global_account_data.empty() || !presence_events.empty();
  // This device's to-device messages not yet acknowledged; when more wait than one answer carries, the
  // token remembers how far they got.
  std::string next_batch = "s" + std::to_string(to);
  nlohmann::json to_device = nlohmann::json::array();
  if (!req.device_id.empty()) {
    const std::int64_t to_device_since = req.since_to_device.value_or(since);
    const auto messages = storage::to_device_store::pending(c, p.user, req.device_id, to_device_since, to, kMaxToDevicePerSync);
    for (const auto& m : messages) to_device.push_back(nlohmann::json::parse(m.message_json));
    if (static_cast<std::int64_t>(messages.size()) == kMaxToDevicePerSync && messages.back().stream < to) {
      next_batch += "_" + std::to_string(messages.back().stream);
    }
  }
  nlohmann::json device_lists = {{"changed", nlohmann::json::array()}, {"left", nlohmann::json::array()}};
  if (req.since) {
    const DeviceListDelta delta = device_list_delta(c, p.user, since, to);
    device_lists = {{"changed", delta.changed}, {"left", delta.left}};
  }
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& [algorithm, n] : storage::e2e_key_store::one_time_key_counts(c, p.user, req.device_id)) counts[algorithm] = n;
  has_news = has_news || !to_device.empty() || !device_lists["changed"].empty() || !device_lists["left"].empty();
  nlohmann::json out = {{"next_batch", next_batch},
                        {"account_data", {{"events", global_account_data}}},
                        {"presence", {{"events", presence_events}}},
                        {"to_device", {{"events", to_device}}},
                        {"device_lists", device_lists},
                        {"device_one_time_keys_count", counts},
                        {"device_unused_fallback_key_types",
                         storage::e2e_key_store::unused_fallback_key_algorithms(c, p.user, req.device_id)}};
  if (!rooms.empty()) out["rooms"] = rooms;
  return out;
}

Task<nlohmann::json> SyncService::sync(SyncRequest req) {
  const std::int64_t since = req.since.value_or(0);
  if (req.since && !req.device_id.empty()) {
    // The client got every to-device message up to its token: they can go (a write only when there are some).
    const std::int64_t acknowledged = req.since_to_device.value_or(since);
    const std::string user = req.user.str();
    const bool any = co_await db_.read([&](storage::sql::Connection& c) {
      return !storage::to_device_store::pending(c, user, req.device_id, 0, acknowledged, 1).empty();
    });
    if (any) {
      co_await db_.write([&](storage::sql::Connection& c) {
        storage::to_device_store::delete_up_to(c, user, req.device_id, acknowledged);
      });
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + req.timeout;
  for (;;) {
    const std::int64_t to = notifier_.position();
    std::vector<std::string> joined_rooms;
    bool has_news = false;
    // A sync far behind (or an initial one) may read a lot: it waits in the bulk queue, so a herd of them
    // cannot starve /messages and other interactive reads.
    const auto kind = !req.since || to - since > kCatchUpPositions ? storage::Database::ReadKind::bulk
                                                                  : storage::Database::ReadKind::interactive;
    nlohmann::json result = co_await db_.read(
        [&](storage::sql::Connection& c) { return build(c, req, since, to, joined_rooms, has_news); }, kind);
    const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    // An initial (or full-state) sync answers at once; with a `since` token, only news or the timeout does.
    if (has_news || !req.since || req.full_state || remaining.count() <= 0) co_return result;
    co_await notifier_.wait(req.user.str(), joined_rooms, std::max(since, to), remaining);
    if (notifier_.position() == to) co_return result;  // timed out, or the server is shutting down
  }
}

}  // namespace herald::homeserver
