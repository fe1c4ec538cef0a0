#pragma once
// Small string helpers shared by every module.
#include <optional>
#include <string>
#include <string_view>

namespace herald::strings {

// Percent-decoding of one path segment or query value; nullopt on a malformed escape. plus_is_space for queries.
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space = false);
std::string percent_encode(std::string_view in);
std::string to_lower_ascii(std::string_view in);
bool starts_with(std::string_view s, std::string_view prefix);
// Escapes & < > " ' for HTML bodies.
std::string html_escape(std::string_view in);

}  // namespace herald::strings
