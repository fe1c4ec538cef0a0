#include "homeserver/rooms/event_pipeline.h"

#include <algorithm>
#include <mutex>
#include <set>
#include <unordered_map>

#include "crypto/base64.h"
#include "events/event_builder.h"
#include "events/redaction.h"
#include "events/room_version.h"
#include "federation/server_key_ring.h"
#include "homeserver/rooms/pdu_checks.h"
#include "rooms/auth/auth_rules.h"
#include "rooms/state_resolution.h"
#include "storage/room_write_transaction.h"

namespace herald::homeserver {
using events::EventPtr;
using storage::StateIds;

const char* to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::accepted: return "accepted";
    case Outcome::soft_failed: return "soft_failed";
    case Outcome::rejected: return "rejected";
    case Outcome::outlier: return "outlier";
    case Outcome::duplicate: return "duplicate";
    case Outcome::dropped: return "dropped";
  }
  return "dropped";
}

namespace {

StateIds ids_of(const rooms::RoomState& state) {
  StateIds ids;
  for (const auto& [key, event] : state.events()) ids.emplace(key, event->event_id());
  return ids;
}

// The state group holding the room's current state, stored now if the room predates the graph.
std::int64_t current_state_group(storage::RoomWriteTransaction& tx, Room& room) {
  if (room.state_group != 0 || room.state.events().empty()) return room.state_group;
  room.state_group = tx.add_state_group(room.room_id, std::nullopt, ids_of(room.state));
  tx.set_room_state_group(room.room_id, room.state_group);
  return room.state_group;
}

// Loads events by ID for one receipt: from the room's cached state first, then storage.
class EventLoader {
 public:
  EventLoader(storage::RoomWriteTransaction& tx, const Room& room) : tx_(tx), room_(room) {}
  EventPtr operator()(const std::string& id) {
    if (auto it = loaded_.find(id); it != loaded_.end()) return it->second;
    for (const auto& event : room_.extremities)
      if (event->event_id() == id) return event;
    EventPtr event;
    if (auto pdu = tx_.find_pdu(id)) event = events::event_from_pdu(*room_.version, id, room_.room_id, *pdu);
    loaded_.emplace(id, event);
    return event;
  }
  void remember(const EventPtr& event) { loaded_[event->event_id()] = event; }

 private:
  storage::RoomWriteTransaction& tx_;
  const Room& room_;
  std::unordered_map<std::string, EventPtr> loaded_;
};

rooms::RoomState state_from_ids(const events::RoomVersion& version, const StateIds& ids, EventLoader& load) {
  rooms::RoomState state(version);
  for (const auto& [key, id] : ids)
    if (EventPtr e = load(id)) state.apply(e);
  return state;
}

}  // namespace

storage::NewEventRow EventPipeline::timeline_row(const events::Event& event, const rooms::RoomState& before) {
  nlohmann::json unsigned_data = nlohmann::json::object();
  if (const std::string* key = event.state_key()) {
    if (const EventPtr* old = before.find(event.type(), *key)) {
      unsigned_data["replaces_state"] = (*old)->event_id();
      unsigned_data["prev_content"] = (*old)->content();
      unsigned_data["prev_sender"] = (*old)->sender();
    }
  }
  return storage::NewEventRow{0, event.event_id(), event.room_id(), event.type(),
                              event.state_key() ? std::optional<std::string>(*event.state_key()) : std::nullopt,
                              event.sender(),
                              event.type() == "m.room.member" ? std::optional<std::string>(event.membership()) : std::nullopt,
                              event.pdu_text(), unsigned_data.empty() ? std::nullopt : std::optional<std::string>(unsigned_data.dump())};
}

std::vector<EventPtr> EventPipeline::local_prev_events(const Room& room) {
  std::vector<EventPtr> prev = room.extremities;
  if (prev.size() > kMaxLocalPrevEvents) {
    // The deepest ones: the newest history, and what other servers most likely have.
    std::partial_sort(prev.begin(), prev.begin() + kMaxLocalPrevEvents, prev.end(),
                      [](const EventPtr& a, const EventPtr& b) { return a->depth() > b->depth(); });
    prev.resize(kMaxLocalPrevEvents);
  }
  return prev;
}

std::int64_t EventPipeline::next_depth(const std::vector<EventPtr>& prev_events) {
  std::int64_t depth = 0;
  for (const auto& p : prev_events) depth = std::max(depth, p->depth());
  return depth + 1;
}

