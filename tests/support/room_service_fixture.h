#pragma once
// Test fixtures for the homeserver's rooms (tests only): a RoomService for hs.test on a temporary SQLite
// database with @alice:hs.test registered, and, on top, a public room of Alice's that a second server
// (remote.test, whose signing key only the test holds) may send events into.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/clock.h"
#include "crypto/random.h"
#include "crypto/signing_key.h"
#include "homeserver/rooms/room_service.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/stream_counter.h"
#include "storage/account_store.h"
#include "storage/database.h"
#include "storage/room_store.h"
#include "storage/sqlite/sqlite_connection.h"
#include "tests/support/run_task.h"

namespace herald::testing {

// Every reading a millisecond later than the one before, from 1,700,000,000,000.
class TickingClock final : public Clock {
 public:
  std::int64_t now_ms() const override { return ++now_; }
  double monotonic_seconds() const override { return 1.0; }

 private:
  mutable std::int64_t now_ = 1'700'000'000'000;
};

// RoomService for hs.test (room version 12 by default) with `ClockT` as its clock.
template <class ClockT>
class RoomServiceFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::init();
    db_.write_sync([](storage::sql::Connection& c) {
      storage::account_store::insert_user(c, storage::StoredUser{"@alice:hs.test", std::nullopt}, 0);
    });
  }

  bool in_timeline(const std::string& id) {
    bool found = false;
    db_.read_sync([&](storage::sql::Connection& c) { found = storage::room_store::find_event(c, id).has_value(); });
    return found;
  }

  TempDir dir_;
  storage::Database db_{storage::sqlite::connection_factory((dir_.path() / "db.sqlite").string())};
  homeserver::RoomRegistry registry_;
  homeserver::Notifier notifier_{0};
  homeserver::StreamCounter stream_{0};
  crypto::SigningKey key_ = crypto::SigningKey::generate("test");
  ClockT clock_;
  homeserver::ProfileCache profiles_;
  homeserver::RoomService rooms_{db_,     registry_, notifier_, stream_, profiles_,
                                 key_,    clock_,    {.server_name = "hs.test", .default_room_version = "12"}};
};

// Alice's public room, with remote.test's key known to the event pipeline.
class RemoteRoomFixture : public RoomServiceFixture<TickingClock> {
 protected:
  static constexpr const char* kRemote = "remote.test";

  void SetUp() override {
    RoomServiceFixture::SetUp();
    rooms_.server_keys().add(kRemote, remote_key_.key_id(), remote_key_.public_key());
    homeserver::CreateRoomRequest request;
    request.preset = "public_chat";
    room_id_ = run_task(rooms_.create_room(UserId::parse("@alice:hs.test").value(), request));
  }

  std::shared_ptr<homeserver::Room> room_now() { return registry_.cached(room_id_); }
  RoomId rid() const { return RoomId::parse(room_id_).value(); }

  crypto::SigningKey remote_key_ = crypto::SigningKey::generate("remote");
  std::string room_id_;
};

}  // namespace herald::testing
