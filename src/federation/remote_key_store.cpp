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
}

struct RemoteKeyStore::Impl {
  Impl(asio::io_context& io, std::vector<KeyFetcher*> fetchers, const Clock& clock, KeyPersistence* persistence,
       StaticServerKeyRing* fill)
      : io(io), fetchers(std::move(fetchers)), clock(clock), persistence(persistence), fill(fill) {}

  struct Key {
    std::string raw;
    std::int64_t valid_until_ms = 0;  // verify key: the object's valid_until_ts; old key: its expired_ts
    bool old = false;
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
  std::map<std::string, ServerKeys> latest;
  // (server, verify key ID) -> the latest object listing it (what a notary answers for that key ID)
  std::map<std::pair<std::string, std::string>, ServerKeys> objects;
  std::map<std::string, std::int64_t> last_fetch_ms;
  std::map<std::string, std::shared_ptr<Flight>> flights;  // touched on the io thread only

  void add(const ServerKeys& k) {
    std::lock_guard lock(mutex);
    auto& current = latest[k.server_name];
    if (current.valid_until_ts <= k.valid_until_ts) current = k;
    for (const auto& [id, raw] : k.old_verify_keys) {
      auto& slot = keys[{k.server_name, id}];
      if (slot.raw.empty() || slot.old) slot = Key{raw.key, raw.expired_ts, true};
      if (fill) fill->add(k.server_name, id, raw.key, raw.expired_ts);
    }
    for (const auto& [id, raw] : k.verify_keys) {
      auto& object = objects[{k.server_name, id}];
      if (object.server_name.empty() || object.valid_until_ts <= k.valid_until_ts) object = k;
      auto& slot = keys[{k.server_name, id}];
      if (slot.old || slot.valid_until_ms <= k.valid_until_ts) slot = Key{raw, k.valid_until_ts, false};
      if (fill) fill->add(k.server_name, id, raw, slot.valid_until_ms);
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
        for (const auto& k : got) {
          add(k);
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

  Task<void> fetch_on_io(std::string server, std::int64_t minimum_valid_until_ts) {
    auto op = fetch(std::move(server), minimum_valid_until_ts);
    co_await asio::co_spawn(io, std::move(op), asio::use_awaitable);
  }
};

RemoteKeyStore::RemoteKeyStore(asio::io_context& io, std::vector<KeyFetcher*> fetchers, const Clock& clock,
                               KeyPersistence* persistence, StaticServerKeyRing* fill)
    : impl_(std::make_shared<Impl>(io, std::move(fetchers), clock, persistence, fill)) {}
RemoteKeyStore::~RemoteKeyStore() = default;

void RemoteKeyStore::add(const ServerKeys& keys) { impl_->add(keys); }

Task<std::optional<std::string>> RemoteKeyStore::request_key(std::string server, std::string key_id) {
  auto impl = impl_;
  const std::int64_t now = impl->clock.now_ms();
  if (auto key = impl->current_key(server, key_id, now)) co_return key;
  {
    // A key ID the last answer did not have: do not let each request trigger a fetch.
    std::lock_guard lock(impl->mutex);
    auto last = impl->last_fetch_ms.find(server);
    auto latest = impl->latest.find(server);
    const bool fresh = latest != impl->latest.end() && latest->second.valid_until_ts > now;
    if (fresh && last != impl->last_fetch_ms.end() && now - last->second < kRefetchUnknownKeyMs) co_return std::nullopt;
  }
  co_await impl->fetch_on_io(server, now);
  co_return impl->current_key(server, key_id, impl->clock.now_ms());
}

Task<std::vector<ServerKeys>> RemoteKeyStore::keys_for(std::string server, std::int64_t minimum_valid_until_ts) {
  auto impl = impl_;
  std::vector<ServerKeys> out;
  auto have = cached(server);
  if (!have || have->valid_until_ts < minimum_valid_until_ts) {
    co_await impl->fetch_on_io(server, minimum_valid_until_ts);
    have = cached(server);
  }
  if (have) out.push_back(std::move(*have));
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

std::optional<std::string> RemoteKeyStore::verify_key(const std::string& server, const std::string& key_id,
                                                      std::int64_t at_ms) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->keys.find({server, key_id});
  if (it == impl_->keys.end()) return std::nullopt;
  if (it->second.valid_until_ms != 0 && at_ms > it->second.valid_until_ms) return std::nullopt;
  return it->second.raw;
}

std::optional<ServerKeys> RemoteKeyStore::cached(const std::string& server) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->latest.find(server);
  if (it == impl_->latest.end()) return std::nullopt;
  return it->second;
}

}  // namespace herald::federation
