#include "federation/remote_key_store.h"

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/clock.h"
#include "core/log.h"
#include "federation/key_fetcher.h"

namespace herald::federation {
namespace asio = boost::asio;

namespace {
constexpr std::int64_t kRefetchUnknownKeyMs = 60 * 1000;
// Room versions 5 and up: a key counts for events until min(valid_until_ts, fetch time + 7 days).
constexpr std::int64_t kMaxEventKeyValidityMs = 7LL * 24 * 3600 * 1000;
// A notary does not serve an object expiring within the hour while the origin can be asked again.
constexpr std::int64_t kExpiringSoonMs = 3600 * 1000;

std::int64_t event_validity(std::int64_t valid_until_ts, std::int64_t fetched_ms) {
  return std::min(valid_until_ts, fetched_ms + kMaxEventKeyValidityMs);
}
}  // namespace

struct RemoteKeyStore::Impl {
  Impl(asio::io_context& io, std::vector<KeyFetcher*> fetchers, const Clock& clock, KeyPersistence* persistence,
       StaticServerKeyRing* fill)
      : io(io), fetchers(std::move(fetchers)), clock(clock), persistence(persistence), fill(fill) {}

  struct Key {
    std::string raw;
    std::int64_t valid_until_ms = 0;  // verify key: the object's valid_until_ts; old key: its expired_ts
    std::int64_t event_valid_until_ms = 0;  // verify key: capped at fetch time + 7 days; old key: expired_ts
    bool old = false;
  };
  struct Latest {
    ServerKeys keys;
    std::int64_t fetched_ms = 0;
  };
  // One fetch in progress for a server; others wait on its timer, cancelled when it ends.
  struct Flight {
    explicit Flight(asio::io_context& io) : done(io) { done.expires_at(asio::steady_timer::time_point::max()); }
    asio::steady_timer done;
  };

  asio::io_context& io;
  const std::vector<KeyFetcher*> fetchers;
  const Clock& clock;
  KeyPersistence* const persistence;
  StaticServerKeyRing* const fill;

  mutable std::mutex mutex;
  std::map<std::pair<std::string, std::string>, Key> keys;
  std::map<std::string, Latest> latest;
  // (server, verify key ID) -> the latest object listing it (what a notary answers for that key ID)
  std::map<std::pair<std::string, std::string>, ServerKeys> objects;
  std::map<std::string, std::int64_t> last_fetch_ms;
  std::map<std::string, std::shared_ptr<Flight>> flights;  // touched on the io thread only

  void add(const ServerKeys& k, std::int64_t fetched_ms) {
    std::lock_guard lock(mutex);
    auto& current = latest[k.server_name];
    const bool newer = current.keys.valid_until_ts < k.valid_until_ts ||
                       (current.keys.valid_until_ts == k.valid_until_ts && current.fetched_ms <= fetched_ms);
    if (newer) current = Latest{k, fetched_ms};
    // The ring reads 0 as "no expiry": a remote key always has one, so it gets at least 1 (which room
    // versions 1-4, checking at time 0, still accept).
    auto fill_ring = [&](const std::string& id, const std::string& raw, std::int64_t until) {
      if (fill) fill->add(k.server_name, id, raw, std::max<std::int64_t>(until, 1));
    };
    for (const auto& [id, raw] : k.old_verify_keys) {
      auto& slot = keys[{k.server_name, id}];
      if (slot.raw.empty() || slot.old) {
        slot = Key{raw.key, raw.expired_ts, raw.expired_ts, true};
        fill_ring(id, raw.key, raw.expired_ts);
      }
    }
    const std::int64_t event_until = event_validity(k.valid_until_ts, fetched_ms);
    for (const auto& [id, raw] : k.verify_keys) {
      auto& object = objects[{k.server_name, id}];
      if (object.server_name.empty() || object.valid_until_ts <= k.valid_until_ts) object = k;
      auto& slot = keys[{k.server_name, id}];
      if (slot.old || slot.event_valid_until_ms <= event_until || slot.valid_until_ms <= k.valid_until_ts) {
        slot = Key{raw, std::max(slot.old ? 0 : slot.valid_until_ms, k.valid_until_ts),
                   std::max(slot.old ? 0 : slot.event_valid_until_ms, event_until), false};
        fill_ring(id, raw, slot.event_valid_until_ms);
      }
    }
  }

  std::optional<std::string> current_key(const std::string& server, const std::string& key_id, std::int64_t now) const {
    std::lock_guard lock(mutex);
    auto it = keys.find({server, key_id});
    if (it == keys.end() || it->second.old || it->second.valid_until_ms <= now) return std::nullopt;
    return it->second.raw;
  }

  // On the io thread: fetch `server`'s keys once however many ask at the same time.
  Task<void> fetch(std::string server, std::int64_t minimum_valid_until_ts) {
    if (auto it = flights.find(server); it != flights.end()) {
      auto flight = it->second;
      boost::system::error_code ec;
      co_await flight->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      co_return;
    }
    auto flight = std::make_shared<Flight>(io);
    flights[server] = flight;
    try {
      {
        std::lock_guard lock(mutex);
        last_fetch_ms[server] = clock.now_ms();
      }
      for (KeyFetcher* fetcher : fetchers) {
        std::vector<ServerKeys> got = co_await fetcher->fetch(server, minimum_valid_until_ts);
        if (got.empty()) continue;
        const std::int64_t fetched_ms = clock.now_ms();
        for (const auto& k : got) {
          add(k, fetched_ms);
          if (persistence) {
            try {
              co_await persistence->save(k);
            } catch (const std::exception& e) {
              log::error("server keys not saved server={} error={}", server, e.what());
            }
          }
        }
        log::info("server keys fetched server={} via={} objects={}", server, fetcher->name(), got.size());
        break;
      }
    } catch (...) {
      flights.erase(server);
      flight->done.cancel();
      throw;
    }
    flights.erase(server);
    flight->done.cancel();
  }

