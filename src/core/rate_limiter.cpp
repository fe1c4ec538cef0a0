#include "core/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/clock.h"
#include "core/matrix_error.h"

namespace herald {
namespace {
constexpr std::array<std::string_view, kRateActionCount> kNames = {
    "login",          "login_address",    "registration",     "message",          "room_creation",
    "join",           "joins_per_room",   "invites_per_room", "invites_per_user", "invites_per_issuer",
    "third_party_invite", "threepid_validation", "store_invite", "invite_email", "account_data", "presence", "keys", "to_device",
    "key_backup", "federation"};
constexpr std::size_t kPruneAbove = 100'000;
}  // namespace

std::string_view name_of(RateAction action) { return kNames[static_cast<std::size_t>(action)]; }

std::optional<RateAction> rate_action_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == name) return static_cast<RateAction>(i);
  return std::nullopt;
}

// Synapse's defaults where it has one (client-server.md §0.8); login_address is looser than Synapse's
// 0.003/s so that a newcomer's scripts are not locked out for minutes.
std::array<RateBucket, kRateActionCount> RateLimitOptions::default_buckets() {
  std::array<RateBucket, kRateActionCount> b{};
  auto set = [&b](RateAction a, double per_second, double burst) { b[static_cast<std::size_t>(a)] = {per_second, burst}; };
  set(RateAction::login, 0.17, 3);
  set(RateAction::login_address, 0.5, 10);
  set(RateAction::registration, 0.17, 3);
  set(RateAction::message, 0.2, 10);
  set(RateAction::room_creation, 0.016, 10);
  set(RateAction::join, 0.1, 10);
  set(RateAction::joins_per_room, 1, 10);
  set(RateAction::invites_per_room, 0.3, 10);
  set(RateAction::invites_per_user, 0.003, 5);
  set(RateAction::invites_per_issuer, 0.3, 10);
  set(RateAction::third_party_invite, 0.0025, 5);
  set(RateAction::threepid_validation, 0.003, 5);
  set(RateAction::store_invite, 0.3, 10);
  set(RateAction::invite_email, 0.003, 5);
  set(RateAction::account_data, 2, 30);
  set(RateAction::presence, 1, 10);
  set(RateAction::keys, 5, 50);
  set(RateAction::to_device, 10, 100);
  set(RateAction::key_backup, 2, 50);  // clients back up keys in batches, each a request
  // A busy peer sends a transaction per batch and fetches missing events and state in bursts.
  set(RateAction::federation, 50, 300);
  return b;
}

RateLimiter::RateLimiter(RateLimitOptions options, const Clock& clock) : options_(options), clock_(clock) {}

RateLimiter::State& RateLimiter::refilled(RateAction action, std::string_view key, double now) {
  const RateBucket& cfg = options_.buckets[static_cast<std::size_t>(action)];
  std::string k;
  k.reserve(key.size() + 24);
  k += name_of(action);
  k += '|';
  k += key;
  if (buckets_.size() > kPruneAbove) {
    // Drop buckets that have refilled completely: they hold no information.
    std::erase_if(buckets_, [&](const auto& kv) { return kv.second.updated + 3600 < now; });
  }
  auto [it, inserted] = buckets_.try_emplace(std::move(k), State{cfg.burst, now});
  State& s = it->second;
  if (!inserted) {
    s.tokens = std::min(cfg.burst, s.tokens + (now - s.updated) * cfg.per_second);
    s.updated = now;
  }
  return s;
}

std::optional<std::int64_t> RateLimiter::wait_for(RateAction action, const State& s, double count) const {
  if (s.tokens >= count) return std::nullopt;
  const RateBucket& cfg = options_.buckets[static_cast<std::size_t>(action)];
  if (cfg.per_second <= 0 || count > cfg.burst) return std::int64_t{3'600'000};
  return static_cast<std::int64_t>(std::ceil((count - s.tokens) / cfg.per_second * 1000.0));
}

std::optional<std::int64_t> RateLimiter::take(RateAction action, std::string_view key, bool consume) {
  if (!options_.enabled) return std::nullopt;
  const double now = clock_.monotonic_seconds();
  std::lock_guard lock(mutex_);
  State& s = refilled(action, key, now);
  auto wait = wait_for(action, s);
  if (!wait && consume) s.tokens -= 1.0;
  return wait;
}

std::optional<std::int64_t> RateLimiter::try_take(RateAction action, std::string_view key) {
  return take(action, key, true);
}

std::optional<std::int64_t> RateLimiter::would_wait(RateAction action, std::string_view key) {
  return take(action, key, false);
}

namespace {
[[noreturn]] void throw_limited(std::int64_t wait_ms) {
  throw MatrixError(Errc::limit_exceeded, "Too many requests").with("retry_after_ms", wait_ms);
}
}  // namespace

void RateLimiter::take_or_throw(RateAction action, std::string_view key) {
  if (auto wait = try_take(action, key)) throw_limited(*wait);
}

void RateLimiter::take_all_or_throw(std::initializer_list<std::pair<RateAction, std::string_view>> buckets) {
  std::vector<RateTake> takes;
  takes.reserve(buckets.size());
  for (const auto& [action, key] : buckets) takes.push_back({action, key, 1});
  take_all_or_throw(takes);
}

void RateLimiter::take_all_or_throw(const std::vector<RateTake>& takes) {
  if (!options_.enabled) return;
  const double now = clock_.monotonic_seconds();
  std::lock_guard lock(mutex_);
  // Every bucket exists and is refilled to `now` before any pointer is kept, so the second pass neither
  // inserts nor prunes (pointers into an unordered_map survive rehashing anyway).
  for (const auto& t : takes) refilled(t.action, t.key, now);
  struct Need {
    State* state;
    RateAction action;
    double count;
  };
  std::vector<Need> needed;  // one entry per bucket, counts summed
  for (const auto& t : takes) {
    State* s = &refilled(t.action, t.key, now);
    auto it = std::find_if(needed.begin(), needed.end(), [&](const Need& n) { return n.state == s; });
    if (it == needed.end()) needed.push_back({s, t.action, t.count});
    else it->count += t.count;
  }
  std::optional<std::int64_t> longest;
  for (const auto& n : needed)
    if (auto wait = wait_for(n.action, *n.state, n.count)) longest = std::max(longest.value_or(0), *wait);
  if (longest) throw_limited(*longest);
  for (const auto& n : needed) n.state->tokens -= n.count;
}

void RateLimiter::throw_if_waiting(RateAction action, std::string_view key) {
  if (auto wait = would_wait(action, key)) throw_limited(*wait);
}

}  // namespace herald
