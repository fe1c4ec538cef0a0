#pragma once
// Rooms and their events in portable SQL. Functions run inside a Database job.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rooms/history_visibility.h"
#include "rooms/room_state.h"
#include "storage/event_graph_store.h"

namespace herald::storage {

namespace sql {
class Connection;
}

struct StoredRoom {
  std::string room_id;
  std::string room_version;
  std::string creator;
  bool is_public = false;
};

struct StoredEvent {
  std::int64_t stream = 0;
  std::string event_id;
  std::string room_id;
  std::string pdu;  // JSON text
  std::optional<std::string> unsigned_json;
  std::optional<std::string> redacted_by;
};

struct StoredMembership {
  std::string room_id;
  std::string membership;
  std::string event_id;
  std::int64_t stream = 0;
  bool forgotten = false;
};

struct NewEventRow {
  std::int64_t stream;
  std::string event_id;
  std::string room_id;
  std::string type;
  std::optional<std::string> state_key;
  std::string sender;
  std::optional<std::string> membership;
  std::string pdu;
  std::optional<std::string> unsigned_json;
};

namespace room_store {

void insert_room(sql::Connection& c, const StoredRoom& room, std::int64_t now_ms);
std::optional<StoredRoom> find_room(sql::Connection& c, const std::string& room_id);
void set_room_public(sql::Connection& c, const std::string& room_id, bool is_public);
std::vector<StoredRoom> public_rooms(sql::Connection& c, std::int64_t limit, std::int64_t offset);
std::int64_t count_public_rooms(sql::Connection& c);
std::int64_t max_stream(sql::Connection& c);

// Inserts the event; for state events updates current_state, for member events the membership row.
void insert_event(sql::Connection& c, const NewEventRow& row);
// The event pipeline's parts of insert_event: the timeline row (with its state groups when known), and
// a change of the room's current state (a member's is its memberships row).
void insert_event_row(sql::Connection& c, const NewEventRow& row, const std::optional<EventStateGroups>& state);
void apply_to_current_state(sql::Connection& c, const NewEventRow& row);
// A state event of a room this server joined through another server: part of the room's state, never
// of the timeline (/sync, /messages and /context skip it). No state groups: it has no place in our graph.
void insert_state_only_row(sql::Connection& c, const NewEventRow& row);
// Sets one key of current state to a stored timeline event, or removes the key.
void set_current_state_entry(sql::Connection& c, const std::string& room_id, const rooms::StateKey& key,
                             const std::optional<std::string>& event_id);
// The state just before stream position `before` by stream order: right for linear histories only (rooms
// written before the event graph); see state_before.
StateIds state_ids_before(sql::Connection& c, const std::string& room_id, std::int64_t before);
void mark_redacted(sql::Connection& c, const std::string& event_id, const std::string& redaction_id);

std::vector<StoredEvent> current_state(sql::Connection& c, const std::string& room_id);
// The state just before stream position `before`: the state group stored with the room's first event at or
// after it (resolved across forks), or the current state past its newest event.
std::vector<StoredEvent> state_before(sql::Connection& c, const std::string& room_id, std::int64_t before);
// The part of state_before written after stream position `since`: what changed in a gap.
std::vector<StoredEvent> state_before_changed_since(sql::Connection& c, const std::string& room_id, std::int64_t before,
                                                   std::int64_t since);
std::optional<StoredEvent> find_event(sql::Connection& c, const std::string& event_id);
// Timeline events with from < stream <= to, newest first, at most limit.
std::vector<StoredEvent> events_between(sql::Connection& c, const std::string& room_id, std::int64_t from,
                                        std::int64_t to, std::int64_t limit, bool newest_first);

// Who may see which event of the room: its history_visibility changes and the user's memberships.
rooms::HistoryVisibility history_visibility_for(sql::Connection& c, const std::string& room_id, const std::string& user_id,
                                                const std::string& current_membership);

// The user's membership in the room as of stream position `at` ("leave" when none yet).
std::string membership_at(sql::Connection& c, const std::string& room_id, const std::string& user_id, std::int64_t at);
std::vector<StoredMembership> memberships_of(sql::Connection& c, const std::string& user_id);
std::optional<StoredMembership> membership(sql::Connection& c, const std::string& room_id, const std::string& user_id);
void set_forgotten(sql::Connection& c, const std::string& room_id, const std::string& user_id);
// Whether one of this server's users (an account here) is joined to the room now: whether this server is
// in it, rather than keeping what it last saw of a room it left.
bool has_joined_local_user(sql::Connection& c, const std::string& room_id);
// A membership row with no timeline event behind it: an invite from another server to a room this server
// is not in (the event is an outlier), or its local rejection.
void set_membership_outside_timeline(sql::Connection& c, const std::string& room_id, const std::string& user_id,
                                     const std::string& membership, const std::string& event_id, std::int64_t stream);
// The highest stream position of a membership row (those above may have no event; read at startup).
std::int64_t max_membership_stream(sql::Connection& c);

bool insert_alias(sql::Connection& c, const std::string& alias, const std::string& room_id, const std::string& creator);
std::optional<std::string> alias_room(sql::Connection& c, const std::string& alias);
std::optional<std::string> alias_creator(sql::Connection& c, const std::string& alias);
bool delete_alias(sql::Connection& c, const std::string& alias);
std::vector<std::string> aliases_of(sql::Connection& c, const std::string& room_id);

std::optional<std::string> transaction_event(sql::Connection& c, const std::string& user_id, const std::string& device_id,
                                             const std::string& txn_key);
void insert_transaction(sql::Connection& c, const std::string& user_id, const std::string& device_id,
                        const std::string& txn_key, const std::string& event_id);

std::int64_t insert_filter(sql::Connection& c, const std::string& user_id, const std::string& filter_json);
std::optional<std::string> find_filter(sql::Connection& c, const std::string& user_id, std::int64_t filter_id);

}  // namespace room_store
}  // namespace herald::storage
