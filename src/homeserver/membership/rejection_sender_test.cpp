#include "homeserver/membership/rejection_sender.h"

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <functional>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "crypto/random.h"
#include "crypto/signing_key.h"
#include "events/room_version.h"
#include "homeserver/membership/remote_invites.h"
#include "homeserver/membership/remote_leaver.h"
#include "homeserver/sync/notifier.h"
#include "homeserver/sync/stream_counter.h"
#include "storage/database.h"
#include "storage/pending_rejection_store.h"
#include "storage/room_store.h"
#include "storage/sqlite/sqlite_connection.h"
#include "tests/support/room_service_fixture.h"
#include "tests/support/run_task.h"

namespace herald::homeserver {
namespace {

// Answers from a list (then "sent"), recording each call.
class FakeLeaver final : public RemoteLeaver {
 public:
  std::deque<LeaveResult> answers;
  std::vector<RemoteLeave> calls;
  Task<LeaveResult> send_leave(RemoteLeave leave) override {
    calls.push_back(std::move(leave));
    if (answers.empty()) co_return LeaveResult::sent;
    const LeaveResult next = answers.front();
    answers.pop_front();
    co_return next;
  }
};

class RejectionSenderTest : public ::testing::Test {
 protected:
  static constexpr const char* kRoom = "!r:there";
  static constexpr const char* kBob = "@bob:here";

  void SetUp() override { crypto::init(); }

  void TearDown() override {
    sender_->stop();
    io_.run_for(std::chrono::milliseconds(20));
  }

  // Back-off from 1 ms, so retries come at once.
  void make_sender(federation::RetryOptions retry = {std::chrono::milliseconds(1), 2.0, std::chrono::milliseconds(20)}) {
    sender_ = std::make_unique<RejectionSender>(io_, db_, leaver_, clock_, retry, std::chrono::hours(1));
  }

  // Bob rejected the invite `invite_id` to `room` here: his row says leave, the leave is kept.
  void kept(const std::string& room = kRoom, const std::string& invite_id = "$invite", std::int64_t age_ms = 0) {
    db_.write_sync([&](storage::sql::Connection& c) {
      storage::room_store::set_membership_outside_timeline(c, room, kBob, "leave", invite_id, ++position_);
      storage::pending_rejection_store::put(c, {room, kBob, invite_id, {"there", "elsewhere"}, clock_.now_ms() - age_ms});
    });
  }

  bool is_kept(const std::string& room = kRoom) {
    bool found = false;
    db_.read_sync([&](storage::sql::Connection& c) {
      found = storage::pending_rejection_store::find(c, room, kBob).has_value();
    });
    return found;
  }

  // Runs the io_context until `done` holds (or five seconds pass).
  bool run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done() && std::chrono::steady_clock::now() < deadline) io_.run_for(std::chrono::milliseconds(2));
    return done();
  }

  testing::TempDir dir_;
  storage::Database db_{storage::sqlite::connection_factory((dir_.path() / "db.sqlite").string())};
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ = boost::asio::make_work_guard(io_);
  FakeLeaver leaver_;
  testing::TickingClock clock_;
  std::unique_ptr<RejectionSender> sender_;
  std::int64_t position_ = 0;
};

TEST_F(RejectionSenderTest, SendsAKeptRejectionThenForgetsIt) {
  make_sender();
  kept();
  sender_->wake(kRoom, kBob);
  ASSERT_TRUE(run_until([&] { return leaver_.calls.size() == 1 && sender_->in_flight() == 0; }));
  EXPECT_EQ(leaver_.calls[0].room_id, kRoom);
  EXPECT_EQ(leaver_.calls[0].user_id, kBob);
  EXPECT_EQ(leaver_.calls[0].servers, (std::vector<std::string>{"there", "elsewhere"}));
  EXPECT_FALSE(is_kept());
}

TEST_F(RejectionSenderTest, RetriesWhileNoServerCanBeReachedThenSends) {
  make_sender();
  leaver_.answers = {LeaveResult::unreachable, LeaveResult::unreachable};
  kept();
  sender_->wake(kRoom, kBob);
  ASSERT_TRUE(run_until([&] { return leaver_.calls.size() == 3 && sender_->in_flight() == 0; }));
  EXPECT_FALSE(is_kept());
}

TEST_F(RejectionSenderTest, KeepsTheRejectionWhileUnreachable) {
  make_sender({std::chrono::hours(1), 2.0, std::chrono::hours(1)});
  leaver_.answers = {LeaveResult::unreachable};
  kept();
  sender_->wake(kRoom, kBob);
  ASSERT_TRUE(run_until([&] { return leaver_.calls.size() == 1; }));
  io_.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(leaver_.calls.size(), 1u);  // waiting out the back-off
  EXPECT_TRUE(is_kept());
  EXPECT_EQ(sender_->in_flight(), 1u);
}

