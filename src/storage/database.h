#pragma once
// The database seen by services: one writer thread that runs write jobs in order and commits them in
// groups (one fsync for many acknowledged writes), plus reader threads. Never runs on an io thread.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "core/task.h"
#include "storage/sql/connection.h"

namespace herald::storage {

using ConnectionFactory = std::function<std::unique_ptr<sql::Connection>(bool read_only)>;

class Database {
 public:
  // Opens the writer, applies the schema's pending migrations ("homeserver" or "identity"), then starts the
  // writer and `readers` reader threads.
  Database(ConnectionFactory factory, int readers = 2, std::string_view schema = "homeserver");
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs fn(connection) inside a write transaction. If fn throws, its changes are rolled back and the
  // exception is rethrown to the caller; the caller resumes only once the change is on disk.
  template <class F>
  Task<std::invoke_result_t<F&, sql::Connection&>> write(F fn) {
    using R = std::invoke_result_t<F&, sql::Connection&>;
    if constexpr (std::is_void_v<R>) {
      std::function<void(sql::Connection&)> erased = std::move(fn);
      co_await write_erased(erased);
    } else {
      std::optional<R> out;
      std::function<void(sql::Connection&)> erased = [&out, &fn](sql::Connection& c) { out.emplace(fn(c)); };
      co_await write_erased(erased);
      co_return std::move(*out);
    }
  }

  // interactive: the reader threads. bulk: one thread of its own, for reads that may be long (a sync
  // catching up); however many wait there, interactive reads keep their threads.
  enum class ReadKind { interactive, bulk };

  // Runs fn(connection) on a reader thread (sees committed data only).
  template <class F>
  Task<std::invoke_result_t<F&, sql::Connection&>> read(F fn, ReadKind kind = ReadKind::interactive) {
    using R = std::invoke_result_t<F&, sql::Connection&>;
    if constexpr (std::is_void_v<R>) {
      std::function<void(sql::Connection&)> erased = std::move(fn);
      co_await read_erased(erased, kind);
    } else {
      std::optional<R> out;
      std::function<void(sql::Connection&)> erased = [&out, &fn](sql::Connection& c) { out.emplace(fn(c)); };
      co_await read_erased(erased, kind);
      co_return std::move(*out);
    }
  }

  // fn must outlive the await (it is the caller's local).
  Task<void> write_erased(std::function<void(sql::Connection&)>& fn);
  Task<void> read_erased(std::function<void(sql::Connection&)>& fn, ReadKind kind = ReadKind::interactive);

  // Blocking forms for start-up and offline commands (never on an io thread).
  void write_sync(const std::function<void(sql::Connection&)>& fn);
  void read_sync(const std::function<void(sql::Connection&)>& fn);

  // Finishes queued writes and stops the threads.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald::storage
