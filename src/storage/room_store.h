#pragma once
// Rooms and their events in portable SQL. Functions run inside a Database job.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rooms/history_visibility.h"

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
void mark_redacted(sql::Connection& c, const std::string& event_id, const std::string& redaction_id);

std::vector<StoredEvent> current_state(sql::Connection& c, const std::string& room_id);
// The state just before stream position `before` (linear history): the latest event of each key below it.
std::vector<StoredEvent> state_before(sql::Connection& c, const std::string& room_id, std::int64_t before);
std::optional<StoredEvent> latest_event(sql::Connection& c, const std::string& room_id);
std::optional<StoredEvent> find_event(sql::Connection& c, const std::string& event_id);
// Events with from < stream <= to, newest first, at most limit.
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
