#pragma once
// Token buckets per (action, key): key is a user ID, an IP address or a room ID (client-server.md §0.8).
#include <array>
#include <initializer_list>
#include <utility>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace herald {

class Clock;

enum class RateAction : std::uint8_t {
  login,               // failed login attempts, per account and per address
  login_address,       // every login attempt, per address
  registration,        // per address
  message,             // per user
  room_creation,       // per user
  join,                // per user
  joins_per_room,      // per room
  invites_per_room,    // per room
  invites_per_user,    // per invitee
  invites_per_issuer,  // per inviter
  third_party_invite,  // per inviter
  threepid_validation, // identity: per address of the requester
  store_invite,        // identity: per sender, and per requesting address
  invite_email,        // identity: invitation emails per target address
  account_data,        // per user
  presence,            // per user
  keys,                // end-to-end key uploads, claims and signatures, per user
  to_device,           // send-to-device requests, per user
  key_backup,          // room_keys writes, per user
  federation,          // inbound federation requests, per origin server
  count_
};
inline constexpr std::size_t kRateActionCount = static_cast<std::size_t>(RateAction::count_);

std::string_view name_of(RateAction action);
std::optional<RateAction> rate_action_from_name(std::string_view name);

struct RateBucket {
  double per_second = 1.0;
  double burst = 10.0;
};

struct RateLimitOptions {
  bool enabled = true;
  std::array<RateBucket, kRateActionCount> buckets = default_buckets();
  static std::array<RateBucket, kRateActionCount> default_buckets();
};

struct RateTake {
  RateAction action;
  std::string_view key;
  double count = 1;
};

class RateLimiter {
 public:
  RateLimiter(RateLimitOptions options, const Clock& clock);

  // Takes one token; returns the milliseconds to wait when the bucket is empty, nullopt when allowed.
  std::optional<std::int64_t> try_take(RateAction action, std::string_view key);
  // Only checks: would a take succeed now? (Used for "failed attempts" buckets taken after the failure.)
  std::optional<std::int64_t> would_wait(RateAction action, std::string_view key);
  // try_take, throwing 429 M_LIMIT_EXCEEDED with retry_after_ms when refused.
  void take_or_throw(RateAction action, std::string_view key);
  void throw_if_waiting(RateAction action, std::string_view key);
  // One token from each bucket, or none at all: a request refused by one limit uses up no other.
  void take_all_or_throw(std::initializer_list<std::pair<RateAction, std::string_view>> buckets);
  // The same with counts (a bucket named twice needs both counts at once).
  void take_all_or_throw(const std::vector<RateTake>& takes);

  const RateLimitOptions& options() const { return options_; }

 private:
  struct State {
    double tokens;
    double updated;
  };
  std::optional<std::int64_t> take(RateAction action, std::string_view key, bool consume);
  // The bucket, refilled to now (mutex held).
  State& refilled(RateAction action, std::string_view key, double now);
  // How long until the bucket has a token; nullopt when it has one.
  std::optional<std::int64_t> wait_for(RateAction action, const State& s, double count = 1.0) const;

  RateLimitOptions options_;
  const Clock& clock_;
  std::mutex mutex_;
  std::unordered_map<std::string, State> buckets_;
};

}  // namespace herald
