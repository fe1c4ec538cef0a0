#pragma once
// Untrusted JSON in: text to object, or a MatrixError (STYLE.md §4). Typed field readers that name the field.
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace herald::json_body {

inline constexpr int kMaxDepth = 32;

// Unparsable (or nested deeper than kMaxDepth) -> M_NOT_JSON; not an object -> M_BAD_JSON.
nlohmann::json parse_object(std::string_view text);
// An empty body is read as {} (for endpoints such as /logout where the spec allows no body).
nlohmann::json parse_object_or_empty(std::string_view text);
// Any JSON value, or std::nullopt when unparsable or too deep.
std::optional<nlohmann::json> try_parse(std::string_view text);

// Field readers: absent -> nullopt (or M_MISSING_PARAM for required_*); wrong type -> M_BAD_JSON naming the field.
std::optional<std::string> optional_string(const nlohmann::json& obj, std::string_view key);
std::string required_string(const nlohmann::json& obj, std::string_view key);
std::optional<bool> optional_bool(const nlohmann::json& obj, std::string_view key);
std::optional<std::int64_t> optional_int(const nlohmann::json& obj, std::string_view key);
const nlohmann::json* optional_object(const nlohmann::json& obj, std::string_view key);
const nlohmann::json* optional_array(const nlohmann::json& obj, std::string_view key);

}  // namespace herald::json_body