TEST_F(RejectionSenderTest, APermanentRefusalEndsTheRetrying) {
  make_sender();
  leaver_.answers = {LeaveResult::refused};
  kept();
  sender_->wake(kRoom, kBob);
  ASSERT_TRUE(run_until([&] { return leaver_.calls.size() == 1 && sender_->in_flight() == 0; }));
  io_.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(leaver_.calls.size(), 1u);
  EXPECT_FALSE(is_kept());
}

TEST_F(RejectionSenderTest, ResumesWhatWasKeptAtStart) {
  kept("!one:there");
  kept("!two:there");
  make_sender();
  sender_->start();
  ASSERT_TRUE(run_until([&] { return leaver_.calls.size() == 2 && sender_->in_flight() == 0; }));
  EXPECT_FALSE(is_kept("!one:there"));
  EXPECT_FALSE(is_kept("!two:there"));
}

TEST_F(RejectionSenderTest, GivesUpOnALeaveNoServerTookForTooLong) {
  make_sender();
  kept(kRoom, "$invite", 2 * 3600 * 1000);  // kept two hours ago; this sender gives up after one
  sender_->wake(kRoom, kBob);
  ASSERT_TRUE(run_until([&] { return sender_->in_flight() == 0 && !is_kept(); }));
  EXPECT_TRUE(leaver_.calls.empty());
}

TEST_F(RejectionSenderTest, ALaterInviteMakesTheKeptRejectionMoot) {
  make_sender();
  kept();
  db_.write_sync([&](storage::sql::Connection& c) {
    storage::room_store::set_membership_outside_timeline(c, kRoom, kBob, "invite", "$invite2", ++position_);
  });
  sender_->wake(kRoom, kBob);
  ASSERT_TRUE(run_until([&] { return sender_->in_flight() == 0 && !is_kept(); }));
  EXPECT_TRUE(leaver_.calls.empty());  // its leave would reject the new invite too
}

TEST_F(RejectionSenderTest, AServerThatTalksToUsIsTriedAgainAtOnce) {
  make_sender({std::chrono::hours(1), 2.0, std::chrono::hours(1)});
  leaver_.answers = {LeaveResult::unreachable};
  kept();
  sender_->wake(kRoom, kBob);
  ASSERT_TRUE(run_until([&] { return leaver_.calls.size() == 1; }));
  io_.run_for(std::chrono::milliseconds(20));
  sender_->remote_up("unrelated.example");
  io_.run_for(std::chrono::milliseconds(20));
  EXPECT_EQ(leaver_.calls.size(), 1u);
  sender_->remote_up("elsewhere");
  ASSERT_TRUE(run_until([&] { return leaver_.calls.size() == 2 && sender_->in_flight() == 0; }));
  EXPECT_FALSE(is_kept());
}

// RemoteInvites' local reject keeps the leave in its own transaction and wakes the sender.
TEST_F(RejectionSenderTest, RejectingARemoteInviteKeepsAndSendsItsLeave) {
  make_sender();
  StreamCounter stream{0};
  Notifier notifier{0};
  const crypto::SigningKey key = crypto::SigningKey::generate("k");
  RemoteInvites invites(db_, stream, notifier, key, "here", clock_);
  invites.set_rejections(sender_.get());
  const events::RoomVersion& v10 = *events::find_room_version("10");
  nlohmann::json pdu = {{"type", "m.room.member"}, {"room_id", kRoom}, {"sender", "@alice:there"}, {"state_key", kBob},
                        {"content", {{"membership", "invite"}}}, {"depth", 5}, {"prev_events", {"$p"}},
                        {"auth_events", {"$a"}}, {"origin_server_ts", 1000}, {"hashes", {{"sha256", "x"}}}};
  const nlohmann::json state = nlohmann::json::array({{{"type", "m.room.create"}, {"sender", "@carol:third"}}});
  testing::run_task(invites.accept(kBob, kRoom, "$invite", v10, pdu, state));
  EXPECT_FALSE(is_kept());
  const bool rejected =
      testing::run_task(invites.reject_locally(UserId::parse(kBob).value(), RoomId::parse(kRoom).value(), "spam"));
  ASSERT_TRUE(rejected);
  EXPECT_TRUE(is_kept());  // kept before the reject returns
  db_.read_sync([&](storage::sql::Connection& c) {
    EXPECT_EQ(storage::room_store::membership(c, kRoom, kBob)->membership, "leave");
  });
  ASSERT_TRUE(run_until([&] { return leaver_.calls.size() == 1 && sender_->in_flight() == 0; }));
  EXPECT_EQ(leaver_.calls[0].servers, (std::vector<std::string>{"there", "third"}));
  EXPECT_EQ(leaver_.calls[0].reason, "spam");
  EXPECT_FALSE(is_kept());
  // Nothing left to reject: the caller goes on with a normal leave.
  EXPECT_FALSE(testing::run_task(invites.reject_locally(UserId::parse(kBob).value(), RoomId::parse(kRoom).value())));
}

}  // namespace
}  // namespace herald::homeserver
