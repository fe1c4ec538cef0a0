// Benchmark (not a test): the event pipeline's checks on receipt, per event. A second server's signed
// messages and state events arrive in batches of 50 (a federation transaction's worth) into a room
// with 1,000 members, through RoomService::receive on a durable SQLite database; reported as events/s.
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "crypto/random.h"
#include "crypto/signing_key.h"
#include "events/event_builder.h"
#include "events/room_version.h"
#include "homeserver/rooms/room_service.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/stream_counter.h"
#include "rooms/auth/auth_rules.h"
#include "storage/account_store.h"
#include "storage/database.h"
#include "storage/sqlite/sqlite_connection.h"
#include "tests/support/run_task.h"

namespace herald::homeserver {
namespace {

class BenchClock final : public Clock {
 public:
  std::int64_t now_ms() const override { return ++now_; }
  double monotonic_seconds() const override { return 1.0; }

 private:
  mutable std::int64_t now_ = 1'700'000'000'000;
};

struct Setup {
  herald::testing::TempDir dir;
  storage::Database db{storage::sqlite::connection_factory((dir.path() / "db.sqlite").string())};
  RoomRegistry registry;
  Notifier notifier{0};
  StreamCounter stream{0};
  crypto::SigningKey key = crypto::SigningKey::generate("bench");
  crypto::SigningKey remote = crypto::SigningKey::generate("remote");
  BenchClock clock;
  ProfileCache profiles;
  RoomService rooms{db, registry, notifier, stream, profiles, key, clock, {.server_name = "hs.test", .default_room_version = "12"}};
  std::string room_id;

  explicit Setup(int members) {
    crypto::init();
    db.write_sync([](storage::sql::Connection& c) {
      storage::account_store::insert_user(c, storage::StoredUser{"@alice:hs.test", std::nullopt}, 0);
    });
    rooms.server_keys().add("remote.test", remote.key_id(), remote.public_key());
    CreateRoomRequest request;
    request.preset = "public_chat";
    room_id = herald::testing::run_task(rooms.create_room(UserId::parse("@alice:hs.test").value(), request));
    std::vector<nlohmann::json> joins;
    for (int i = 0; i < members; ++i) joins.push_back(next("m.room.member", "@u" + std::to_string(i) + ":remote.test", "@u" + std::to_string(i) + ":remote.test", {{"membership", "join"}}, joins));
    herald::testing::run_task(rooms.receive(RoomId::parse(room_id).value(), std::move(joins)));
  }

  // The next remote event, chained on the previous one of the batch (or the room's extremities).
  nlohmann::json next(const std::string& type, std::optional<std::string> state_key, const std::string& sender,
                      nlohmann::json content, const std::vector<nlohmann::json>& batch) {
    auto room = registry.cached(room_id);
    const auto& version = *room->version;
    std::vector<events::EventPtr> prev = room->extremities;
    rooms::RoomState state = room->state;
    if (!batch.empty()) {
      // The batch so far is not stored yet: refer to its last event and take auth from the joins in it.
      const auto& last = batch.back();
      auto id = events::event_id_from_reference_hash(events::reference_hash(last, version), version);
      auto e = events::event_from_pdu(version, id, room_id, last.dump());
      prev = {e};
      pending_[id] = e;
      for (const auto& [i, p] : pending_) state.apply(p);
    }
    std::vector<events::EventPtr> auth;
    for (const auto& [t, k] : rooms::auth::auth_event_keys(version, type, state_key ? &*state_key : nullptr, sender, content))
      if (const auto* e = state.find(t, k)) auth.push_back(*e);
    const events::EventDraft draft{type, state_key, sender, std::move(content), std::nullopt};
    return events::build_event(version, room_id, draft, prev, auth, 1000000, clock.now_ms(), {"remote.test", remote})->pdu();
  }
  std::map<std::string, events::EventPtr> pending_;
};

void BM_ReceiveMessages(benchmark::State& st) {
  Setup s(static_cast<int>(st.range(0)));
  std::int64_t events = 0;
  for (auto _ : st) {
    st.PauseTiming();
    s.pending_.clear();
    std::vector<nlohmann::json> batch;
    for (int i = 0; i < 50; ++i)
      batch.push_back(s.next("m.room.message", std::nullopt, "@u" + std::to_string(i) + ":remote.test", {{"body", "hello"}, {"msgtype", "m.text"}}, batch));
    st.ResumeTiming();
    auto results = herald::testing::run_task(s.rooms.receive(RoomId::parse(s.room_id).value(), std::move(batch)));
    for (const auto& r : results)
      if (r.outcome != Outcome::accepted) st.SkipWithError(("not accepted: " + r.reason).c_str());
    events += 50;
  }
  st.counters["events/s"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  st.counters["s/event"] = benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_ReceiveMessages)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace herald::homeserver

BENCHMARK_MAIN();
