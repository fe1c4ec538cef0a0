#include "core/json_body.h"

#include <nlohmann/json.hpp>

#include "core/matrix_error.h"

namespace herald::json_body {

std::optional<nlohmann::json> try_parse(std::string_view text) {
  // nlohmann's lexer reads a NUL byte as the end of input, so "{}\0garbage" would parse; raw NUL is never
  // valid JSON anyway (strings escape control characters).
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  bool too_deep = false;
  const nlohmann::json::parser_callback_t limit_depth = [&too_deep](int depth, nlohmann::json::parse_event_t,
                                                                      nlohmann::json&) {
    if (depth > kMaxDepth) too_deep = true;
    return true;
  };
  nlohmann::json value = nlohmann::json::parse(text.begin(), text.end(), limit_depth, /*allow_exceptions=*/false);
  if (value.is_discarded() || too_deep) return std::nullopt;
  return value;
}

nlohmann::json parse_object(std::string_view text) {
  std::optional<nlohmann::json> value = try_parse(text);
  if (!value) throw MatrixError(Errc::not_json, "Content not JSON.");
  if (!value->is_object()) throw MatrixError(Errc::bad_json, "Content must be a JSON object.");
  return std::move(*value);
}

nlohmann::json parse_object_or_empty(std::string_view text) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return nlohmann::json::object();
  return parse_object(text);
}

namespace {
const nlohmann::json* find(const nlohmann::json& obj, std::string_view key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}
[[noreturn]] void wrong_type(std::string_view key, std::string_view type) {
  throw MatrixError(Errc::bad_json, "'" + std::string(key) + "' must be " + std::string(type));
}
}  // namespace

std::optional<std::string> optional_string(const nlohmann::json& obj, std::string_view key) {
  const nlohmann::json* v = find(obj, key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_string()) wrong_type(key, "a string");
  return v->get<std::string>();
}

std::string required_string(const nlohmann::json& obj, std::string_view key) {
  std::optional<std::string> v = optional_string(obj, key);
  if (!v) throw MatrixError(Errc::missing_param, "Missing '" + std::string(key) + "'");
  return std::move(*v);
}

std::optional<bool> optional_bool(const nlohmann::json& obj, std::string_view key) {
  const nlohmann::json* v = find(obj, key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_boolean()) wrong_type(key, "a boolean");
  return v->get<bool>();
}

std::optional<std::int64_t> optional_int(const nlohmann::json& obj, std::string_view key) {
  const nlohmann::json* v = find(obj, key);
  if (!v || v->is_null()) return std::nullopt;
  if (!v->is_number_integer()) wrong_type(key, "an integer");
  return v->get<std::int64_t>();
}

const nlohmann::json* optional_object(const nlohmann::json& obj, std::string_view key) {
  const nlohmann::json* v = find(obj, key);
  if (!v || v->is_null()) return nullptr;
  if (!v->is_object()) wrong_type(key, "an object");
  return v;
}

const nlohmann::json* optional_array(const nlohmann::json& obj, std::string_view key) {
  const nlohmann::json* v = find(obj, key);
  if (!v || v->is_null()) return nullptr;
  if (!v->is_array()) wrong_type(key, "an array");
  return v;
}

}  // namespace herald::json_body
