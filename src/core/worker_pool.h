#pragma once
// Threads for blocking work (argon2id, SMTP, file I/O), so io threads never block (STYLE.md §6).
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>

#include "core/task.h"

namespace herald {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs fn on a worker thread; resumes the caller on its own executor; rethrows what fn threw.
  template <class F>
  Task<std::invoke_result_t<F&>> run(F fn) {
    using R = std::invoke_result_t<F&>;
    if constexpr (std::is_void_v<R>) {
      std::function<void()> erased = std::move(fn);
      co_await run_erased(erased);
    } else {
      std::optional<R> out;
      std::function<void()> erased = [&out, &fn] { out.emplace(fn()); };
      co_await run_erased(erased);
      co_return std::move(*out);
    }
  }

  // fn must outlive the await (it is the caller's local).
  Task<void> run_erased(std::function<void()>& fn);
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace herald
