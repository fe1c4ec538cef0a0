#include "storage/sqlite/sqlite_connection.h"

#include <sqlite3.h>

#include <filesystem>
#include <stdexcept>
#include <unordered_map>

namespace herald::storage::sqlite {
namespace {

class SqliteConnection final : public sql::Connection {
 public:
  SqliteConnection(const std::string& path, bool read_only) {
    if (!read_only) {
      const auto parent = std::filesystem::path(path).parent_path();
      if (!parent.empty()) std::filesystem::create_directories(parent);
    }
    const int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                      SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw std::runtime_error("cannot open SQLite database " + path + ": " + msg);
    }
    sqlite3_busy_timeout(db_, 10000);
    // The writer's small allocations (records, cursors, the savepoint journal's bookkeeping) from its own
    // lookaside pool rather than malloc, whose arena locks the io threads also take: 20x SQLite's default.
    if (!read_only) sqlite3_db_config(db_, SQLITE_DBCONFIG_LOOKASIDE, nullptr, 1200, 2000);
    // Checkpoints run on the committing (writer) thread; every 10,000 pages (~40 MB of WAL) instead of
    // SQLite's 1,000 they rewrite hot pages into the database file ten times less often (bench/README.md).
    if (!read_only) execute_script("PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=10000;");
    // temp_store=MEMORY: the writer's per-job savepoints journal into memory, not a temp file that
    // is created, written and unlinked on every group commit.
    execute_script("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;");
  }

  ~SqliteConnection() override {
    for (auto& [sql, s] : statements_) sqlite3_finalize(s.stmt);
    sqlite3_close(db_);
  }

  std::vector<sql::Row> query(std::string_view sql, const std::vector<sql::Value>& params) override {
    sqlite3_stmt* stmt = prepare(sql, params);
    std::vector<sql::Row> rows;
    const int columns = sqlite3_column_count(stmt);
    int rc;
    const Unbind unbind(stmt);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::vector<sql::Value> values;
      values.reserve(static_cast<std::size_t>(columns));
      for (int i = 0; i < columns; ++i) {
        switch (sqlite3_column_type(stmt, i)) {
          case SQLITE_NULL: values.emplace_back(nullptr); break;
          case SQLITE_INTEGER: values.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(stmt, i))); break;
          default: {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_blob(stmt, i));
            values.emplace_back(std::string(text ? text : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt, i))));
          }
        }
      }
      rows.emplace_back(std::move(values));
    }
    finish(stmt, rc, sql);
    return rows;
  }

  std::int64_t execute(std::string_view sql, const std::vector<sql::Value>& params) override {
    sqlite3_stmt* stmt = prepare(sql, params);
    int rc;
    const Unbind unbind(stmt);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    finish(stmt, rc, sql);
    return sqlite3_changes64(db_);
  }

  void execute_script(std::string_view sql) override {
    char* err = nullptr;
    const std::string text(sql);
    if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      throw std::runtime_error("SQLite: " + msg);
    }
  }

  std::string_view backend() const override { return "sqlite"; }
  std::optional<std::int64_t> data_version() override {
    // Unchanged by this connection's own commits: only other connections move it.
    return query_one("PRAGMA data_version")->get_int(0);
  }

 private:
  sqlite3_stmt* prepare(std::string_view sql, const std::vector<sql::Value>& params) {
    auto it = statements_.find(sql);
    if (it == statements_.end()) {
      sqlite3_stmt* stmt;
      if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt,
                             nullptr) != SQLITE_OK) {
        throw std::runtime_error("SQLite prepare: " + std::string(sqlite3_errmsg(db_)) + " in: " + std::string(sql));
      }
      it = statements_.emplace(std::string(sql), Statement{stmt, {}}).first;
    }
    Statement& s = it->second;
    // Portable SQL numbers parameters $1..$n; SQLite treats them as names. Each name's index is looked up
    // once per statement, not on every run (a linear search of the statement's names).
    while (s.index.size() < params.size()) {
      const std::string name = "$" + std::to_string(s.index.size() + 1);
      s.index.push_back(sqlite3_bind_parameter_index(s.stmt, name.c_str()));
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      const int index = s.index[i];
      if (index == 0) continue;
      const sql::Value& v = params[i];
      int rc;
      if (std::holds_alternative<std::nullptr_t>(v)) rc = sqlite3_bind_null(s.stmt, index);
      else if (const auto* n = std::get_if<std::int64_t>(&v)) rc = sqlite3_bind_int64(s.stmt, index, *n);
      else {
        // Not copied (a PDU is kilobytes): `params` outlives the run, and Unbind drops the pointer after it.
        const auto& text = std::get<std::string>(v);
        rc = sqlite3_bind_text64(s.stmt, index, text.data(), text.size(), SQLITE_STATIC, SQLITE_UTF8);
      }
      if (rc != SQLITE_OK) {
        const std::string msg = sqlite3_errmsg(db_);
        sqlite3_clear_bindings(s.stmt);
        throw std::runtime_error("SQLite bind: " + msg);
      }
    }
    return s.stmt;
  }

  // Resets a statement and drops its bindings (pointers into the caller's parameters) however the run ends.
  struct Unbind {
    explicit Unbind(sqlite3_stmt* s) : stmt(s) {}
    Unbind(const Unbind&) = delete;
    Unbind& operator=(const Unbind&) = delete;
    ~Unbind() {
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
    }
    sqlite3_stmt* stmt;
  };

  void finish(sqlite3_stmt* stmt, int rc, std::string_view sql) {
    if (rc == SQLITE_DONE) return;
    const std::string msg = sqlite3_errmsg(db_);
    if ((rc & 0xff) == SQLITE_CONSTRAINT) throw sql::ConstraintViolation("SQLite constraint: " + msg);
    throw std::runtime_error("SQLite step: " + msg + " in: " + std::string(sql));
  }

  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Statement {
    sqlite3_stmt* stmt;
    std::vector<int> index;  // the SQLite index of $1, $2...; 0 where the statement does not use it
  };
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, Statement, Hash, std::equal_to<>> statements_;
};

}  // namespace

std::unique_ptr<sql::Connection> open(const std::string& path, bool read_only) {
  return std::make_unique<SqliteConnection>(path, read_only);
}

std::function<std::unique_ptr<sql::Connection>(bool)> connection_factory(std::string path) {
  return [path = std::move(path)](bool read_only) { return open(path, read_only); };
}

}  // namespace herald::storage::sqlite
