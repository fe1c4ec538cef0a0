#pragma once
// Sends the leaves of invites from other servers that local users rejected (issue 15 item 4), and of
// knocks through other servers they withdrew (item 6). The reject itself is done and committed by
// RemoteInvites::reject_locally, which keeps the leave in
// pending_rejections (migration 0014) in the same transaction; this sends each kept leave through a
// RemoteLeaver (make_leave/send_leave) and removes it once a server took it or every server refused it
// for good. While no server can be reached it tries again with back-off (RetryBackoff), sooner when one
// of the servers talks to us, and after a restart from what the table kept, for at most `give_up_after`
// (a server gone that long is not coming back for this room). Users with spam invites from dead servers
// depend on the local half never waiting for this one.
//
// Every coroutine runs on one io_context (the outbound one, single-threaded); the table is read and
// written through Database jobs, never on that thread.
//
//   rejections.start();                        // resumes what the table kept
//   rejections.wake(room_id, user_id);         // after commit: a rejection was kept
//   rejections.remote_up("remote.example");    // it sent us a request: retry now what waits on it
//   rejections.stop();                         // on shutdown: no further attempts; rows stay kept
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>

#include "core/task.h"
#include "federation/retry_backoff.h"

namespace boost::asio {
class io_context;
}
namespace herald {
class Clock;
}
namespace herald::storage {
class Database;
}

namespace herald::homeserver {

class RemoteLeaver;

class RejectionSender {
 public:
  static constexpr std::chrono::hours kGiveUpAfter{24 * 7};

  RejectionSender(boost::asio::io_context& io, storage::Database& db, RemoteLeaver& leaver, const Clock& clock,
                  federation::RetryOptions retry = {}, std::chrono::milliseconds give_up_after = kGiveUpAfter);
  ~RejectionSender();
  RejectionSender(const RejectionSender&) = delete;
  RejectionSender& operator=(const RejectionSender&) = delete;

  // Any thread.
  void start();
  void wake(std::string room_id, std::string user_id);
  void remote_up(std::string server);
  void stop();

  // How many rejections are being sent or waiting to be retried (any thread; for tests and logs).
  std::size_t in_flight() const { return in_flight_.load(); }

 private:
  struct Pending;
  enum class Step { done, retry };
  using Key = std::pair<std::string, std::string>;  // room, user

  Task<void> resume_kept();
  void wake_here(const Key& key);  // io thread only
  Task<void> run(std::shared_ptr<Pending> p);
  Task<Step> attempt(std::shared_ptr<Pending> p);

  boost::asio::io_context& io_;
  storage::Database& db_;
  RemoteLeaver& leaver_;
  const Clock& clock_;
  federation::RetryOptions retry_;
  std::chrono::milliseconds give_up_after_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> in_flight_{0};
  std::map<Key, std::shared_ptr<Pending>> pending_;  // io thread only
  std::mt19937_64 random_;                           // io thread only
};

}  // namespace herald::homeserver
