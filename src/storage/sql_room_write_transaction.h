#pragma once
// RoomWriteTransaction over a portable-SQL connection, inside a Database write job. With SQLite the
// single writer thread already serialises every room write, so lock_room has nothing to do.
#include <functional>

#include "storage/room_write_transaction.h"

namespace herald::storage {

class SqlRoomWriteTransaction : public RoomWriteTransaction {
 public:
  // next_position: the process's stream counter; it is moved past what storage already holds, which is
  // read only when `others_wrote` (another process may have taken positions since this one last wrote).
  // next_state_group: the writer's next free state group ID (0: read it), kept across transactions while
  // only this writer adds groups; nullptr: read it every time.
  SqlRoomWriteTransaction(sql::Connection& c, std::function<std::int64_t(std::int64_t stored_max)> next_position,
                          bool others_wrote = true, std::int64_t* next_state_group = nullptr)
      : c_(c), next_position_(std::move(next_position)), others_wrote_(others_wrote), next_state_group_(next_state_group) {}

  sql::Connection& connection() { return c_; }

  void lock_room(const std::string&) override {}
  std::int64_t next_stream_position() override;
  std::int64_t room_position(const std::string& room_id) override;
  std::optional<std::string> find_pdu(const std::string& event_id) override;
  bool is_known(const std::string& event_id) override;
  std::optional<EventStateGroups> state_groups_of(const std::string& event_id) override;
  std::optional<OutsideEvent> find_outside(const std::string& event_id) override;
  StateIds linear_state_after(const std::string& room_id, const std::string& event_id) override;
  StateIds state_of_group(std::int64_t group) override;
  StateGroupInfo add_state_delta(const std::string& room_id, std::int64_t prev_group, const StateGroupInfo* prev,
                                 const rooms::StateKey& key, const std::string& event_id, bool adds_key,
                                 const CachedState& prev_state = {}) override;
  std::int64_t add_state_group(const std::string& room_id, std::optional<std::int64_t> prev_group,
                               const StateIds& state) override;
  std::optional<std::int64_t> room_state_group(const std::string& room_id) override;
  void set_room_state_group(const std::string& room_id, std::int64_t group) override;
  std::vector<std::string> forward_extremities(const std::string& room_id) override;
  void update_forward_extremities(const std::string& room_id, const std::vector<std::string>& replaced,
                                  const std::optional<std::string>& added) override;
  void add_missing_prev(const std::string& room_id, const std::string& missing_id, const std::string& referrer_id) override;
  std::vector<std::string> take_referrers(const std::string& event_id) override;
  void append(const GraphEventRow& event) override;
  void append_state_only(const NewEventRow& row) override;
  void store_outside(const OutsideEvent& event, std::int64_t now_ms) override;
  void delete_outside(const std::string& event_id) override { event_graph_store::delete_outside(c_, event_id); }
  void set_current_state(const std::string& room_id, const rooms::StateKey& key,
                         const std::optional<std::string>& event_id) override;

 private:
  sql::Connection& c_;
  std::function<std::int64_t(std::int64_t)> next_position_;
  bool others_wrote_;
  std::int64_t* next_state_group_;
  std::int64_t stored_max_ = -1;  // read once per transaction, when others_wrote_
};

}  // namespace herald::storage
