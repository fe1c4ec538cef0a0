#pragma once
// The small driver API every store is written against, in portable SQL with $1.. placeholders
// (STYLE.md §5). sqlite/ implements it now; postgres/ will implement the same.
#include <cstdint>
#include <stdexcept>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace herald::storage::sql {

using Value = std::variant<std::nullptr_t, std::int64_t, std::string>;

// Helpers for optional parameters.
Value nullable(const std::optional<std::string>& v);
Value nullable(const std::optional<std::int64_t>& v);

class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  bool is_null(std::size_t i) const { return std::holds_alternative<std::nullptr_t>(values_.at(i)); }
  std::int64_t get_int(std::size_t i) const;
  std::string get_text(std::size_t i) const;
  std::optional<std::string> opt_text(std::size_t i) const;
  std::optional<std::int64_t> opt_int(std::size_t i) const;
  std::size_t size() const { return values_.size(); }

 private:
  std::vector<Value> values_;
};

// A unique-constraint violation, so stores can turn it into M_USER_IN_USE and the like.
struct ConstraintViolation : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Connection {
 public:
  virtual ~Connection() = default;
  virtual std::vector<Row> query(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  // Runs a statement; returns the number of rows changed.
  virtual std::int64_t execute(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  // Several statements, no parameters (migrations, transaction control).
  virtual void execute_script(std::string_view sql) = 0;
  virtual std::string_view backend() const = 0;
  // A number that changes when another connection (another process) commits to the database, so a writer
  // can tell whether anything but itself wrote since it last looked; nullopt when the driver cannot say
  // (then assume something did).
  virtual std::optional<std::int64_t> data_version() { return std::nullopt; }

  std::optional<Row> query_one(std::string_view sql, const std::vector<Value>& params = {});
};

}  // namespace herald::storage::sql
