#include "identity/invites/redacted_address.h"

namespace herald::identity {
namespace {

// Cuts at a character boundary so that a multi-byte UTF-8 character is never split.
std::string utf8_prefix(std::string_view s, std::size_t chars) {
  std::size_t i = 0, n = 0;
  while (i < s.size() && n < chars) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xc0) == 0x80) ++i;
    ++n;
  }
  return std::string(s.substr(0, i));
}

std::size_t utf8_length(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

std::string redact_part(std::string_view part, std::size_t keep) {
  const std::size_t len = utf8_length(part);
  if (len > keep) return utf8_prefix(part, keep) + "...";
  if (len > 5) return utf8_prefix(part, 3) + "...";
  if (len > 1) return utf8_prefix(part, 1) + "...";
  return "...";
}

}  // namespace

std::string redact_address(std::string_view address, std::size_t keep_chars) {
  const auto at = address.find('@');
  if (at == std::string_view::npos) return redact_part(address, keep_chars);
  return redact_part(address.substr(0, at), keep_chars) + "@" + redact_part(address.substr(at + 1), keep_chars);
}

}  // namespace herald::identity
