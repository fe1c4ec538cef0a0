#include "storage/sql_room_write_transaction.h"

#include "storage/sql/connection.h"

namespace herald::storage {
namespace graph = event_graph_store;

std::int64_t SqlRoomWriteTransaction::next_stream_position() {
  if (stored_max_ < 0) stored_max_ = others_wrote_ ? room_store::max_stream(c_) : 0;
  return next_position_(stored_max_);
}

std::int64_t SqlRoomWriteTransaction::room_position(const std::string& room_id) { return graph::room_position(c_, room_id); }

std::optional<std::string> SqlRoomWriteTransaction::find_pdu(const std::string& event_id) { return graph::find_pdu(c_, event_id); }

bool SqlRoomWriteTransaction::is_known(const std::string& event_id) { return graph::is_known(c_, event_id); }

std::optional<EventStateGroups> SqlRoomWriteTransaction::state_groups_of(const std::string& event_id) {
  return graph::event_state_groups(c_, event_id);
}

std::optional<OutsideEvent> SqlRoomWriteTransaction::find_outside(const std::string& event_id) {
  return graph::find_outside(c_, event_id);
}

StateIds SqlRoomWriteTransaction::linear_state_after(const std::string& room_id, const std::string& event_id) {
  const auto stored = room_store::find_event(c_, event_id);
  if (!stored) return {};
  return room_store::state_ids_before(c_, room_id, stored->stream + 1);
}

StateIds SqlRoomWriteTransaction::state_of_group(std::int64_t group) { return graph::state_of_group(c_, group); }

StateGroupInfo SqlRoomWriteTransaction::add_state_delta(const std::string& room_id, std::int64_t prev_group,
                                                        const StateGroupInfo* prev, const rooms::StateKey& key,
                                                        const std::string& event_id, bool adds_key,
                                                        const CachedState& prev_state) {
  return graph::add_state_delta(c_, room_id, prev_group, prev, key, event_id, adds_key, prev_state, next_state_group_);
}

std::int64_t SqlRoomWriteTransaction::add_state_group(const std::string& room_id, std::optional<std::int64_t> prev_group,
                                                      const StateIds& state) {
  return graph::add_state_group(c_, room_id, prev_group, state, next_state_group_);
}

std::optional<std::int64_t> SqlRoomWriteTransaction::room_state_group(const std::string& room_id) {
  return graph::room_state_group(c_, room_id);
}

void SqlRoomWriteTransaction::set_room_state_group(const std::string& room_id, std::int64_t group) {
  graph::set_room_state_group(c_, room_id, group);
}

std::vector<std::string> SqlRoomWriteTransaction::forward_extremities(const std::string& room_id) {
  return graph::forward_extremities(c_, room_id);
}

void SqlRoomWriteTransaction::update_forward_extremities(const std::string& room_id, const std::vector<std::string>& replaced,
                                                         const std::optional<std::string>& added) {
  graph::update_forward_extremities(c_, room_id, replaced, added);
}

void SqlRoomWriteTransaction::add_missing_prev(const std::string& room_id, const std::string& missing_id,
                                               const std::string& referrer_id) {
  graph::add_missing_prev(c_, room_id, missing_id, referrer_id);
}

std::vector<std::string> SqlRoomWriteTransaction::take_referrers(const std::string& event_id) {
  return graph::take_referrers(c_, event_id);
}

void SqlRoomWriteTransaction::append(const GraphEventRow& e) {
  room_store::insert_event_row(c_, e.row, e.state);
  if (e.becomes_current_state) room_store::apply_to_current_state(c_, e.row);
}

void SqlRoomWriteTransaction::append_state_only(const NewEventRow& row) {
  room_store::insert_state_only_row(c_, row);
  room_store::apply_to_current_state(c_, row);
}

void SqlRoomWriteTransaction::store_outside(const OutsideEvent& event, std::int64_t now_ms) {
  graph::insert_outside(c_, event, now_ms);
}

void SqlRoomWriteTransaction::set_current_state(const std::string& room_id, const rooms::StateKey& key,
                                                const std::optional<std::string>& event_id) {
  room_store::set_current_state_entry(c_, room_id, key, event_id);
}

}  // namespace herald::storage
