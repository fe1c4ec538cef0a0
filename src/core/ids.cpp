#include "core/ids.h"

#include <cctype>

namespace herald {

std::string_view describe(IdError e) {
  switch (e) {
    case IdError::empty: return "is empty";
    case IdError::bad_sigil: return "has the wrong sigil";
    case IdError::no_server: return "has no server name";
    case IdError::bad_localpart: return "has an invalid localpart";
    case IdError::bad_server_name: return "has an invalid server name";
    case IdError::too_long: return "is longer than 255 bytes";
  }
  return "is invalid";
}

namespace {
bool is_dns_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.'; }
}  // namespace

bool is_valid_server_name(std::string_view name) {
  if (name.empty()) return false;
  std::string_view host = name;
  std::string_view port;
  if (name.front() == '[') {
    const auto close = name.find(']');
    if (close == std::string_view::npos) return false;
    host = name.substr(0, close + 1);
    std::string_view rest = name.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      if (port.empty()) return false;
    }
    const std::string_view inner = host.substr(1, host.size() - 2);
    if (inner.size() < 2 || inner.size() > 45) return false;
    for (char c : inner)
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
  } else {
    const auto colon = name.rfind(':');
    if (colon != std::string_view::npos) {
      host = name.substr(0, colon);
      port = name.substr(colon + 1);
      if (port.empty()) return false;
    }
    if (host.empty() || host.size() > 255) return false;
    for (char c : host)
      if (!is_dns_char(c)) return false;
  }
  if (port.size() > 5) return false;
  for (char c : port)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

bool is_valid_user_localpart(std::string_view localpart) {
  if (localpart.empty()) return false;
  for (char c : localpart) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '=' ||
                    c == '-' || c == '/' || c == '+';
    if (!ok) return false;
  }
  return true;
}

bool is_room_alias(std::string_view s) {
  const auto colon = s.find(':');
  // The localpart may hold any Unicode but ':' and NUL; the rest is a server name.
  return s.size() > 2 && s.size() <= 255 && s.front() == '#' && colon != std::string_view::npos && colon > 1 &&
         s.substr(0, colon).find('\0') == std::string_view::npos && is_valid_server_name(s.substr(colon + 1));
}

Expected<UserId, IdError> UserId::parse(std::string_view text) {
  if (text.empty()) return unexpected(IdError::empty);
  if (text.front() != '@') return unexpected(IdError::bad_sigil);
  if (text.size() > 255) return unexpected(IdError::too_long);
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return unexpected(IdError::no_server);
  const std::string_view local = text.substr(1, colon - 1);
  // Historical user IDs may use any printable ASCII but ':' (the grammar's extended set); nothing else
  // (no spaces, controls, DEL or non-ASCII), and never an empty localpart.
  if (local.empty()) return unexpected(IdError::bad_localpart);
  for (char c : local)
    if (c < 0x21 || c > 0x7e) return unexpected(IdError::bad_localpart);
  if (!is_valid_server_name(text.substr(colon + 1))) return unexpected(IdError::bad_server_name);
  return UserId(std::string(text));
}

UserId UserId::from_parts(std::string_view localpart, std::string_view server_name) {
  std::string v;
  v.reserve(localpart.size() + server_name.size() + 2);
  v += '@';
  v += localpart;
  v += ':';
  v += server_name;
  return UserId(std::move(v));
}

std::string_view UserId::localpart() const noexcept {
  const std::string_view v = value_;
  return v.substr(1, v.find(':') - 1);
}

std::string_view UserId::server_name() const noexcept {
  const std::string_view v = value_;
  return v.substr(v.find(':') + 1);
}

Expected<RoomId, IdError> RoomId::parse(std::string_view text) {
  if (text.empty()) return unexpected(IdError::empty);
  if (text.front() != '!') return unexpected(IdError::bad_sigil);
  if (text.size() > 255) return unexpected(IdError::too_long);
  if (text.size() < 2) return unexpected(IdError::bad_localpart);
  return RoomId(std::string(text));
}

}  // namespace herald