  // On the io thread: a fetch already under way is waited for (its answer may hold the key wanted);
  // otherwise at most one fetch a minute per server.
  Task<void> refetch(std::string server) {
    if (!flights.contains(server)) {
      std::lock_guard lock(mutex);
      auto last = last_fetch_ms.find(server);
      if (last != last_fetch_ms.end() && clock.now_ms() - last->second < kRefetchUnknownKeyMs) co_return;
    }
    co_await fetch(std::move(server), clock.now_ms());
  }

  Task<void> fetch_on_io(std::string server, std::int64_t minimum_valid_until_ts) {
    auto op = fetch(std::move(server), minimum_valid_until_ts);
    co_await asio::co_spawn(io, std::move(op), asio::use_awaitable);
  }
};

RemoteKeyStore::RemoteKeyStore(asio::io_context& io, std::vector<KeyFetcher*> fetchers, const Clock& clock,
                               KeyPersistence* persistence, StaticServerKeyRing* fill)
    : impl_(std::make_shared<Impl>(io, std::move(fetchers), clock, persistence, fill)) {}
RemoteKeyStore::~RemoteKeyStore() = default;

void RemoteKeyStore::add(const ServerKeys& keys, std::int64_t fetched_ms) { impl_->add(keys, fetched_ms); }

Task<std::optional<std::string>> RemoteKeyStore::request_key(std::string server, std::string key_id) {
  auto impl = impl_;
  const std::int64_t now = impl->clock.now_ms();
  if (auto key = impl->current_key(server, key_id, now)) co_return key;
  {
    // A key ID the last answer did not have: do not let each request trigger a fetch.
    std::lock_guard lock(impl->mutex);
    auto last = impl->last_fetch_ms.find(server);
    auto latest = impl->latest.find(server);
    const bool fresh = latest != impl->latest.end() && latest->second.keys.valid_until_ts > now;
    if (fresh && last != impl->last_fetch_ms.end() && now - last->second < kRefetchUnknownKeyMs) co_return std::nullopt;
  }
  co_await impl->fetch_on_io(server, now);
  co_return impl->current_key(server, key_id, impl->clock.now_ms());
}

Task<std::vector<ServerKeys>> RemoteKeyStore::keys_for(std::string server, std::int64_t minimum_valid_until_ts) {
  auto impl = impl_;
  std::optional<Impl::Latest> have;
  {
    std::lock_guard lock(impl->mutex);
    if (auto it = impl->latest.find(server); it != impl->latest.end()) have = it->second;
  }
  const std::int64_t now = impl->clock.now_ms();
  if (!have || needs_refetch(have->keys.valid_until_ts, have->fetched_ms, now, minimum_valid_until_ts)) {
    try {
      co_await impl->fetch_on_io(server, minimum_valid_until_ts);
    } catch (const std::exception& e) {
      // The origin is down: the last good answer is served, whatever its age.
      log::info("server keys not refreshed server={} error={}", server, e.what());
    }
  }
  std::vector<ServerKeys> out;
  if (auto latest = cached(server)) out.push_back(std::move(*latest));
  co_return out;
}

Task<std::vector<ServerKeys>> RemoteKeyStore::keys_for(std::string server,
                                                      std::map<std::string, std::int64_t> minimum_by_key_id) {
  auto impl = impl_;
  std::int64_t fetch_minimum = 0;
  bool stale = false;
  {
    std::lock_guard lock(impl->mutex);
    for (const auto& [id, minimum] : minimum_by_key_id) {
      fetch_minimum = std::max(fetch_minimum, minimum);
      auto it = impl->objects.find({server, id});
      if (it == impl->objects.end() || it->second.valid_until_ts < minimum) stale = true;
    }
  }
  if (stale) co_await impl->fetch_on_io(server, fetch_minimum);
  std::vector<ServerKeys> out;
  std::lock_guard lock(impl->mutex);
  for (const auto& [id, minimum] : minimum_by_key_id) {
    auto it = impl->objects.find({server, id});
    if (it == impl->objects.end()) continue;
    const bool seen =
        std::any_of(out.begin(), out.end(), [&](const ServerKeys& k) { return k.json == it->second.json; });
    if (!seen) out.push_back(it->second);
  }
  co_return out;
}

bool RemoteKeyStore::needs_refetch(std::int64_t valid_until_ts, std::int64_t fetched_ms, std::int64_t now,
                                   std::int64_t minimum_valid_until_ts) {
  if (valid_until_ts < minimum_valid_until_ts) return true;
  if (event_validity(valid_until_ts, fetched_ms) < std::min(now, minimum_valid_until_ts)) return true;
  if (valid_until_ts - now < kExpiringSoonMs) return true;
  return now - fetched_ms > (valid_until_ts - fetched_ms) / 2;  // past half its lifetime
}

Task<void> RemoteKeyStore::refetch(std::string server) {
  auto impl = impl_;
  auto op = impl->refetch(std::move(server));
  co_await asio::co_spawn(impl->io, std::move(op), asio::use_awaitable);
}

std::optional<std::string> RemoteKeyStore::verify_key(const std::string& server, const std::string& key_id,
                                                      std::int64_t at_ms) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->keys.find({server, key_id});
  if (it == impl_->keys.end()) return std::nullopt;
  if (at_ms > it->second.event_valid_until_ms) return std::nullopt;
  return it->second.raw;
}

std::optional<ServerKeys> RemoteKeyStore::cached(const std::string& server) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->latest.find(server);
  if (it == impl_->latest.end()) return std::nullopt;
  return it->second.keys;
}

}  // namespace herald::federation
