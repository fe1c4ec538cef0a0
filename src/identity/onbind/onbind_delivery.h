#pragma once
// Delivers queued onbind callbacks to the bound user's homeserver (identity.md §7): POST
// /_matrix/federation/v1/3pid/onbind, retried with exponential back-off (1 s, 2 s, 4 s, ... up to an hour)
// until the homeserver answers 200, then the job and its invites are deleted. Runs on the outbound
// io_context; jobs survive restarts because they live in the database.
#include <atomic>
#include <chrono>
#include <memory>

namespace boost::asio {
class io_context;
}
namespace herald {
class Clock;
}
namespace herald::storage {
class Database;
}
namespace herald::federation {
class FederationClient;
}

namespace herald::identity {

struct OnbindOptions {
  std::chrono::milliseconds first_retry{1000};
  std::chrono::milliseconds max_retry{3600 * 1000};
};

class OnbindDelivery {
 public:
  OnbindDelivery(boost::asio::io_context& io, storage::Database& db, federation::FederationClient& federation,
                 const Clock& clock, OnbindOptions options = {});
  ~OnbindDelivery();
  OnbindDelivery(const OnbindDelivery&) = delete;
  OnbindDelivery& operator=(const OnbindDelivery&) = delete;

  void start();  // delivers what is due now, including what an earlier run left
  void wake();   // a job was queued
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace herald::identity
