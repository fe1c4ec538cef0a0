#include "core/worker_pool.h"

#include <boost/asio/async_result.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>

namespace herald {

struct WorkerPool::Impl {
  explicit Impl(int threads) : pool(static_cast<std::size_t>(threads)) {}
  boost::asio::thread_pool pool;
};

WorkerPool::WorkerPool(int threads) : impl_(std::make_unique<Impl>(threads)) {}
WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::stop() {
  impl_->pool.stop();
  impl_->pool.join();
}

Task<void> WorkerPool::run_erased(std::function<void()>& fn) {
  auto initiate = [this, &fn](auto handler) {
    auto work = [&fn, handler = std::move(handler)]() mutable {
      std::exception_ptr error;
      try {
        fn();
      } catch (...) {
        error = std::current_exception();
      }
      auto ex = boost::asio::get_associated_executor(handler);
      boost::asio::post(ex, [handler = std::move(handler), error]() mutable { handler(error); });
    };
    boost::asio::post(impl_->pool, std::move(work));
  };
  co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>, void(std::exception_ptr)>(
      initiate, boost::asio::use_awaitable);
}

}  // namespace herald