std::int64_t EventPipeline::append_local(storage::RoomWriteTransaction& tx, Room& room, LocalEvent local) {
  tx.lock_room(room.room_id);
  const EventPtr& event = local.event;
  const std::int64_t before = current_state_group(tx, room);
  std::int64_t after = before;
  std::optional<storage::StateGroupInfo> after_info;
  if (const std::string* key = event->state_key()) {
    const bool adds_key = room.state.find(event->type(), *key) == nullptr;
    const storage::CachedState cached_state = [&room](const storage::StateVisitor& visit) {
      for (const auto& [key, e] : room.state.events()) visit(key, e->event_id());
    };
    // The room remembers its group's place in the chain, so the common case reads nothing back.
    const storage::StateGroupInfo* known =
        before != 0 && room.state_group_info.group == before ? &room.state_group_info : nullptr;
    after_info = tx.add_state_delta(room.room_id, before, known, {event->type(), *key}, event->event_id(), adds_key,
                                    cached_state);
    after = after_info->group;
  }
  storage::GraphEventRow stored{std::move(local.row), {before, after}, true};
  stored.row.stream = tx.next_stream_position();
  tx.append(stored);
  tx.update_forward_extremities(room.room_id, event->prev_event_ids().to_vector(), event->event_id());
  std::vector<EventPtr> extremities;
  for (const auto& e : room.extremities)
    if (!event->prev_event_ids().contains(e->event_id())) extremities.push_back(e);
  extremities.push_back(event);
  // With one extremity the stored current state is the state after it; the rooms row says it only
  // while several remain.
  if (extremities.size() > 1) tx.set_room_state_group(room.room_id, after);
  std::unique_lock lock(room.mutex);
  room.apply(event);
  room.extremities = std::move(extremities);
  room.state_group = after;
  if (after_info) room.state_group_info = *after_info;
  room.position = stored.row.stream;
  return stored.row.stream;
}

