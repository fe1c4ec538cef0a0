#include "storage/database.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <stdexcept>

#include "storage/migrations.h"
#include "storage/sqlite/sqlite_connection.h"
#include "tests/support/run_task.h"

namespace herald::storage {
using testing::run_task;
using testing::TempDir;

namespace {
// A coroutine with its inputs as parameters (a capturing lambda would dangle once the loop moves on).
Task<void> insert_or_fail(Database& db, int& failures, int i) {
  try {
    co_await db.write([i](sql::Connection& c) {
      c.execute("INSERT INTO t (x) VALUES ($1)", {std::int64_t{i}});
      if (i % 5 == 0) throw std::runtime_error("refused");
    });
  } catch (const std::runtime_error&) {
    ++failures;
  }
}

Task<std::int64_t> count_rows(Database& db) {
  auto n = co_await db.read([](sql::Connection& c) { return c.query_one("SELECT COUNT(*) FROM t")->get_int(0); });
  co_return n;
}
}  // namespace

TEST(Database, MigratesAndWritesDurably) {
  TempDir dir;
  const std::string path = (dir.path() / "db.sqlite").string();
  {
    Database db(sqlite::connection_factory(path));
    db.write_sync([](sql::Connection& c) { c.execute_script("CREATE TABLE t (x INTEGER)"); });
    run_task([&]() -> Task<void> {
      co_await db.write([](sql::Connection& c) { c.execute("INSERT INTO t (x) VALUES ($1)", {std::int64_t{7}}); });
      EXPECT_EQ(co_await count_rows(db), 1);
    }());
  }
  Database reopened(sqlite::connection_factory(path));
  EXPECT_EQ(run_task(count_rows(reopened)), 1);
  reopened.read_sync([](sql::Connection& c) { EXPECT_GE(schema_version(c), 1); });
}

TEST(Database, FailedJobRollsBackOnlyItself) {
  TempDir dir;
  Database db(sqlite::connection_factory((dir.path() / "db.sqlite").string()));
  db.write_sync([](sql::Connection& c) { c.execute_script("CREATE TABLE t (x INTEGER)"); });
  boost::asio::io_context io;
  int failures = 0;
  // Many concurrent writers land in the same group commit; the failing ones must not take others down.
  for (int i = 0; i < 50; ++i) {
    boost::asio::co_spawn(io, insert_or_fail(db, failures, i), boost::asio::detached);
  }
  io.run();
  EXPECT_EQ(failures, 10);
  EXPECT_EQ(run_task(count_rows(db)), 40);
}

TEST(Database, ExceptionsReachTheCaller) {
  TempDir dir;
  Database db(sqlite::connection_factory((dir.path() / "db.sqlite").string()));
  EXPECT_THROW(run_task(db.write([](sql::Connection& c) { c.execute("SELECT * FROM no_such_table"); })),
               std::runtime_error);
  EXPECT_THROW(run_task(db.read([](sql::Connection& c) { c.execute("SELECT * FROM no_such_table"); })),
               std::runtime_error);
}

TEST(Migrations, EveryBackendHasTheSameNumbersPerSchema) {
  std::map<std::string, std::map<std::string, std::vector<int>>> by_schema;  // schema -> backend -> versions
  for (const auto& m : embedded_migrations()) by_schema[m.schema][m.backend].push_back(m.version);
  ASSERT_FALSE(by_schema["homeserver"]["sqlite"].empty());
  ASSERT_FALSE(by_schema["identity"]["sqlite"].empty());
  for (const auto& [schema, by_backend] : by_schema) {
    for (const auto& [backend, versions] : by_backend) {
      for (std::size_t i = 0; i < versions.size(); ++i) EXPECT_EQ(versions[i], static_cast<int>(i + 1)) << schema << backend;
      EXPECT_EQ(versions, by_backend.at("sqlite")) << schema << " " << backend;
    }
  }
}

}  // namespace herald::storage
