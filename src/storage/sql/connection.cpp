#include "storage/sql/connection.h"

#include <stdexcept>

namespace herald::storage::sql {

Value nullable(const std::optional<std::string>& v) { return v ? Value(*v) : Value(nullptr); }
Value nullable(const std::optional<std::int64_t>& v) { return v ? Value(*v) : Value(nullptr); }

std::int64_t Row::get_int(std::size_t i) const {
  const Value& v = values_.at(i);
  if (const auto* n = std::get_if<std::int64_t>(&v)) return *n;
  if (const auto* s = std::get_if<std::string>(&v)) return std::stoll(*s);
  throw std::runtime_error("column " + std::to_string(i) + " is NULL");
}

std::string Row::get_text(std::size_t i) const {
  const Value& v = values_.at(i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* n = std::get_if<std::int64_t>(&v)) return std::to_string(*n);
  throw std::runtime_error("column " + std::to_string(i) + " is NULL");
}

std::optional<std::string> Row::opt_text(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return get_text(i);
}

std::optional<std::int64_t> Row::opt_int(std::size_t i) const {
  if (is_null(i)) return std::nullopt;
  return get_int(i);
}

std::optional<Row> Connection::query_one(std::string_view sql, const std::vector<Value>& params) {
  std::vector<Row> rows = query(sql, params);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

}  // namespace herald::storage::sql
