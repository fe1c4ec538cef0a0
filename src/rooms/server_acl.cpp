#include "rooms/server_acl.h"

#include <cctype>
#include <nlohmann/json.hpp>
#include <string>

namespace herald::rooms {
namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

// The host part of a server name: "example.org:8448" -> "example.org", "[::1]:8448" -> "[::1]".
std::string_view host_of(std::string_view server) {
  if (!server.empty() && server.front() == '[') {
    const auto close = server.find(']');
    return close == std::string_view::npos ? server : server.substr(0, close + 1);
  }
  const auto colon = server.rfind(':');
  return colon == std::string_view::npos ? server : server.substr(0, colon);
}

bool is_ipv4_literal(std::string_view host) {
  int parts = 0;
  std::size_t digits = 0;
  for (char c : host) {
    if (c == '.') {
      if (digits == 0) return false;
      ++parts;
      digits = 0;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      if (++digits > 3) return false;
    } else {
      return false;
    }
  }
  return digits > 0 && parts == 3;
}

bool is_ip_literal(std::string_view host) { return (!host.empty() && host.front() == '[') || is_ipv4_literal(host); }

bool any_matches(const nlohmann::json& content, const char* key, std::string_view host) {
  auto it = content.find(key);
  if (it == content.end() || !it->is_array()) return false;
  for (const auto& entry : *it) {
    if (entry.is_string() && server_glob_matches(entry.get_ref<const std::string&>(), host)) return true;
  }
  return false;
}

}  // namespace

bool server_glob_matches(std::string_view pattern, std::string_view text) {
  // Iterative wildcard matching with one backtrack point (the last '*').
  std::size_t p = 0, t = 0, star = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || lower(pattern[p]) == lower(text[t]))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_t = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool server_acl_allows(const nlohmann::json& content, std::string_view server_name) {
  if (!content.is_object()) return true;
  const std::string_view host = host_of(server_name);
  auto literals = content.find("allow_ip_literals");
  const bool allow_ip_literals = literals == content.end() || !literals->is_boolean() || literals->get<bool>();
  if (!allow_ip_literals && is_ip_literal(host)) return false;
  if (any_matches(content, "deny", host)) return false;
  return any_matches(content, "allow", host);
}

}  // namespace herald::rooms
