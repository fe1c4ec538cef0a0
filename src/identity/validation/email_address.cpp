#include "identity/validation/email_address.h"

namespace herald::identity {

std::optional<std::string> canonical_email(std::string_view text) {
  if (text.empty() || text.size() > kMaxEmailLength) return std::nullopt;
  const auto at = text.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == text.size()) return std::nullopt;
  const std::string_view domain = text.substr(at + 1);
  if (domain.front() == '.' || domain.back() == '.' || domain.find("..") != std::string_view::npos) return std::nullopt;
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    // No spaces, controls or characters that would mean something in an SMTP command or a header.
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' || c == ';' ||
        c == ':' || c == '\\' || c == '"' || c == '[' || c == ']')
      return std::nullopt;
    if (c == '@' && i != at) return std::nullopt;
    out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
  return out;
}

std::optional<std::string> canonical_address(const std::string& medium, const std::string& address) {
  if (medium == "email") return canonical_email(address);
  if (address.empty() || address.size() > kMaxEmailLength) return std::nullopt;
  return address;
}

bool is_valid_client_secret(std::string_view secret) {
  if (secret.empty() || secret.size() > 255) return false;
  for (char c : secret) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
                    c == '=' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace herald::identity
