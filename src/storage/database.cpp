#include "storage/database.h"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "core/log.h"
#include "storage/migrations.h"

namespace herald::storage {
namespace {
constexpr std::size_t kMaxGroup = 512;

struct WriteJob {
  std::function<void(sql::Connection&)>* work;
  std::function<void(std::exception_ptr)> complete;
};
}  // namespace

struct Database::Impl {
  ConnectionFactory factory;
  std::unique_ptr<sql::Connection> writer;
  std::thread writer_thread;
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<WriteJob> queue;
  bool stopping = false;

  std::mutex readers_mutex;
  std::vector<std::unique_ptr<sql::Connection>> idle_readers;
  std::unique_ptr<boost::asio::thread_pool> reader_pool;
  // Long reads (catch-up syncs) queue here, on their own thread, so they cannot take every reader.
  std::unique_ptr<boost::asio::thread_pool> bulk_pool;

  void writer_loop() {
    for (;;) {
      std::vector<WriteJob> group;
      {
        std::unique_lock lock(mutex);
        wake.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) return;
        while (!queue.empty() && group.size() < kMaxGroup) {
          group.push_back(std::move(queue.front()));
          queue.pop_front();
        }
      }
      run_group(group);
    }
  }

  // Group commit: every job runs in its own savepoint inside one transaction, so one job's failure
  // rolls back only that job, and all of them are acknowledged after a single durable COMMIT.
  void run_group(std::vector<WriteJob>& group) {
    std::vector<std::exception_ptr> errors(group.size());
    std::exception_ptr commit_error;
    try {
      // Prepared (cached) statements rather than scripts: these run for every job.
      writer->execute("BEGIN IMMEDIATE");
      for (std::size_t i = 0; i < group.size(); ++i) {
        writer->execute("SAVEPOINT job");
        try {
          (*group[i].work)(*writer);
          writer->execute("RELEASE job");
        } catch (...) {
          errors[i] = std::current_exception();
          writer->execute("ROLLBACK TO job");
          writer->execute("RELEASE job");
        }
      }
      writer->execute("COMMIT");
    } catch (...) {
      commit_error = std::current_exception();
      try {
        writer->execute_script("ROLLBACK");
      } catch (...) {
      }
      log::error("database commit failed; {} writes refused", group.size());
    }
    for (std::size_t i = 0; i < group.size(); ++i) group[i].complete(commit_error ? commit_error : errors[i]);
  }

  std::unique_ptr<sql::Connection> take_reader() {
    {
      std::lock_guard lock(readers_mutex);
      if (!idle_readers.empty()) {
        auto c = std::move(idle_readers.back());
        idle_readers.pop_back();
        return c;
      }
    }
    return factory(true);
  }
  void give_back(std::unique_ptr<sql::Connection> c) {
    std::lock_guard lock(readers_mutex);
    idle_readers.push_back(std::move(c));
  }
};

Database::Database(ConnectionFactory factory, int readers, std::string_view schema) : impl_(std::make_unique<Impl>()) {
  impl_->factory = std::move(factory);
  impl_->writer = impl_->factory(false);
  apply_migrations(*impl_->writer, schema);
  impl_->reader_pool = std::make_unique<boost::asio::thread_pool>(static_cast<std::size_t>(std::max(1, readers)));
  impl_->bulk_pool = std::make_unique<boost::asio::thread_pool>(1);
  impl_->writer_thread = std::thread([impl = impl_.get()] { impl->writer_loop(); });
}

Database::~Database() { close(); }

void Database::close() {
  if (!impl_ || !impl_->writer_thread.joinable()) return;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->wake.notify_all();
  impl_->writer_thread.join();
  impl_->reader_pool->join();
  impl_->bulk_pool->join();
}

namespace {
// Completes an awaiting coroutine on its own executor with the job's outcome.
template <class Handler>
std::function<void(std::exception_ptr)> resumer(Handler handler) {
  auto shared = std::make_shared<Handler>(std::move(handler));
  return [shared](std::exception_ptr error) {
    auto ex = boost::asio::get_associated_executor(*shared);
    boost::asio::post(ex, [shared, error]() mutable { (*shared)(error); });
  };
}
}  // namespace

Task<void> Database::write_erased(std::function<void(sql::Connection&)>& fn) {
  auto initiate = [this, &fn](auto handler) {
    {
      std::lock_guard lock(impl_->mutex);
      impl_->queue.push_back(WriteJob{&fn, resumer(std::move(handler))});
    }
    impl_->wake.notify_one();
  };
  co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>, void(std::exception_ptr)>(
      initiate, boost::asio::use_awaitable);
}

Task<void> Database::read_erased(std::function<void(sql::Connection&)>& fn, ReadKind kind) {
  boost::asio::thread_pool& pool = kind == ReadKind::bulk ? *impl_->bulk_pool : *impl_->reader_pool;
  auto initiate = [this, &fn, &pool](auto handler) {
    auto complete = resumer(std::move(handler));
    boost::asio::post(pool, [this, &fn, complete] {
      std::exception_ptr error;
      try {
        auto conn = impl_->take_reader();
        try {
          fn(*conn);
        } catch (...) {
          error = std::current_exception();
        }
        impl_->give_back(std::move(conn));
      } catch (...) {
        error = std::current_exception();
      }
      complete(error);
    });
  };
  co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>, void(std::exception_ptr)>(
      initiate, boost::asio::use_awaitable);
}

void Database::write_sync(const std::function<void(sql::Connection&)>& fn) {
  std::promise<void> done;
  std::function<void(sql::Connection&)> work = fn;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->queue.push_back(WriteJob{&work, [&done](std::exception_ptr e) {
                                      if (e) done.set_exception(e);
                                      else done.set_value();
                                    }});
  }
  impl_->wake.notify_one();
  done.get_future().get();
}

void Database::read_sync(const std::function<void(sql::Connection&)>& fn) {
  auto conn = impl_->take_reader();
  fn(*conn);
  impl_->give_back(std::move(conn));
}

}  // namespace herald::storage