Received EventPipeline::receive(storage::RoomWriteTransaction& tx, Room& room, const nlohmann::json& pdu_in,
                                std::int64_t now_ms) {
  const events::RoomVersion& version = *room.version;
  tx.lock_room(room.room_id);
  Received out;
  auto finish = [&](Outcome outcome, std::string reason) {
    out.outcome = outcome;
    out.reason = std::move(reason);
    return out;
  };

  // 1. Format and size.
  const std::string text = pdu_in.is_object() ? pdu_in.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : "";
  if (auto problem = pdu_checks::format_problem(pdu_in, version, room.room_id, text.size())) return finish(Outcome::dropped, *problem);
  nlohmann::json pdu = pdu_in;
  pdu.erase("unsigned");  // what another server says about the event is not part of it
  std::string event_id;
  std::string reference;
  try {
    if (version.event_ids != events::EventIdFormat::server_assigned) pdu.erase("event_id");
    reference = events::reference_hash(pdu, version);  // the same for the event and its redacted form
  } catch (const std::exception&) {
    return finish(Outcome::dropped, "the PDU cannot be canonicalised");
  }
  if (version.event_ids == events::EventIdFormat::server_assigned) event_id = pdu["event_id"].get<std::string>();
  else event_id = events::event_id_from_reference_hash(reference, version);
  out.event_id = event_id;
  const auto outside = tx.find_outside(event_id);
  const bool waiting_outlier = outside && outside->status == storage::OutsideStatus::outlier;
  if (tx.is_known(event_id) && !waiting_outlier) return finish(Outcome::duplicate, "already stored");

  // 2. Signatures, over the redacted event.
  const nlohmann::json redacted = events::redact(pdu, version);
  if (const auto unsigned_by = pdu_checks::missing_signature(pdu, redacted, version, keys_)) {
    return finish(Outcome::dropped, "no valid signature of " + *unsigned_by + " with a known key");
  }

  // 3. Content hash: a mismatch keeps the event, redacted.
  const std::string expected_hash = pdu["hashes"]["sha256"].get<std::string>();
  std::string actual_hash;
  try {
    actual_hash = events::content_hash(pdu);
  } catch (const std::exception&) {
    return finish(Outcome::dropped, "the PDU cannot be canonicalised");
  }
  if (actual_hash != expected_hash) {
    pdu = redacted;
    out.redacted = true;
  }
  const std::string stored_text = pdu.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  EventPtr event = events::Event::from_text(event_id, room.room_id, stored_text, reference);
  out.event = event;
  const auto prev_ids = *pdu_checks::reference_ids(pdu, "prev_events", kMaxPrevEvents, version);
  const auto auth_ids = *pdu_checks::reference_ids(pdu, "auth_events", kMaxAuthEvents, version);
  EventLoader load(tx, room);

  auto keep_outside = [&](storage::OutsideStatus status, const std::string& reason, std::optional<std::int64_t> state_before) {
    tx.store_outside({event_id, room.room_id, status, reason, stored_text, state_before}, now_ms);
  };

  // 4. Auth against the event's own auth_events. Usually they are current state: look there by the keys
  // the event's auth events should have before going to storage.
  for (const auto& [type, key] : rooms::auth::auth_event_keys(version, event->type(), event->state_key(), event->sender(),
                                                              event->content())) {
    if (const EventPtr* current = room.state.find(type, key)) load.remember(*current);
  }
  std::vector<EventPtr> auth_events;
  for (const auto& id : auth_ids) {
    EventPtr a = load(id);
    if (!a) {
      keep_outside(storage::OutsideStatus::rejected, "auth event " + id + " is unknown", std::nullopt);
      return finish(Outcome::rejected, "auth event " + id + " is unknown");
    }
    auth_events.push_back(std::move(a));
  }
  if (auto denial = rooms::auth::check_auth_events(*event, auth_events, version)) {
    keep_outside(storage::OutsideStatus::rejected, denial->reason, std::nullopt);
    return finish(Outcome::rejected, denial->reason);
  }
  EventPtr create = version.room_id_from_create ? load("$" + room.room_id.substr(1)) : nullptr;
  if (auto denial = rooms::auth::check_event(*event, rooms::auth::auth_state(version, auth_events, create))) {
    keep_outside(storage::OutsideStatus::rejected, "not allowed by its auth events: " + denial->reason, std::nullopt);
    return finish(Outcome::rejected, "not allowed by its auth events: " + denial->reason);
  }

  // The common case: the event follows the room's one extremity, so the state before it is the current
  // state, already in memory; it is stored exactly as a local event would be.
  if (prev_ids.size() == 1 && room.extremities.size() == 1 && room.extremities.front()->event_id() == prev_ids.front()) {
    if (auto denial = rooms::auth::check_event(*event, room.state)) {
      keep_outside(storage::OutsideStatus::rejected, denial->reason, current_state_group(tx, room));
      return finish(Outcome::rejected, denial->reason);
    }
    if (waiting_outlier) tx.delete_outside(event_id);
    LocalEvent follows{event, timeline_row(*event, room.state)};
    out.stream = append_local(tx, room, std::move(follows));
    out.unblocked = tx.take_referrers(event_id);
    return finish(Outcome::accepted, "");
  }

  // Its place in the graph: without every prev event's state it waits as an outlier (the transport
  // fetches what missing_prev_events lists, then hands the event in again).
  struct PrevState {
    StateIds ids;
    std::optional<std::int64_t> group;
  };
  std::vector<PrevState> prev_states;
  for (const auto& id : prev_ids) {
    if (auto groups = tx.state_groups_of(id)) {
      prev_states.push_back({tx.state_of_group(groups->after), groups->after});
      continue;
    }
    auto prev_outside = tx.find_outside(id);
    if (prev_outside && prev_outside->status != storage::OutsideStatus::outlier && prev_outside->state_before) {
      // A rejected event adds nothing to state; a soft-failed one does.
      PrevState s{tx.state_of_group(*prev_outside->state_before), std::nullopt};
      if (prev_outside->status == storage::OutsideStatus::soft_failed) {
        if (EventPtr p = load(id); p && p->state_key()) s.ids[{p->type(), *p->state_key()}] = id;
      }
      prev_states.push_back(std::move(s));
      continue;
    }
    if (!prev_outside && tx.find_pdu(id)) {  // a timeline event stored before the graph existed
      prev_states.push_back({tx.linear_state_after(room.room_id, id), std::nullopt});
      continue;
    }
    out.missing_prev_events.push_back(id);
  }
  if (!out.missing_prev_events.empty() || prev_ids.empty()) {
    for (const auto& missing : out.missing_prev_events) tx.add_missing_prev(room.room_id, missing, event_id);
    keep_outside(storage::OutsideStatus::outlier, "prev events not stored yet", std::nullopt);
    return finish(Outcome::outlier, prev_ids.empty() ? "no prev_events" : "waiting for its prev events");
  }

  // 5. The state before the event: its prev events' states, resolved when there are several.
  StateIds before_ids;
  std::optional<std::int64_t> before_group;
  bool all_same = true;
  for (const auto& s : prev_states) all_same = all_same && s.group && s.group == prev_states.front().group;
  if (all_same) {
    before_ids = prev_states.front().ids;
    before_group = prev_states.front().group;
  } else {
    std::vector<StateIds> sets;
    for (const auto& s : prev_states) sets.push_back(s.ids);
    const rooms::state_resolution::EventLookup lookup = [&load](const std::string& id) { return load(id); };
    before_ids = rooms::state_resolution::resolve(version, sets, lookup);
  }
  if (!before_group) {
    std::optional<std::int64_t> base;
    for (const auto& s : prev_states)
      if (s.group) base = s.group;
    before_group = tx.add_state_group(room.room_id, base, before_ids);
  }
  const rooms::RoomState before = state_from_ids(version, before_ids, load);
  if (auto denial = rooms::auth::check_event(*event, before)) {
    keep_outside(storage::OutsideStatus::rejected, denial->reason, before_group);
    return finish(Outcome::rejected, denial->reason);
  }
  // 6. Soft failure: valid where it was sent, but the room has moved on (a ban since, say).
  if (auto denial = rooms::auth::check_event(*event, room.state)) {
    keep_outside(storage::OutsideStatus::soft_failed, denial->reason, before_group);
    return finish(Outcome::soft_failed, denial->reason);
  }

  // Accepted: store it with its state, then move the extremities and the current state.
  if (waiting_outlier) tx.delete_outside(event_id);
  std::int64_t after_group = *before_group;
  StateIds after_ids = before_ids;
  if (const std::string* key = event->state_key()) {
    const rooms::StateKey state_key{event->type(), *key};
    after_group = tx.add_state_delta(room.room_id, *before_group, nullptr, state_key, event_id, !before_ids.contains(state_key))
                      .group;
    after_ids[state_key] = event_id;
  }
  storage::GraphEventRow row{timeline_row(*event, before), {*before_group, after_group}, false};
  row.row.stream = tx.next_stream_position();
  tx.append(row);
  out.stream = row.row.stream;
  load.remember(event);

  // Outliers that waited for this event can now be handed in again. They are not in the timeline, so
  // this event stays an extremity until one of them is accepted after it.
  out.unblocked = tx.take_referrers(event_id);
  tx.update_forward_extremities(room.room_id, prev_ids, event_id);
  std::vector<EventPtr> extremities;
  for (const auto& e : room.extremities)
    if (std::find(prev_ids.begin(), prev_ids.end(), e->event_id()) == prev_ids.end()) extremities.push_back(e);
  extremities.push_back(event);

  // The current state: the state after the one extremity, or the resolution of all of theirs.
  StateIds current_ids;
  std::int64_t current_group = after_group;
  if (extremities.size() == 1 && extremities.front() == event) {
    current_ids = std::move(after_ids);
  } else {
    std::vector<StateIds> sets;
    for (const auto& e : extremities) {
      if (e == event) sets.push_back(after_ids);
      else if (auto groups = tx.state_groups_of(e->event_id())) sets.push_back(tx.state_of_group(groups->after));
      else sets.push_back(tx.linear_state_after(room.room_id, e->event_id()));
    }
    if (sets.empty()) sets.push_back(ids_of(room.state));
    const rooms::state_resolution::EventLookup lookup = [&load](const std::string& id) { return load(id); };
    current_ids = sets.size() == 1 ? sets.front() : rooms::state_resolution::resolve(version, sets, lookup);
    current_group = tx.add_state_group(room.room_id, after_group, current_ids);
  }
  const StateIds old_ids = ids_of(room.state);
  bool removes = false;
  for (const auto& [key, id] : old_ids) {
    if (!current_ids.contains(key)) {
      tx.set_current_state(room.room_id, key, std::nullopt);
      removes = true;
    }
  }
  std::vector<EventPtr> changed;
  for (const auto& [key, id] : current_ids) {
    auto it = old_ids.find(key);
    if (it != old_ids.end() && it->second == id) continue;
    tx.set_current_state(room.room_id, key, id);
    if (EventPtr e = load(id)) changed.push_back(std::move(e));
  }
  tx.set_room_state_group(room.room_id, current_group);

  std::unique_lock lock(room.mutex);
  if (removes) {
    room.replace_state(state_from_ids(version, current_ids, load));
  } else {
    for (const auto& e : changed) room.apply(e);
    ++room.applied;
  }
  room.extremities = std::move(extremities);
  room.state_group = current_group;
  room.position = row.row.stream;
  return finish(Outcome::accepted, "");
}

}  // namespace herald::homeserver
